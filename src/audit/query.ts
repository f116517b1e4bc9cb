// The query API behind `mcp-guard logs`: filters, stats and time parsing. Opens the database
// read-only, so it works while the daemon's writer thread is appending (WAL).
import Database from 'better-sqlite3';
import { DECISIONS, type AuditDecision, type AuditRow } from './record.js';
import { hasTable, readMeta, selectList, type MetaState } from './schema.js';
import { AuditKeys, aadFor } from './crypto.js';
import { nameKey } from '../policy/pattern.js';

export class AuditQueryError extends Error {
  override name = 'AuditQueryError';
}

export interface LogFilters {
  server?: string;
  /** Matches the user name or the identity key (uid:1000, key:ci-bot, ...). */
  user?: string;
  method?: string;
  /** Tool, resource URI or prompt name. */
  tool?: string;
  decision?: AuditDecision;
  session?: string;
  /** Finding type, e.g. credit_card. */
  finding?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, inclusive. */
  until?: number;
  /** Default 50. */
  limit?: number;
  /** Only rows with id > afterId, oldest first (for --follow). */
  afterId?: number;
}

export interface AuditDb {
  readonly db: Database.Database;
  readonly meta: MetaState;
  readonly keys?: AuditKeys;
  /** False for a database written before the principals table (see userBranches). */
  readonly hasPrincipals: boolean;
  /** The row columns as a SELECT list (NULL for columns of a newer schema the file lacks). */
  readonly rowColumns: string;
  /** The same, of the table aliased `a`. */
  readonly rowColumnsA: string;
  /** Prepared statements by SQL text: compiling is a sizeable part of a small query. */
  readonly stmts: Map<string, Database.Statement>;
  close(): void;
}

/** A cached prepared statement returning rows as arrays (no per-row object built by the driver). */
function rawStatement(adb: AuditDb, sql: string): Database.Statement {
  let st = adb.stmts.get(sql);
  if (!st) {
    st = adb.db.prepare(sql).raw(true);
    adb.stmts.set(sql, st);
  }
  return st;
}

/** Open an audit database read-only. An encrypted database needs its key to be queried. */
export function openAuditDb(path: string, opts: { key?: Buffer } = {}): AuditDb {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new AuditQueryError(`cannot open the audit database ${path}: ${(e as Error).message}`);
  }
  const meta = readMeta(db);
  if (!meta) {
    db.close();
    throw new AuditQueryError(`${path} is not an mcp-guard audit database`);
  }
  let keys: AuditKeys | undefined;
  if (meta.encrypted) {
    if (!opts.key) {
      db.close();
      throw new AuditQueryError(
        `${path} is encrypted: give the key with --key-file PATH or the MCP_GUARD_AUDIT_KEY environment variable`,
      );
    }
    keys = new AuditKeys(opts.key);
    if (keys.check !== meta.keyCheck) {
      db.close();
      throw new AuditQueryError(`${path}: this key is not the key the database was encrypted with`);
    }
  }
  return { db, meta, keys, hasPrincipals: hasTable(db, 'principals'), rowColumns: selectList(db, COLUMN_NAMES), rowColumnsA: selectList(db, COLUMN_NAMES, 'a.'), stmts: new Map(), close: () => db.close() };
}

const COLUMN_NAMES = [
  'id', 'ts', 'session', 'identity', 'user', 'roles', 'server', 'direction', 'kind', 'method', 'target', 'decision',
  'stage', 'reason', 'findings', 'error_code', 'bytes_in', 'bytes_out', 'upstream_ms', 'overhead_us', 'request_id',
  'era', 'call', 'round',
] as const;
const ENCRYPTED = new Set<string>(['identity', 'user', 'target', 'reason', 'findings']);

interface Where {
  clauses: string[];
  params: unknown[];
}

