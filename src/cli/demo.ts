// `demo`: the embedded default. Runs a private daemon on mcp-guard.example.yaml, connects the
// official MCP SDK client through the real bridge to the reference `server-everything`, and
// shows what the proxy lets through, changes and refuses. Leaves nothing running.
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { control } from './control.js';
import { waitForExit } from '../daemon/lock.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../mcp-guard.example.yaml', import.meta.url));

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a private daemon on the example config and call a real MCP server through it')
    .option('-c, --config <file>', 'config file', EXAMPLE)
    .option('-s, --server <name>', 'server to call', 'everything')
    .action(async (opts: { config: string; server: string }) => {
      const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
      const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
      const { loadConfig } = await import('../config/loader.js');
      const home = mkdtempSync(join(tmpdir(), 'mcp-guard-demo-'));
      process.env.MCP_GUARD_HOME = home;
      const say = (s: string) => process.stdout.write(s + '\n');
      const loaded = await loadConfig(opts.config);
      say(`mcp-guard demo: config ${loaded.path}, private daemon home ${home}`);
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [MAIN, 'connect', '--server', opts.server, '--config', loaded.path],
        env: { ...(process.env as Record<string, string>), MCP_GUARD_HOME: home },
        stderr: 'inherit',
      });
      const client = new Client({ name: 'mcp-guard-demo', version: '1.0.0' });
      let code = 0;
      try {
        const t0 = Date.now();
        await client.connect(transport);
        const v = client.getServerVersion();
        say(`\n1. connected through the bridge (daemon auto-started) to ${v?.name} ${v?.version} in ${Date.now() - t0} ms`);
        const { tools } = await client.listTools();
        say(`2. tools/list: ${tools.length} tools visible: ${tools.map((t) => t.name).join(', ')}`);
        const echo = await client.callTool({ name: 'echo', arguments: { message: 'hello through mcp-guard' } });
        say(`3. tools/call echo -> ${JSON.stringify((echo.content as any[])[0]?.text)}`);
        const pii = await client.callTool({ name: 'echo', arguments: { message: 'card 4111 1111 1111 1111, mail jane.doe@example.com' } }).then(
          (r) => `allowed: ${JSON.stringify((r.content as any[])[0]?.text)}`,
          (e) => `refused: ${(e as Error).message}`,
        );
        say(`4. tools/call echo with a card number and an email -> ${pii}`);
        const mail = await client.callTool({ name: 'echo', arguments: { message: 'write to jane.doe@example.com' } });
        say(`   tools/call echo with only the email -> ${JSON.stringify((mail.content as any[])[0]?.text)}`);
        const denied = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 1 } }).then(
          () => 'allowed',
          (e) => `refused: ${(e as Error).message}`,
        );
        say(`5. tools/call of a denied tool -> ${denied}`);
        const status: any = await control(loaded.socketPath, 'status');
        say(`6. mcp-guard status: daemon pid ${status.pid}, ${status.sessions} live session(s)`);
        await client.close();
        await new Promise((r) => setTimeout(r, 200)); // the audit writer commits at least every 50 ms
        say('\n7. the audit log of this session (mcp-guard logs):');
        const logs = spawnSync(process.execPath, [MAIN, 'logs', '--db', join(home, 'audit.db'), '--limit', '20'], { encoding: 'utf8' });
        process.stdout.write(logs.stdout || logs.stderr);
      } catch (err) {
        code = 1;
        process.stderr.write(`demo failed: ${(err as Error).message}\n`);
      } finally {
        await client.close().catch(() => {});
        const r = await control(loaded.socketPath, 'stop').catch(() => undefined);
        if (r?.ok) await waitForExit(r.pid, 15_000);
        say(code === 0 ? '\ndemo finished; daemon stopped.' : '\ndemo failed; daemon stopped.');
        if (process.env.MCP_GUARD_DEMO_KEEP !== '1') rmSync(home, { recursive: true, force: true });
      }
      process.exit(code);
    });
}
