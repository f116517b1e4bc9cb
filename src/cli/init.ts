// `init`: find the MCP servers that Claude Desktop, Claude Code, Cursor and VS Code already use and
// write an mcp-guard.yaml that proxies them, then say how to point each client at the bridge.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { defaultHome } from '../config/locate.js';
import { privateDir, privateFile } from '../protocol/private-files.js';

interface Found {
  client: string;
  file: string;
  name: string;
  server: Record<string, unknown>;
}

/** Where each client keeps its MCP servers, and under which key. */
export function clientConfigFiles(home = homedir(), cwd = process.cwd()): { client: string; file: string; key: string }[] {
  return [
    { client: 'Claude Desktop', file: join(home, 'Library/Application Support/Claude/claude_desktop_config.json'), key: 'mcpServers' },
    { client: 'Claude Desktop', file: join(home, '.config/Claude/claude_desktop_config.json'), key: 'mcpServers' },
    { client: 'Claude Code', file: join(home, '.claude.json'), key: 'mcpServers' },
    { client: 'Claude Code', file: join(cwd, '.mcp.json'), key: 'mcpServers' },
    { client: 'Cursor', file: join(home, '.cursor/mcp.json'), key: 'mcpServers' },
    { client: 'Cursor', file: join(cwd, '.cursor/mcp.json'), key: 'mcpServers' },
    { client: 'VS Code', file: join(cwd, '.vscode/mcp.json'), key: 'servers' },
  ];
}

/** The servers of every client config found; entries that already go through mcp-guard are skipped. */
export function discover(files = clientConfigFiles()): { found: Found[]; problems: string[] } {
  const found: Found[] = [];
  const problems: string[] = [];
  for (const { client, file, key } of files) {
    if (!existsSync(file)) continue;
    let doc: any;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    const servers = doc?.[key];
    if (!servers || typeof servers !== 'object') continue;
    for (const [name, s] of Object.entries<any>(servers)) {
      if (!s || typeof s !== 'object') continue;
      const isGuard = String(s.command ?? '').endsWith('mcp-guard') && Array.isArray(s.args) && s.args[0] === 'connect';
      if (isGuard) continue;
      found.push({ client, file, name, server: s });
    }
  }
  return { found, problems };
}

/** A client entry as an mcp-guard server, or why it cannot be one. */
export function toServer(s: Record<string, any>): Record<string, unknown> | string {
  const type = String(s.type ?? s.transport ?? (s.url ? 'http' : 'stdio')).toLowerCase();
  if (type === 'stdio' || (!s.url && s.command)) {
    if (typeof s.command !== 'string' || !s.command) return 'no command';
    const out: Record<string, unknown> = { transport: 'stdio', command: s.command };
    if (Array.isArray(s.args) && s.args.length) out.args = s.args.map(String);
    if (s.env && typeof s.env === 'object' && Object.keys(s.env).length) out.env = s.env;
    if (typeof s.cwd === 'string') out.cwd = s.cwd;
    return out;
  }
  if (typeof s.url !== 'string') return 'no url';
  const out: Record<string, unknown> = { transport: type === 'sse' ? 'sse' : 'streamable-http', url: s.url };
  if (s.headers && typeof s.headers === 'object' && Object.keys(s.headers).length) out.headers = s.headers;
  return out;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write mcp-guard.yaml from the MCP servers your clients (Claude Desktop/Code, Cursor, VS Code) already use')
    .option('-o, --output <file>', 'where to write the config', join(defaultHome(), 'mcp-guard.yaml'))
    .option('--force', 'overwrite an existing file')
    .option('--print', 'print the config instead of writing it')
    .action((opts: { output: string; force?: boolean; print?: boolean }) => {
      const { found, problems } = discover();
      for (const p of problems) process.stderr.write(`mcp-guard: skipped ${p}\n`);
      const servers: Record<string, unknown> = {};
      const lines: string[] = [];
      for (const f of found) {
        const s = toServer(f.server);
        const name = f.name.replace(/[^A-Za-z0-9_.-]/g, '-');
        if (typeof s === 'string') {
          lines.push(`  skipped ${f.name} (${f.client}, ${f.file}): ${s}`);
          continue;
        }
        if (servers[name] && JSON.stringify(servers[name]) !== JSON.stringify(s)) {
          lines.push(`  skipped ${f.name} from ${f.client}: another client defines a different '${name}'`);
          continue;
        }
        servers[name] = s;
        lines.push(`  ${name.padEnd(24)} from ${f.client} (${f.file})`);
      }
      if (Object.keys(servers).length === 0) {
        process.stderr.write('mcp-guard: no MCP servers found in Claude Desktop, Claude Code, Cursor or VS Code configs. Start from mcp-guard.example.yaml.\n');
        process.exit(1);
      }
      const text =
        '# Written by `mcp-guard init`. Add policies per server; check with `mcp-guard validate`.\n' +
        stringify({ servers, auth: { mode: 'os' }, pii: { enabled: true }, audit: { enabled: true } });
      if (opts.print) {
        process.stdout.write(text);
        return;
      }
      const out = resolve(opts.output);
      if (existsSync(out) && !opts.force) {
        process.stderr.write(`mcp-guard: ${out} exists; use --force to overwrite or --print to see the result\n`);
        process.exit(1);
      }
      privateDir(dirname(out));
      // Client configs often carry upstream API keys in `env`: the file is private to its owner,
      // also when --force overwrites one that was not.
      privateFile(out);
      writeFileSync(out, text);
      process.stdout.write(
        [
          `wrote ${out} with ${Object.keys(servers).length} server(s):`,
          ...lines,
          '',
          'Now point each client at the bridge, e.g. in its mcpServers:',
          `  "${Object.keys(servers)[0]}": { "command": "mcp-guard", "args": ["connect", "--server", "${Object.keys(servers)[0]}"] }`,
          '',
        ].join('\n'),
      );
    });
}