/** WHERE clauses for every filter except --user (which needs two index paths, see queryLogs). */
function baseWhere(adb: AuditDb, f: LogFilters, alias = ''): Where {
  const c: string[] = [];
  const p: unknown[] = [];
  const k = adb.keys;
  const col = (name: string) => `${alias}${name}`;
  if (f.server !== undefined) c.push(`${col('server')} = ?`), p.push(f.server);
  if (f.method !== undefined) c.push(`${col('method')} = ?`), p.push(f.method);
  if (f.decision !== undefined) {
    c.push(`${col('decision')} = ?`), p.push(f.decision);
    // Literal term so SQLite may use the partial index audit_decision_rare (schema.ts).
    if (f.decision !== 'allow') c.push(`${col('decision')} <> 'allow'`);
  }
  if (f.session !== undefined) c.push(`${col('session')} = ?`), p.push(f.session);
  if (f.tool !== undefined) {
    // With --user, unary + keeps SQLite on the user/identity index: on the target index the branch
    // of the user-OR-identity merge that matches nothing would walk every row of the tool.
    const plus = f.user !== undefined ? '+' : '';
    if (k) c.push(`${plus}${col('target_k')} = ?`), p.push(k.blindIndex('target', f.tool));
    else c.push(`${plus}${col('target')} = ?`), p.push(f.tool);
  }
  // ts is nearly monotonic in id: a lower bound is cheapest as a filter on the newest-first id
  // scan (unary + keeps SQLite off the ts index); an upper bound uses the ts index.
  if (f.since !== undefined) c.push(`+${col('ts')} >= ?`), p.push(f.since);
  if (f.until !== undefined) c.push(`${col('ts')} <= ?`), p.push(f.until);
  if (f.afterId !== undefined) c.push(`${col('id')} > ?`), p.push(f.afterId);
  if (f.finding !== undefined) {
    if (alias) {
      // queryLogs joins from audit_finding (FINDING_FROM): walk its (type, audit_id) key.
      c.push(`f.type = ?`);
    } else c.push(`${col('id')} IN (SELECT audit_id FROM audit_finding WHERE type = ?)`);
    p.push(k ? k.blindIndex('finding', f.finding) : f.finding);
  }
  return { clauses: c, params: p };
}

/**
 * --user NAME matches the user name or the identity key (uid:1000, key:ci-bot, ...). Only the user
 * column is indexed; the identity side is answered through the principals table (which user names
 * an identity has appeared with): one branch per name, each an index range. A database written
 * before that table existed still has an identity index.
 */
function userBranches(adb: AuditDb, user: string): { clause: string; params: unknown[] }[] {
  const k = adb.keys;
  const [uc, ic] = k ? ['user_k', 'identity_k'] : ['user', 'identity'];
  const uv = k ? k.blindIndex('user', user) : user;
  const iv = k ? k.blindIndex('identity', user) : user;
  const out = [{ clause: `${uc} = ?`, params: [uv] as unknown[] }];
  if (!adb.hasPrincipals) {
    out.push({ clause: `${ic} = ?`, params: [iv] });
    return out;
  }
  const names = rawStatement(adb, 'SELECT user FROM principals WHERE identity = ?').all(iv) as [string][];
  for (const [name] of names) {
    if (name !== uv) out.push({ clause: `${uc} = ? AND +${ic} = ?`, params: [name, iv] });
  }
  return out;
}

const whereSql = (clauses: string[]) => (clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '');

