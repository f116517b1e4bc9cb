// Config composition: `extends` fetches a base config pinned by SHA-256, and a personal config is
// merged over it with floor semantics — it can restrict and never relax (DESIGN.md section 3).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { floorMerge } from '../policy/roles.js';
import { RULES } from '../detect/rules.js';
import type { Config, ServerConfig } from './schema.js';
import type { Policy } from './policy-schema.js';
import type { Action } from './pii-schema.js';
import { ConfigError, type ConfigProblem } from './problem.js';
import { expandHome } from './locate.js';

export const MAX_EXTENDS_DEPTH = 5;
const FETCH_TIMEOUT_MS = 10_000;

export interface BaseSource {
  /** URL or absolute path, as named in errors. */
  name: string;
  text: string;
}

/** Fetch (or read) a base config and check its pin. A mismatch is fatal and never falls back. */
export async function fetchBase(ext: NonNullable<Config['extends']>, from: string, home: string): Promise<BaseSource> {
  const want = ext.sha256.toLowerCase();
  const cacheFile = join(home, 'extends-cache', `${want}.yaml`);
  let name: string;
  let text: string;
  if (ext.path) {
    name = resolve(dirname(from), expandHome(ext.path));
    try {
      text = readFileSync(name, 'utf8');
    } catch (err) {
      throw problem(from, `extends.path: cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else {
    name = ext.url!;
    let url: URL;
    try {
      url = new URL(name);
    } catch {
      throw problem(from, `extends.url: '${name}' is not a URL`);
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      throw problem(from, `extends.url must use https (plain http only for loopback), not ${url.protocol}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      // The cache is keyed by the pinned hash, so a cached copy is exactly the pinned content.
      if (existsSync(cacheFile)) return { name, text: readFileSync(cacheFile, 'utf8') };
      throw problem(from, `extends.url: cannot fetch ${name}: ${(err as Error).message}`);
    }
  }
  const got = createHash('sha256').update(text).digest('hex');
  if (got !== want) {
    throw problem(from, `extends: SHA-256 of ${name} is ${got}, but the config pins ${want}. Refusing to use it.`);
  }
  if (ext.url) {
    mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o700 });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, cacheFile);
  }
  return { name, text };
}

function problem(file: string, message: string): ConfigError {
  return new ConfigError([{ file, line: 0, column: 0, key: 'extends', message }]);
}

const CONNECTION_KEYS = ['transport', 'command', 'args', 'env', 'cwd', 'url', 'upstream_auth_token', 'headers'] as const;

/**
 * Merge a personal config over a base. `personalRaw` is the personal file's own parsed YAML (before
 * defaults), so that a field it leaves out inherits instead of overriding with a default.
 */
