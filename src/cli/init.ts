// `init`: find the MCP servers that Claude Desktop, Claude Code, Cursor and VS Code already use and
// write an mcp-guard.yaml that proxies them, then say how to point each client at the bridge.
// Every server left out, renamed or rewritten is reported (on stderr, and as a comment in the file):
// a config that silently lacks a server, or holds a client's placeholder as a value, misleads.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { Document, isMap, isScalar } from 'yaml';
import { defaultHome } from '../config/locate.js';
import { privateDir, privateFile } from '../protocol/private-files.js';

/** A client config file and where in it the servers are. */
export interface ClientFile {
  client: string;
  /** Short name of the client, used to tell apart two different servers of the same name. */
  slug: string;
  file: string;
  /** The key of the server map at the top of the file. */
  key: string;
  /** The directory `${workspaceFolder}` stands for (project-level files). */
  workspace?: string;
  /** `~/.claude.json`: also the per-project servers under `projects.<dir>.mcpServers`. */
  claudeProjects?: boolean;
}

/** One server entry of a client config. */
export interface Found {
  client: string;
  slug: string;
  file: string;
  name: string;
  server: Record<string, unknown>;
  workspace?: string;
  /** VS Code's `inputs` of the same file: id → description. */
  inputs?: Map<string, string>;
}

/** Where each client keeps its MCP servers, and under which key. */
export function clientConfigFiles(home = homedir(), cwd = process.cwd()): ClientFile[] {
  return [
    { client: 'Claude Desktop', slug: 'claude-desktop', file: join(home, 'Library/Application Support/Claude/claude_desktop_config.json'), key: 'mcpServers' },
    { client: 'Claude Desktop', slug: 'claude-desktop', file: join(home, '.config/Claude/claude_desktop_config.json'), key: 'mcpServers' },
    { client: 'Claude Code', slug: 'claude-code', file: join(home, '.claude.json'), key: 'mcpServers', claudeProjects: true },
    { client: 'Claude Code', slug: 'claude-code-project', file: join(cwd, '.mcp.json'), key: 'mcpServers', workspace: cwd },
    { client: 'Cursor', slug: 'cursor', file: join(home, '.cursor/mcp.json'), key: 'mcpServers' },
    { client: 'Cursor', slug: 'cursor-project', file: join(cwd, '.cursor/mcp.json'), key: 'mcpServers', workspace: cwd },
    { client: 'VS Code', slug: 'vscode-user', file: join(home, 'Library/Application Support/Code/User/mcp.json'), key: 'servers' },
    { client: 'VS Code', slug: 'vscode-user', file: join(home, '.config/Code/User/mcp.json'), key: 'servers' },
    { client: 'VS Code', slug: 'vscode', file: join(cwd, '.vscode/mcp.json'), key: 'servers', workspace: cwd },
  ];
}

/** JSON with comments and trailing commas (VS Code's mcp.json is JSONC); throws with line and column. */
export function readJsonc(file: string): unknown {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const errors: ParseError[] = [];
  const doc = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0]!;
    const before = text.slice(0, e.offset).split('\n');
    throw new Error(`${printParseErrorCode(e.error)} at line ${before.length}, column ${before[before.length - 1]!.length + 1}`);
  }
  return doc;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const where = (f: { client: string; file: string }) => `${f.client}, ${f.file}`;

/**
 * The servers of every client config found. `problems` says what was skipped and why: an unreadable
 * file, an entry that is not a server, an entry that already goes through mcp-guard.
 */
