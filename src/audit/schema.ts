// The audit database layout, shared by the writer thread, queries and `verify`.
// Column order here is the order hashed into the tamper-evidence chain (chain.ts): never reorder.
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 2;

/** Stored columns covered by the row hash, in hash order (id and hash itself excluded). */
export const HASHED_COLUMNS = [
  'ts',
  'session',
  'identity',
  'user',
  'roles',
  'server',
  'direction',
  'kind',
  'method',
  'target',
  'decision',
  'stage',
  'reason',
  'findings',
  'error_code',
  'bytes_in',
  'bytes_out',
  'upstream_ms',
  'overhead_us',
  'request_id',
  // Blind indexes (HMAC) of encrypted columns, NULL when the database is not encrypted.
  'identity_k',
  'user_k',
  'target_k',
  // Schema 2: the protocol era, and the logical call and round of a 2026 retried call.
  'era',
  'call',
  'round',
] as const;
export type HashedColumn = (typeof HASHED_COLUMNS)[number];

/**
 * Columns of schema 1. Later columns enter the row hash only up to the last one set (chain.ts), so
 * rows written before they existed verify unchanged.
 */
export const SCHEMA1_HASHED_COUNT = 23;

/** Columns each migration adds, with their SQL types (a database is brought up to date on open). */
const MIGRATIONS: Record<number, ReadonlyArray<[column: string, type: string]>> = {
  2: [
    ['era', 'TEXT'],
    ['call', 'TEXT'],
    ['round', 'INTEGER'],
  ],
};

/** Columns encrypted at rest when a key is configured. */
export const ENCRYPTED_COLUMNS = ['identity', 'user', 'target', 'reason', 'findings'] as const;
export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