export function composeConfigs(base: Config, personal: Config, personalRaw: any, personalFile: string, at: (path: (string | number)[]) => ConfigProblem): Config {
  const problems: ConfigProblem[] = [];
  const raw = personalRaw ?? {};
  const out: Config = structuredClone(base);
  delete out.extends;

  // Servers: a base server keeps its connection; its policy is floor-merged; a locked one is untouchable.
  for (const [name, mine] of Object.entries(personal.servers)) {
    const rawServer = raw.servers?.[name] ?? {};
    const theirs = base.servers[name];
    if (!theirs) {
      // A server the personal config adds starts from the base's policy floor.
      out.servers[name] = { ...mine, policy: floorMerge(base.defaults ?? {}, rawServer.policy ?? {}) };
      continue;
    }
    if (theirs.locked) {
      problems.push({ ...at(['servers', name]), message: `server '${name}' is locked by the base config; a personal config cannot change it` });
      continue;
    }
    for (const k of CONNECTION_KEYS) {
      if (k in rawServer && JSON.stringify(rawServer[k]) !== JSON.stringify(theirs[k])) {
        problems.push({ ...at(['servers', name, k]), message: `'${k}' of base server '${name}' cannot be changed by a personal config` });
      }
    }
    const merged: ServerConfig = { ...theirs, policy: floorMerge(theirs.policy, rawServer.policy ?? {}) };
    if (rawServer.pins !== undefined) {
      // Pins of a base allow definitions: a personal config may drop some, never add or change one.
      const own = mine.pins ?? {};
      if (theirs.pins) {
        for (const [id, hash] of Object.entries(own)) {
          if (theirs.pins[id]?.toLowerCase() !== hash.toLowerCase()) problems.push({ ...at(['servers', name, 'pins', id]), message: `a personal config can only remove pins of base server '${name}', not add or change one` });
        }
      }
      merged.pins = own;
    }
    if (rawServer.request_timeout_ms !== undefined) merged.request_timeout_ms = stricterTimeout(theirs.request_timeout_ms, mine.request_timeout_ms);
    out.servers[name] = merged;
  }

  // PII: on stays on; actions only get stricter; nothing may be allowlisted or disabled over a base.
  const rp = raw.pii ?? {};
  if (rp.enabled === false && base.pii.enabled) problems.push({ ...at(['pii', 'enabled']), message: 'a personal config cannot turn off PII detection of its base' });
  out.pii.enabled = base.pii.enabled || personal.pii.enabled;
  for (const [type, acts] of Object.entries(personal.pii.actions)) {
    // Where the base says nothing, its action is the built-in default: a personal `allow` must not undercut that.
    const b = out.pii.actions[type] ?? {};
    const d = defaultActions(type, out.pii.custom_types[type]?.actions);
    out.pii.actions[type] = {
      request: stricterAction(b.request ?? d.request, acts.request),
      response: stricterAction(b.response ?? d.response, acts.response),
    };
  }
  for (const [type, ct] of Object.entries(personal.pii.custom_types)) {
    if (out.pii.custom_types[type]) problems.push({ ...at(['pii', 'custom_types', type]), message: `custom type '${type}' is defined by the base config` });
    else out.pii.custom_types[type] = ct;
  }
  if (rp.allowlist?.length) problems.push({ ...at(['pii', 'allowlist']), message: 'a personal config cannot add allowlist entries over a base (they relax detection)' });
  if (rp.disabled_types?.length) problems.push({ ...at(['pii', 'disabled_types']), message: 'a personal config cannot disable detection types of its base' });
  if (rp.scan_limit_bytes !== undefined) out.pii.scan_limit_bytes = Math.min(base.pii.scan_limit_bytes, personal.pii.scan_limit_bytes);
  if (rp.on_oversize === 'allow' && base.pii.on_oversize === 'block') problems.push({ ...at(['pii', 'on_oversize']), message: 'a personal config cannot let oversized messages through unscanned' });

  // Audit: on stays on, retention can only grow; the rest is local operation.
  const ra = raw.audit ?? {};
  if (ra.enabled === false && base.audit.enabled) problems.push({ ...at(['audit', 'enabled']), message: 'a personal config cannot turn off the audit log of its base' });
  if (ra.retention_days !== undefined) out.audit.retention_days = Math.max(base.audit.retention_days, personal.audit.retention_days);
  for (const k of ['path', 'queue_limit', 'flush_ms', 'batch_size', 'encryption'] as const) if (ra[k] !== undefined) (out.audit as any)[k] = personal.audit[k];
  if (ra.durability === 'buffered' && base.audit.durability === 'acknowledged') problems.push({ ...at(['audit', 'durability']), message: "a personal config cannot relax audit.durability 'acknowledged' of its base" });
  else if (ra.durability !== undefined) out.audit.durability = personal.audit.durability;

  // Auth: the mode is the base's; roles only narrow, so adding roles or role members is safe.
  const rau = raw.auth ?? {};
  if (rau.mode !== undefined && rau.mode !== base.auth.mode) problems.push({ ...at(['auth', 'mode']), message: `a personal config cannot change auth.mode of its base ('${base.auth.mode}')` });
  for (const [role, r] of Object.entries(personal.auth.roles)) out.auth.roles[role] = floorMerge(out.auth.roles[role] ?? {}, r);
  out.auth.default_roles = [...new Set([...base.auth.default_roles, ...personal.auth.default_roles])];
  if (personal.auth.os) {
    const os = (out.auth.os ??= { users: {}, groups: {} });
    for (const [u, rs] of Object.entries(personal.auth.os.users)) os.users[u] = [...new Set([...(os.users[u] ?? []), ...rs])];
    for (const [g, rs] of Object.entries(personal.auth.os.groups)) os.groups[g] = [...new Set([...(os.groups[g] ?? []), ...rs])];
    if (personal.auth.os.allowed_users) {
      const mine = personal.auth.os.allowed_users.map(String);
      os.allowed_users = os.allowed_users ? os.allowed_users.filter((u) => mine.includes(String(u))) : personal.auth.os.allowed_users;
    }
  }
  if (rau.oauth !== undefined && JSON.stringify(personal.auth.oauth) !== JSON.stringify(base.auth.oauth) && base.auth.oauth) {
    problems.push({ ...at(['auth', 'oauth']), message: 'a personal config cannot change the OAuth settings of its base' });
  }

  // Daemon: local operation (home, socket, logs), except that the message limit can only shrink.
  const rd = raw.daemon ?? {};
  for (const k of Object.keys(rd)) (out.daemon as any)[k] = (personal.daemon as any)[k];
  if (rd.max_message_bytes !== undefined) out.daemon.max_message_bytes = Math.min(base.daemon.max_message_bytes, personal.daemon.max_message_bytes);

  if (personal.defaults) out.defaults = floorMerge(out.defaults ?? {}, personal.defaults);
  if (problems.length) throw new ConfigError(problems.map((p) => ({ ...p, file: p.file || personalFile })));
  return out;
}

// mask keeps the last four characters; hash keeps only a keyed token; redact keeps nothing.
/** The strictest built-in default action of the rules of a type, per direction. */
function defaultActions(type: string, custom?: { request?: Action; response?: Action }): { request?: Action; response?: Action } {
  if (custom) return { request: custom.request ?? 'block', response: custom.response ?? 'redact' };
  let request: Action | undefined;
  let response: Action | undefined;
  for (const r of RULES) {
    if (r.type !== type && r.id !== type) continue;
    request = stricterAction(request, r.actions.request);
    response = stricterAction(response, r.actions.response);
  }
  return { request, response };
}

const rank: Record<Action, number> = { allow: 0, warn: 1, mask: 2, hash: 3, redact: 4, block: 5 };
export function stricterAction(a: Action | undefined, b: Action | undefined): Action | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return rank[b] > rank[a] ? b : a;
}

function stricterTimeout(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

export type { Policy };