export function discover(files = clientConfigFiles()): { found: Found[]; problems: string[] } {
  const found: Found[] = [];
  const problems: string[] = [];
  for (const cf of files) {
    if (!existsSync(cf.file)) continue;
    let doc: unknown;
    try {
      doc = readJsonc(cf.file);
    } catch (err) {
      problems.push(`skipped ${cf.file}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    if (!isObject(doc)) {
      problems.push(`skipped ${cf.file}: not a JSON object`);
      continue;
    }
    const inputs = new Map<string, string>();
    if (Array.isArray(doc.inputs)) {
      for (const i of doc.inputs) if (isObject(i) && typeof i.id === 'string') inputs.set(i.id, typeof i.description === 'string' ? i.description : '');
    }
    const groups: { client: string; slug: string; servers: unknown; key: string; workspace?: string }[] = [
      { client: cf.client, slug: cf.slug, servers: doc[cf.key], key: cf.key, workspace: cf.workspace },
    ];
    if (cf.claudeProjects && isObject(doc.projects)) {
      // Claude Code's local-scope servers: per project directory, run in that directory.
      for (const [dir, p] of Object.entries(doc.projects)) {
        if (!isObject(p) || p.mcpServers === undefined) continue;
        if (isObject(p.mcpServers) && Object.keys(p.mcpServers).length === 0) continue;
        groups.push({ client: `Claude Code (project ${dir})`, slug: `claude-code-${slugOf(basename(dir)) || 'project'}`, servers: p.mcpServers, key: `projects.${dir}.mcpServers`, workspace: dir });
      }
    }
    for (const g of groups) {
      if (g.servers === undefined) continue;
      if (!isObject(g.servers)) {
        problems.push(`skipped '${g.key}' in ${cf.file}: not an object of servers`);
        continue;
      }
      for (const [name, s] of Object.entries(g.servers)) {
        const f = { client: g.client, file: cf.file };
        if (!isObject(s)) {
          problems.push(`skipped server '${name}' (${where(f)}): not an object`);
          continue;
        }
        if (runsThroughGuard(s)) {
          problems.push(`skipped server '${name}' (${where(f)}): it already runs through mcp-guard`);
          continue;
        }
        found.push({ client: g.client, slug: g.slug, file: cf.file, name, server: s, workspace: g.workspace, inputs: inputs.size ? inputs : undefined });
      }
    }
  }
  return { found, problems };
}

function runsThroughGuard(s: Record<string, unknown>): boolean {
  const cmd = String(s.command ?? '');
  return /(^|[/\\])mcp-guard(\.cmd|\.exe)?$/.test(cmd) && Array.isArray(s.args) && s.args.includes('connect');
}

function slugOf(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** A client entry as an mcp-guard server, or why it cannot be one. */
export function toServer(s: Record<string, any>): Record<string, unknown> | string {
  const type = String(s.type ?? s.transport ?? (s.url ? 'http' : 'stdio')).toLowerCase();
  if (type === 'stdio' || (!s.url && s.command)) {
    if (typeof s.command !== 'string' || !s.command) return 'no command';
    const out: Record<string, unknown> = { transport: 'stdio', command: s.command };
    if (Array.isArray(s.args) && s.args.length) out.args = s.args.map(String);
    if (s.env && typeof s.env === 'object' && Object.keys(s.env).length) out.env = stringValues(s.env);
    if (typeof s.cwd === 'string') out.cwd = s.cwd;
    return out;
  }
  if (typeof s.url !== 'string') return 'no url';
  const out: Record<string, unknown> = { transport: type === 'sse' ? 'sse' : 'streamable-http', url: s.url };
  if (s.headers && typeof s.headers === 'object' && Object.keys(s.headers).length) out.headers = stringValues(s.headers);
  return out;
}

function stringValues(o: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}

/** An environment variable name for a VS Code input id: `github-token` → `GITHUB_TOKEN`. */
export function envNameOf(inputId: string): string {
  const n = inputId.toUpperCase().replace(/[^A-Z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[A-Z_]/.test(n) ? n : `INPUT_${n}`;
}

/**
 * Rewrites the client-side variables of VS Code and Cursor (`${input:ID}`, `${env:NAME}`,
 * `${workspaceFolder}`, `${userHome}`) into what mcp-guard means by them: `${NAME}` from the daemon's
 * environment, or the directory itself. Returns a note for each rewrite and each variable left as is.
 */
export function rewriteVariables(server: Record<string, unknown>, f: Pick<Found, 'workspace' | 'inputs'>, home = homedir()): string[] {
  const notes: string[] = [];
  const seen = new Set<string>();
  const once = (n: string) => {
    if (!seen.has(n)) notes.push(n);
    seen.add(n);
  };
  const fix = (value: string, at: string): string =>
    value.replace(/\$\{([^}]*)\}/g, (whole, body: string) => {
      const input = /^input:(.+)$/.exec(body);
      if (input) {
        const id = input[1]!;
        const name = envNameOf(id);
        const desc = f.inputs?.get(id);
        once(`${at}: the client prompts for \${input:${id}}${desc ? ` (${JSON.stringify(desc)})` : ''}; written as \${${name}}: set ${name} where the daemon starts (the shell of \`mcp-guard start -d\`, or the client's env block for the bridge) and for \`mcp-guard validate\``);
        return `\${${name}}`;
      }
      const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(body);
      if (env) return `\${${env[1]}}`;
      if (body === 'workspaceFolder' && f.workspace) return f.workspace;
      if (body === 'userHome') return home;
      // ${VAR} and ${VAR:-default} mean the same in mcp-guard (Claude Code's syntax).
      if (/^[A-Z_][A-Z0-9_]*(:-.*)?$/.test(body)) return whole;
      once(`${at}: ${whole} is a client variable that mcp-guard does not expand; kept as written: replace it`);
      return whole;
    });
  for (const [k, v] of Object.entries(server)) {
    if (typeof v === 'string') server[k] = fix(v, k);
    else if (Array.isArray(v)) server[k] = v.map((x, i) => (typeof x === 'string' ? fix(x, `${k}[${i}]`) : x));
    else if (isObject(v)) for (const [kk, vv] of Object.entries(v)) if (typeof vv === 'string') v[kk] = fix(vv, `${k}.${kk}`);
  }
  return notes;
}

