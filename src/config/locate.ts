// Where the daemon of a config lives (home and socket), read cheaply for the bridge: YAML only,
// no schema, no pattern compilation. The daemon validates the whole file when it starts.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { parse } from 'yaml';

export interface Located {
  path: string;
  home: string;
  socketPath: string;
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

const expandVars = (s: string) => s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, n: string, d?: string) => process.env[n] ?? d ?? '');

/** Home and socket of the config at `path` (throws on unreadable or unparsable YAML). */
export function locate(path: string, daemon?: { home?: string; socket_path?: string }): Located {
  if (!daemon) {
    const doc = parse(readFileSync(path, 'utf8')) as any;
    daemon = doc?.daemon ?? {};
  }
  const base = dirname(path);
  const h = typeof daemon!.home === 'string' ? expandVars(daemon!.home) : undefined;
  const sp = typeof daemon!.socket_path === 'string' ? expandVars(daemon!.socket_path) : undefined;
  const home = h ? resolve(base, expandHome(h)) : defaultHome();
  const socketPath = sp ? resolve(base, expandHome(sp)) : join(home, 'daemon.sock');
  return { path, home, socketPath };
}

/** `auth.mode` as the file says it (no validation): the bridge needs it to pick a credential. */
export function authModeOf(path: string): string | undefined {
  try {
    const m = (parse(readFileSync(path, 'utf8')) as any)?.auth?.mode;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