const DDL = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
  id          INTEGER PRIMARY KEY,
  ts          INTEGER NOT NULL,
  session     TEXT NOT NULL,
  identity    TEXT,
  user        TEXT,
  roles       TEXT,
  server      TEXT NOT NULL,
  direction   TEXT NOT NULL,
  kind        TEXT NOT NULL,
  method      TEXT NOT NULL,
  target      TEXT,
  decision    TEXT NOT NULL,
  stage       TEXT,
  reason      TEXT,
  findings    TEXT,
  error_code  INTEGER,
  bytes_in    INTEGER,
  bytes_out   INTEGER,
  upstream_ms REAL,
  overhead_us REAL,
  request_id  TEXT,
  identity_k  TEXT,
  user_k      TEXT,
  target_k    TEXT,
  hash        BLOB NOT NULL,
  era         TEXT,
  call        TEXT,
  round       INTEGER
);
-- One row per (finding type, audit row) for --finding; type is a blind index when encrypted.
CREATE TABLE IF NOT EXISTS audit_finding (
  type     TEXT NOT NULL,
  audit_id INTEGER NOT NULL,
  count    INTEGER NOT NULL,
  PRIMARY KEY (type, audit_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_finding_id ON audit_finding (audit_id);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
CREATE INDEX IF NOT EXISTS audit_server ON audit (server);
-- No index on method (a handful of values, each common: the newest-first id scan finds LIMIT rows
-- quickly) and only a partial one on decision: 'allow' is the bulk of the log and found by the id
-- scan; the rare, interesting decisions are indexed (query.ts adds the matching literal term).
CREATE INDEX IF NOT EXISTS audit_decision_rare ON audit (decision) WHERE decision <> 'allow';
CREATE INDEX IF NOT EXISTS audit_session ON audit (session);
-- Which user names each identity has appeared with (blind indexes when encrypted). --user matches
-- the user name or the identity; with this table the identity side is answered through the user
-- index, which saves an index entry per row (about 10% of the writer's time).
CREATE TABLE IF NOT EXISTS principals (identity TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (identity, user)) WITHOUT ROWID;
`;

// Equality filters on user/target use the plain column, or its blind index when encrypted; only
// the ones the mode needs are indexed (fewer indexes, faster inserts).
const PLAIN_INDEXES = `
CREATE INDEX IF NOT EXISTS audit_user ON audit (user);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target);
`;
const ENCRYPTED_INDEXES = `
CREATE INDEX IF NOT EXISTS audit_user_k ON audit (user_k);
CREATE INDEX IF NOT EXISTS audit_target_k ON audit (target_k);
`;

export interface MetaState {
  version: number;
  encrypted: boolean;
  keyCheck?: string;
  /** Last batch sequence committed (exactly-once replay). */
  lastSeq: number;
  /** Chain head: id and hash of the last row written. */
  headId: number;
  headHash: string;
  /** Rows up to this id were deleted by retention; chain resumes from its hash. */
  checkpointId: number;
  checkpointHash: string;
  checkpointTs?: number;
}

export const GENESIS_HASH = '0'.repeat(64);

/** Create the schema if the database is new; returns the meta state. Run in the writer only. */
export function initSchema(db: Database.Database, mode: { encrypted: boolean; keyCheck?: string }): MetaState {
  const hadPrincipals = hasTable(db, 'principals');
  db.exec(DDL);
  const existing = readMeta(db);
  if (existing) {
    migrate(db, existing);
    // A database from before the principals table: fill it from the rows it already has.
    if (!hadPrincipals) {
      db.exec(
        existing.encrypted
          ? 'INSERT OR IGNORE INTO principals SELECT DISTINCT identity_k, user_k FROM audit WHERE identity_k IS NOT NULL AND user_k IS NOT NULL'
          : "INSERT OR IGNORE INTO principals SELECT DISTINCT identity, coalesce(user, '') FROM audit WHERE identity IS NOT NULL",
      );
    }
    return existing;
  }
  db.exec(mode.encrypted ? ENCRYPTED_INDEXES : PLAIN_INDEXES);
  const put = db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)');
  db.transaction(() => {
    put.run('version', String(SCHEMA_VERSION));
    put.run('encrypted', mode.encrypted ? '1' : '0');
    if (mode.keyCheck) put.run('key_check', mode.keyCheck);
    put.run('last_seq', '0');
    put.run('head_id', '0');
    put.run('head_hash', GENESIS_HASH);
    put.run('checkpoint_id', '0');
    put.run('checkpoint_hash', GENESIS_HASH);
  })();
  return readMeta(db)!;
}

/** Add the columns of each schema newer than the database's, in one transaction. */
function migrate(db: Database.Database, meta: MetaState): void {
  if (meta.version >= SCHEMA_VERSION) return;
  const have = new Set(auditColumns(db));
  db.transaction(() => {
    for (let v = meta.version + 1; v <= SCHEMA_VERSION; v++) {
      for (const [col, type] of MIGRATIONS[v] ?? []) if (!have.has(col)) db.exec(`ALTER TABLE audit ADD COLUMN ${col} ${type}`);
    }
    db.prepare("INSERT OR REPLACE INTO meta (k, v) VALUES ('version', ?)").run(String(SCHEMA_VERSION));
  })();
  meta.version = SCHEMA_VERSION;
}

/** The columns the audit table has (a reader may open a database the daemon has not migrated yet). */
export function auditColumns(db: Database.Database): string[] {
  return (db.prepare('PRAGMA table_info(audit)').all() as { name: string }[]).map((c) => c.name);
}

/** `cols` as a SELECT list, with NULL for columns a database from an older schema lacks. */
export function selectList(db: Database.Database, cols: readonly string[], alias = ''): string {
  const have = new Set(auditColumns(db));
  return cols.map((c) => (have.has(c) ? `${alias}${c}` : `NULL AS ${c}`)).join(', ');
}

export function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Meta state, or undefined if the database has never been initialised. */
export function readMeta(db: Database.Database): MetaState | undefined {
  if (!hasTable(db, 'meta')) return undefined;
  const rows = db.prepare('SELECT k, v FROM meta').all() as { k: string; v: string }[];
  if (rows.length === 0) return undefined;
  const m = new Map(rows.map((r) => [r.k, r.v]));
  const num = (k: string) => Number(m.get(k) ?? '0');
  return {
    version: num('version'),
    encrypted: m.get('encrypted') === '1',
    keyCheck: m.get('key_check'),
    lastSeq: num('last_seq'),
    headId: num('head_id'),
    headHash: m.get('head_hash') ?? GENESIS_HASH,
    checkpointId: num('checkpoint_id'),
    checkpointHash: m.get('checkpoint_hash') ?? GENESIS_HASH,
    checkpointTs: m.has('checkpoint_ts') ? num('checkpoint_ts') : undefined,
  };
}