/** Matching rows: newest first, or oldest first after `afterId` (follow mode). */
export function queryLogs(adb: AuditDb, filters: LogFilters): AuditRow[] {
  const limit = filters.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1) throw new AuditQueryError(`limit must be a positive integer, got ${limit}`);
  const asc = filters.afterId !== undefined;
  const order = asc ? 'id ASC' : filters.until !== undefined ? 'ts DESC, id DESC' : 'id DESC';
  // --finding: drive the query from audit_finding's (type, audit_id) primary key, walked in id
  // order, and look each row up by id, rather than collecting every matching id and sorting.
  const byFinding = filters.finding !== undefined;
  const w = baseWhere(adb, filters, byFinding ? 'a.' : '');
  const from = byFinding ? 'audit_finding f CROSS JOIN audit a' : 'audit';
  if (byFinding) w.clauses.unshift('a.id = f.audit_id');
  const cols = byFinding ? adb.rowColumnsA : adb.rowColumns;
  const innerOrder = !byFinding
    ? order
    : asc
      ? 'f.audit_id ASC'
      : filters.until !== undefined
        ? 'a.ts DESC, a.id DESC'
        : 'f.audit_id DESC';
  let sql: string;
  let params: unknown[];
  if (filters.user === undefined) {
    sql = `SELECT ${cols} FROM ${from}${whereSql(w.clauses)} ORDER BY ${innerOrder} LIMIT ?`;
    params = [...w.params, limit];
  } else {
    // user OR identity: one index-ordered subquery of ids per branch, each limited, merged; then
    // only the surviving rows are read (the union never sorts whole rows).
    const branches = userBranches(adb, filters.user);
    const idCol = byFinding ? 'a.id' : 'id';
    const ordCols = filters.until !== undefined ? `${byFinding ? 'a.ts' : 'ts'}, ${idCol}` : idCol;
    const prefix = (c: string) => (byFinding ? c.replace(/\b(user|identity)(_k)? =/g, 'a.$1$2 =') : c);
    const sub = (c: string) =>
      `SELECT * FROM (SELECT ${ordCols} FROM ${from}${whereSql([...w.clauses, prefix(c)])} ORDER BY ${innerOrder} LIMIT ?)`;
    sql =
      `SELECT ${adb.rowColumns} FROM audit WHERE id IN ` +
      `(SELECT id FROM (${branches.map((b) => sub(b.clause)).join(' UNION ')}) ORDER BY ${order} LIMIT ?) ORDER BY ${order}`;
    params = [...branches.flatMap((b) => [...w.params, ...b.params, limit]), limit];
  }
  const rows = rawStatement(adb, sql).all(...params) as unknown[][];
  return rows.map((r) => decodeRow(adb, r));
}

// The same few role lists repeat on every row: parse each distinct one once (a copy per row, so a
// caller that edits one row's roles does not change another's).
const rolesSeen = new Map<string, readonly string[]>();
function parseRoles(text: string): string[] {
  let roles = rolesSeen.get(text);
  if (!roles) {
    roles = JSON.parse(text) as string[];
    if (rolesSeen.size < 1000) rolesSeen.set(text, roles);
  }
  return roles.slice();
}

function decodeRow(adb: AuditDb, r: readonly unknown[]): AuditRow {
  const k = adb.keys;
  const id = r[0] as number;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < COLUMN_NAMES.length; i++) {
    const v = r[i];
    if (v === null || v === undefined) continue;
    const name = COLUMN_NAMES[i]!;
    let value = v;
    if (k && ENCRYPTED.has(name)) {
      try {
        value = k.decrypt(String(v), aadFor(name, id));
      } catch {
        throw new AuditQueryError(`row ${id}: the ${name} column does not decrypt (tampered, or a different key); run \`mcp-guard logs verify\``);
      }
    }
    if (name === 'roles') value = parseRoles(String(value));
    else if (name === 'findings') value = JSON.parse(String(value));
    out[name] = value;
  }
  return out as unknown as AuditRow;
}

export interface LogStats {
  total: number;
  byDecision: Record<string, number>;
  byServer: Record<string, number>;
  byMethod: Record<string, number>;
  /**
   * tools/call rows by tool name, in the policy's normal form (NFKC, lower case, no invisible
   * characters: `Move_File` and `move_file` are one tool, as for permissions and rate limits).
   */
  byTool: Record<string, number>;
  byFinding: Record<string, number>;
  /** Upstream latency, milliseconds, over rows that have one. */
  latency: Percentiles;
  /** Proxy overhead, microseconds. */
  overhead: Percentiles;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

function percentiles(sorted: number[]): Percentiles {
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : null);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : null };
}