const SERVER_NAME = /[^A-Za-z0-9_.-]/g;

export interface InitPlan {
  servers: Record<string, Record<string, unknown>>;
  /** Per server: where it came from and what was changed, for the comment above it. */
  comments: Map<string, string[]>;
  /** One line per server kept. */
  kept: string[];
  /** Everything skipped, renamed or rewritten. */
  notes: string[];
}

/** Decides the servers of the config: names made valid and unique, every change noted. */
export function plan(found: readonly Found[], home = homedir()): InitPlan {
  const servers: Record<string, Record<string, unknown>> = {};
  const origin = new Map<string, Found>();
  const comments = new Map<string, string[]>();
  const kept: string[] = [];
  const notes: string[] = [];
  for (const f of found) {
    const s = toServer(f.server);
    if (typeof s === 'string') {
      notes.push(`skipped server '${f.name}' (${where(f)}): ${s}`);
      continue;
    }
    if (f.workspace && s.transport === 'stdio' && s.cwd === undefined && f.client.startsWith('Claude Code (project')) {
      s.cwd = f.workspace; // Claude Code starts a project's servers in the project directory
    }
    const rewrites = rewriteVariables(s, f, home);
    if (f.server.envFile !== undefined) rewrites.push(`envFile ${JSON.stringify(String(f.server.envFile))} is not read by mcp-guard: copy the variables it needs into env`);
    const clean = f.name.replace(SERVER_NAME, '-') || 'server';
    // The same server from several clients is kept once; a different one under a name already
    // taken is kept under the name plus its client's.
    const json = JSON.stringify(s);
    const same = [...origin].find(([n, o]) => o.name.replace(SERVER_NAME, '-') === clean && JSON.stringify(servers[n]) === json);
    if (same) {
      notes.push(`skipped server '${f.name}' (${where(f)}): the same as '${same[0]}' from ${where(same[1])}, kept once`);
      continue;
    }
    const first = origin.get(clean);
    let name = clean;
    if (first) {
      name = `${clean}-${f.slug}`;
      for (let i = 2; origin.has(name); i++) name = `${clean}-${f.slug}-${i}`;
    }
    const why: string[] = [];
    if (name !== f.name) {
      const msg = first
        ? `the '${clean}' of ${where(first)} is a different server`
        : `server names may only use letters, digits, '_', '.' and '-'`;
      notes.push(`renamed server '${f.name}' (${where(f)}) to '${name}': ${msg}`);
      why.push(`renamed from ${JSON.stringify(f.name)}: ${msg}`);
    }
    for (const r of rewrites) notes.push(`server '${name}' (${where(f)}): ${r}`);
    servers[name] = s;
    origin.set(name, f);
    comments.set(name, [`from ${where(f)}`, ...why, ...rewrites]);
    kept.push(`  ${name.padEnd(24)} from ${where(f)}${name !== f.name ? ` (was '${f.name}': use --server ${name})` : ''}`);
  }
  return { servers, comments, kept, notes };
}

/** The YAML text of the config, with a comment above each server saying where it came from. */
export function renderConfig(p: InitPlan): string {
  const doc = new Document({ servers: p.servers, auth: { mode: 'os' }, pii: { enabled: true }, audit: { enabled: true } });
  doc.commentBefore = ' Written by `mcp-guard init`. Add policies per server; check with `mcp-guard validate`.';
  const map = doc.get('servers', true);
  if (isMap(map)) {
    for (const pair of map.items) {
      if (!isScalar(pair.key)) continue;
      const lines = p.comments.get(String(pair.key.value));
      // A comment is one line each: nothing from a client file may start a new YAML line.
      if (lines?.length) pair.key.commentBefore = lines.map((l) => ' ' + l.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ')).join('\n');
    }
  }
  return doc.toString();
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
      const p = plan(found);
      // Stderr, so that --print's stdout stays a config file.
      for (const n of [...problems, ...p.notes]) process.stderr.write(`mcp-guard: ${n}\n`);
      const names = Object.keys(p.servers);
      if (names.length === 0) {
        process.stderr.write('mcp-guard: no MCP servers found in Claude Desktop, Claude Code, Cursor or VS Code configs. Start from mcp-guard.example.yaml.\n');
        process.exit(1);
      }
      const text = renderConfig(p);
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
          `wrote ${out} with ${names.length} server(s):`,
          ...p.kept,
          '',
          'Now point each client at the bridge, e.g. in its mcpServers:',
          `  "${names[0]}": { "command": "mcp-guard", "args": ["connect", "--server", "${names[0]}"] }`,
          '',
        ].join('\n'),
      );
    });
}
