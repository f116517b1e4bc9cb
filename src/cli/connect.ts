// `connect --server NAME`: the stdio bridge an MCP client launches instead of the upstream server.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runBridge } from '../bridge/bridge.js';
import { loadOrExit, fail } from './daemon.js';
import { locate, resolveConfigPath, authModeOf } from '../config/locate.js';
import type { Credentials } from '../protocol/hello.js';

export function registerConnect(program: Command): void {
  program
    .command('connect')
    .description('bridge stdio to the daemon for one server (starts the daemon if needed)')
    .requiredOption('-s, --server <name>', 'server name from the config')
    .option('-c, --config <file>', 'config file')
    .option('--key-file <file>', 'file holding an API key (api_key auth); default $MCP_GUARD_API_KEY')
    .option('--timeout <seconds>', 'how long to wait for the daemon to start', '30')
    .action(async (opts: { server: string; config?: string; keyFile?: string; timeout: string }) => {
      // Only the socket's location is read here; the daemon validates the whole config.
      const path = resolveConfigPath(opts.config);
      let located;
      try {
        if (typeof path !== 'string') throw new Error('no config');
        located = locate(path);
      } catch {
        await loadOrExit(opts.config); // reports the precise problem and exits
        fail('cannot read the config');
      }
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) fail(`--timeout must be a positive number of seconds, not '${opts.timeout}'`, 2);
      const credentials: Credentials = {};
      // A credential that cannot be loaded is answered as an unauthenticated refusal on the client's
      // pending requests by the bridge, not by exiting before the client hears anything.
      let refuse: string | undefined;
      if (opts.keyFile) {
        try {
          credentials.apiKey = readFileSync(opts.keyFile, 'utf8').trim();
        } catch (err) {
          refuse = `cannot read --key-file ${opts.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
        }
      } else if (process.env.MCP_GUARD_API_KEY) {
        credentials.apiKey = process.env.MCP_GUARD_API_KEY;
      }
      if (process.env.MCP_GUARD_TOKEN) credentials.token = process.env.MCP_GUARD_TOKEN;
      else if (authModeOf(located.path) === 'oauth') {
        // The token from `mcp-guard auth login`, refreshed when it is about to expire.
        const loaded = await loadOrExit(opts.config);
        const { currentAccessToken } = await import('../identity/oauth-login.js');
        try {
          credentials.token = await currentAccessToken(loaded.config.auth.oauth!, loaded.home);
        } catch (err) {
          const m = (err as Error).message;
          refuse = /auth login/.test(m) ? m : `${m} (run \`mcp-guard auth login\`)`;
        }
      }
      const code = await runBridge({
        loaded: located,
        server: opts.server,
        credentials: Object.keys(credentials).length ? credentials : undefined,
        refuse,
        timeoutMs: timeout * 1000,
      });
      process.exit(code);
    });
}