/** Counts and percentiles over every row matching the filters (limit and afterId ignored). */
export function stats(adb: AuditDb, filters: LogFilters): LogStats {
  const f = { ...filters, limit: undefined, afterId: undefined };
  const w = baseWhere(adb, f);
  if (f.user !== undefined) {
    const branches = userBranches(adb, f.user);
    w.clauses.push(`(${branches.map((b) => `(${b.clause})`).join(' OR ')})`);
    w.params.push(...branches.flatMap((b) => b.params));
  }
  const where = whereSql(w.clauses);
  const and = (c: string) => whereSql([...w.clauses, c]);
  const db = adb.db;
  const group = (col: string): Record<string, number> => {
    const out: Record<string, number> = {};
    const rows = db.prepare(`SELECT ${col} AS k, count(*) AS n FROM audit${where} GROUP BY ${col} ORDER BY n DESC`).all(...w.params) as { k: string; n: number }[];
    for (const r of rows) out[r.k] = r.n;
    return out;
  };
  const total = db.prepare(`SELECT count(*) FROM audit${where}`).pluck().get(...w.params) as number;
  const tools = new Map<string, number>();
  const countTool = (name: string, n: number) => {
    const k = nameKey(name);
    tools.set(k, (tools.get(k) ?? 0) + n);
  };
  if (adb.keys) {
    const rows = db
      .prepare(`SELECT min(id) AS id, count(*) AS n FROM audit${and("method = 'tools/call' AND target_k IS NOT NULL")} GROUP BY target_k ORDER BY n DESC`)
      .all(...w.params) as { id: number; n: number }[];
    const one = db.prepare('SELECT target FROM audit WHERE id = ?').pluck();
    for (const r of rows) countTool(adb.keys.decrypt(one.get(r.id) as string, aadFor('target', r.id)), r.n);
  } else {
    const rows = db
      .prepare(`SELECT target AS k, count(*) AS n FROM audit${and("method = 'tools/call' AND target IS NOT NULL")} GROUP BY target ORDER BY n DESC`)
      .all(...w.params) as { k: string; n: number }[];
    for (const r of rows) countTool(r.k, r.n);
  }
  const byTool = Object.fromEntries([...tools].sort((a, b) => b[1] - a[1]));
  const byFinding: Record<string, number> = {};
  const frows = db
    .prepare(`SELECT f.type AS k, sum(f.count) AS n FROM audit_finding f WHERE f.audit_id IN (SELECT id FROM audit${where}) GROUP BY f.type ORDER BY n DESC`)
    .all(...w.params) as { k: string; n: number }[];
  if (adb.keys && frows.length) {
    // Types are blind-indexed; recover names from the decrypted findings of one row per type.
    const names = new Map<string, string>();
    const ids = db.prepare(`SELECT f.type AS k, min(f.audit_id) AS id FROM audit_finding f GROUP BY f.type`).all() as { k: string; id: number }[];
    const one = db.prepare('SELECT findings FROM audit WHERE id = ?').pluck();
    for (const { id } of ids) {
      const list = JSON.parse(adb.keys.decrypt(one.get(id) as string, aadFor('findings', id))) as { type: string }[];
      for (const t of list) names.set(adb.keys.blindIndex('finding', t.type), t.type);
    }
    for (const r of frows) byFinding[names.get(r.k) ?? r.k] = r.n;
  } else for (const r of frows) byFinding[r.k] = r.n;
  const sortedOf = (col: string) =>
    db.prepare(`SELECT ${col} FROM audit${and(`${col} IS NOT NULL`)} ORDER BY ${col}`).pluck().all(...w.params) as number[];
  return {
    total,
    byDecision: group('decision'),
    byServer: group('server'),
    byMethod: group('method'),
    byTool,
    byFinding,
    latency: percentiles(sortedOf('upstream_ms')),
    overhead: percentiles(sortedOf('overhead_us')),
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time from a duration back from `now` (15m, 2h, 7d, 1w, 30s) or an ISO 8601 time
 * (2025-01-31, 2025-01-31T12:00:00Z). Anything else is an error saying what is accepted.
 */
export function parseTime(text: string, now = Date.now()): number {
  const s = text.trim();
  const d = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(s);
  if (d) return now - Number(d[1]) * UNITS[d[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) {
    const t = Date.parse(s);
    if (Number.isFinite(t)) return t;
  }
  throw new AuditQueryError(
    `invalid time "${text}": use a duration back from now (30s, 15m, 2h, 7d, 1w) or an ISO 8601 time (2025-01-31 or 2025-01-31T12:00:00Z)`,
  );
}

export function parseDecision(text: string): AuditDecision {
  if ((DECISIONS as readonly string[]).includes(text)) return text as AuditDecision;
  throw new AuditQueryError(`invalid decision "${text}": expected one of ${DECISIONS.join(', ')}`);
}

export function parseLimit(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 1_000_000) {
    throw new AuditQueryError(`invalid limit "${text}": expected a whole number from 1 to 1000000`);
  }
  return Number(text);
}
