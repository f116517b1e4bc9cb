// The one config loader: finds the file, parses YAML keeping source positions, expands ${VAR},
// validates against the schema, and reports every problem as file:line:column with the key.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, visit, type Document, type Node } from 'yaml';
import { ConfigSchema, type Config } from './schema.js';

export interface LoadedConfig {
  /** Absolute path of the file the config came from (or `<embedded>`). */
  path: string;
  config: Config;
  /** Daemon home directory (lock, socket, pid, logs, audit database). */
  home: string;
  socketPath: string;
}

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.key ? `${where}: ${p.key}: ${p.message}` : `${where}: ${p.message}`;
}

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}

/** Default daemon home: MCP_GUARD_HOME, else ~/.config/mcp-guard. */
export function defaultHome(): string {
  return process.env.MCP_GUARD_HOME ? resolve(expandHome(process.env.MCP_GUARD_HOME)) : join(homedir(), '.config', 'mcp-guard');
}

/** Resolution order (DESIGN.md section 3): --config, MCP_GUARD_CONFIG, daemon home, ./mcp-guard.yaml. */
export function resolveConfigPath(explicit?: string): string {
  if (explicit) return resolve(expandHome(explicit));
  if (process.env.MCP_GUARD_CONFIG) return resolve(expandHome(process.env.MCP_GUARD_CONFIG));
  const candidates = [join(defaultHome(), 'mcp-guard.yaml'), resolve('mcp-guard.yaml')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new ConfigError([
    {
      file: candidates[0]!,
      line: 0,
      column: 0,
      key: '',
      message: `no config file found (looked for --config, $MCP_GUARD_CONFIG, ${candidates.join(', ')}). Create one from mcp-guard.example.yaml.`,
    },
  ]);
}

export function loadConfig(explicit?: string): LoadedConfig {
  const path = resolveConfigPath(explicit);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, line: 0, column: 0, key: '', message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseConfig(text, path);
}

/** Parse and validate config text; `file` names it in errors and anchors relative paths. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const at = (offset: number | undefined) => {
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  for (const e of doc.errors) {
    problems.push({ file, ...at(e.pos[0]), key: '', message: e.message.split('\n')[0]! });
  }
  if (problems.length) throw new ConfigError(problems);

  // ${VAR} expansion in every string scalar, before validation so that types check the result.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, dflt?: string) => {
        const v = process.env[name];
        if (v !== undefined) return v;
        if (dflt !== undefined) return dflt;
        problems.push({ file, ...at(node.range?.[0]), key: '', message: `environment variable ${name} is not set` });
        return '';
      });
    },
  });
  if (problems.length) throw new ConfigError(problems);

  const raw = doc.toJS() ?? {};
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as (string | number)[];
      const extra = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
      if (extra.length) {
        for (const k of extra) {
          problems.push({ file, ...at(offsetOf(doc, path, k)), key: [...path, k].join('.'), message: `unknown key '${k}'` });
        }
      } else {
        problems.push({ file, ...at(offsetOf(doc, path)), key: path.join('.'), message: issue.message });
      }
    }
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  const base = dirname(file);
  const home = config.daemon.home ? resolve(base, expandHome(config.daemon.home)) : defaultHome();
  const socketPath = config.daemon.socket_path ? resolve(base, expandHome(config.daemon.socket_path)) : join(home, 'daemon.sock');
  if (Buffer.byteLength(socketPath) > 100) {
    throw new ConfigError([
      { file, ...at(offsetOf(doc, ['daemon', 'socket_path'])), key: 'daemon.socket_path', message: `socket path is too long for a Unix socket (${socketPath})` },
    ]);
  }
  for (const s of Object.values(config.servers)) {
    if (s.cwd && !isAbsolute(s.cwd)) s.cwd = resolve(base, expandHome(s.cwd));
  }
  return { path: file, config, home, socketPath };
}

/** Offset of the node at `path` (or of the key `key` inside it); falls back to the nearest parent. */
function offsetOf(doc: Document, path: (string | number)[], key?: string): number | undefined {
  let p = path.slice();
  for (;;) {
    const node = (p.length ? doc.getIn(p, true) : doc.contents) as Node | undefined;
    if (node && key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
      const k = pair && isPair(pair) && isScalar(pair.key) ? pair.key : undefined;
      if (k?.range) return k.range[0];
    }
    if (node && node.range) {
      // Point at the key of a missing or bad field's parent entry rather than its value when possible.
      return node.range[0];
    }
    if (!p.length) return undefined;
    key = String(p[p.length - 1]);
    p = p.slice(0, -1);
  }
}
