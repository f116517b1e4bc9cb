// Where the daemon of a config lives (home and socket), read cheaply for the bridge and the control
// commands: YAML only, no schema, no pattern compilation. The daemon validates the whole file.
//
// Locating must survive a broken file (DESIGN.md section 6): while a person edits the config, the
// running daemon goes on with its last good one, and `connect`, `status`, `stop`... must still find
// it. So the file is read strictly first, then leniently: duplicate keys allowed, then section by
// section (a YAML error in `servers` does not hide `daemon`). What cannot be read falls back to
// the default home, and `exact` says so: the caller then checks with the daemon which config it runs.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { expandVars } from './expand.js';
import { formatProblem } from './problem.js';

/** Where a daemon lives: the config it runs, its home (lock, pid, logs, audit) and its socket. */
export interface DaemonPlace {
  path: string;
  home: string;
  socketPath: string;
}

export interface Located extends DaemonPlace {
  /**
   * False when home or socket could not be read from the file (unreadable, a YAML error in the
   * `daemon` section, a bad `${…}`): they are then the defaults, which may not be the running daemon's.
   */
  exact: boolean;
  /** The first problem found while reading the file (file:line:column: message), when there was one. */
  problem?: string;
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
export function resolveConfigPath(explicit?: string): string | { missing: string[] } {
  if (explicit) return resolve(expandHome(explicit));
  if (process.env.MCP_GUARD_CONFIG) return resolve(expandHome(process.env.MCP_GUARD_CONFIG));
  const candidates = [join(defaultHome(), 'mcp-guard.yaml'), resolve('mcp-guard.yaml')];
  for (const c of candidates) if (existsSync(c)) return c;
  return { missing: candidates };
}

/** What a config file says, read as far as it can be read. */
export interface LenientRead {
  /** The file's data; with a YAML error, only the top-level sections that parse on their own. */
  data: Record<string, any>;
  /** Top-level sections that could not be read. */
  unreadable: Set<string>;
  /** The first problem, formatted (file:line:column: message). */
  problem?: string;
  /** Position of a path in the file when it was read strictly (for the problems locating finds). */
  at?: (path: string[]) => { line: number; column: number } | undefined;
}

export function readLeniently(path: string): LenientRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { data: {}, unreadable: new Set(['*']), problem: formatProblem({ file: path, line: 0, column: 0, key: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }) };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (!doc.errors.length) {
    const data = doc.toJS();
    return {
      data: data && typeof data === 'object' ? data : {},
      unreadable: new Set(),
      at: (p) => {
        const node = doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
        return node?.range ? pos(node.range[0]) : undefined;
      },
    };
  }
  const e = doc.errors[0]!;
  const problem = formatProblem({ file: path, ...pos(e.pos[0]), key: '', message: e.message.split('\n')[0]! });
  // Duplicate keys only: everything is readable, the last of two equal keys counts.
  const loose = parseDocument(text, { uniqueKeys: false });
  if (!loose.errors.length) {
    const data = loose.toJS();
    return { data: data && typeof data === 'object' ? data : {}, unreadable: new Set(), problem };
  }
  // A YAML error: read each top-level section (`key:` at column 0, up to the next) on its own.
  const data: Record<string, any> = {};
  const unreadable = new Set<string>();
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const m = /^([A-Za-z_][\w-]*)\s*:/.exec(lines[i]!);
    if (!m) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < lines.length && !/^[^\s#]/.test(lines[j]!)) j++;
    const section = parseDocument(lines.slice(i, j).join('\n'), { uniqueKeys: false });
    const v = section.errors.length ? undefined : section.toJS();
    if (v && typeof v === 'object' && m[1]! in v) {
      data[m[1]!] = v[m[1]!];
      unreadable.delete(m[1]!);
    } else if (!(m[1]! in data)) {
      unreadable.add(m[1]!);
    }
    i = j;
  }
  return { data, unreadable, problem };
}

/**
 * Home and socket of the config at `path`. With `daemon` (the validated section), no file is read;
 * without it, the file is read leniently and never throws.
 */
export function locate(path: string, daemon?: { home?: string; socket_path?: string }): Located {
  let exact = true;
  let problem: string | undefined;
  let at: LenientRead['at'];
  // The loader hands over its section with `${…}` already expanded: expanding twice would undo `$${`.
  const raw = !daemon;
  if (!daemon) {
    const r = readLeniently(path);
    problem = r.problem;
    at = r.at;
    if (r.unreadable.has('*') || r.unreadable.has('daemon')) exact = false;
    const d = r.data.daemon;
    daemon = d && typeof d === 'object' ? d : {};
  }
  const base = dirname(path);
  const field = (key: 'home' | 'socket_path'): string | undefined => {
    const v = daemon![key];
    if (typeof v !== 'string') return undefined;
    if (!raw) return v;
    const x = expandVars(v);
    if (!x.problems.length) return x.value;
    // The loader refuses this file; the running daemon (if any) was started from another text.
    exact = false;
    const where = at?.(['daemon', key]);
    problem ??= formatProblem({ file: path, line: where?.line ?? 0, column: where?.column ?? 0, key: `daemon.${key}`, message: x.problems[0]!.message });
    return undefined;
  };
  const h = field('home');
  const sp = field('socket_path');
  const home = h ? resolve(base, expandHome(h)) : defaultHome();
  const socketPath = sp ? resolve(base, expandHome(sp)) : join(home, 'daemon.sock');
  return { path, home, socketPath, exact, problem };
}

/** The audit database of a config: `audit.path` (relative to the config's directory), else `<home>/audit.db`. */
export function auditDbOf(configPath: string, home: string, auditPath?: string): string {
  return auditPath ? resolve(dirname(configPath), expandHome(auditPath)) : join(home, 'audit.db');
}

/** `auth.mode` as the file says it (no validation): the bridge needs it to pick a credential. */
export function authModeOf(path: string): string | undefined {
  const m = readLeniently(path).data.auth?.mode;
  return typeof m === 'string' ? m : undefined;
}
