// The API key store: `<home>/keys.db` (SQLite, 0600) holding for each key a non-secret lookup id,
// the SHA-256 of the key, a name, roles and revocation time. The key itself is never stored.
import Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { privateDatabase, privateDir } from '../protocol/private-files.js';

/** `mcpg_<16 hex id>_<43 base64url chars = 32 random bytes>` */
export const KEY_PREFIX = 'mcpg_';
const KEY_SHAPE = /^mcpg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const NAME_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const ROLE_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export interface ApiKeyInfo {
  id: string;
  name: string;
  roles: string[];
  createdAt: Date;
  revokedAt?: Date;
}

interface Row {
  id: string;
  name: string;
  hash: Buffer;
  roles: string;
  created_at: number;
  revoked_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  hash BLOB NOT NULL,
  roles TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL;
`;

// Compared against when the id is unknown, so both paths do the same hashing and comparison.
const DUMMY_HASH = createHash('sha256').update('mcp-guard: no such key').digest();

export function keysPath(home: string): string {
  return join(home, 'keys.db');
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class KeyStore {
  private readonly db: Database.Database;
  private readonly byId: Database.Statement<[string], Row>;

  private constructor(db: Database.Database) {
    this.db = db;
    this.byId = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?');
  }

  /** Opens (creating 0600 if missing) the store in `home`. */
  static open(home: string): KeyStore {
    privateDir(home);
    const path = keysPath(home);
    privateDatabase(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return new KeyStore(db);
  }

  /** Creates a key; returns the key string, which exists nowhere else afterwards. */
  create(name: string, roles: string[], now = new Date()): { key: string; info: ApiKeyInfo } {
    if (!NAME_SHAPE.test(name)) throw new Error(`key name '${name}' must be 1-64 letters, digits, '.', '_', '@' or '-'`);
    if (roles.length === 0) throw new Error('a key needs at least one --role');
    for (const r of roles) if (!ROLE_SHAPE.test(r)) throw new Error(`role '${r}' must be 1-64 letters, digits, '.', '_', ':' or '-'`);
    const id = randomBytes(8).toString('hex');
    const key = `${KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
    const uniqueRoles = [...new Set(roles)];
    try {
      this.db
        .prepare('INSERT INTO api_keys (id, name, hash, roles, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)')
        .run(id, name, sha256(key), JSON.stringify(uniqueRoles), now.getTime());
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new Error(`an active key named '${name}' already exists; revoke it first or pick another name`);
      }
      throw err;
    }
    return { key, info: { id, name, roles: uniqueRoles, createdAt: now } };
  }

  list(): ApiKeyInfo[] {
    return this.db
      .prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, name')
      .all()
      .map(toInfo);
  }

  /** Revokes the active key called `name`; returns false if there is none. */
  revoke(name: string, now = new Date()): boolean {
    const r = this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(now.getTime(), name);
    return r.changes > 0;
  }

  /**
   * The key's record if `presented` is a valid, unrevoked key. Reads the database on every call,
   * so a revocation by `mcp-guard keys revoke` applies to the next connection. Errors never
   * contain the presented key.
   */
  verify(presented: string): ApiKeyInfo {
    const m = KEY_SHAPE.exec(presented);
    const row = m ? this.byId.get(m[1]!) : undefined;
    // Same work whether or not the id exists; the id itself is not secret.
    const ok = timingSafeEqual(sha256(presented), row ? row.hash : DUMMY_HASH) && row !== undefined;
    if (!ok || !row) {
      throw new Error(m ? 'API key not recognised; create one with `mcp-guard keys create`' : 'the API key is malformed (expected mcpg_…); check MCP_GUARD_API_KEY or --key-file');
    }
    if (row.revoked_at !== null) {
      throw new Error(`API key '${row.name}' was revoked on ${new Date(row.revoked_at).toISOString()}; ask for a new key`);
    }
    return toInfo(row);
  }

  /** True while the key with this id exists and is not revoked (checked for live sessions). */
  isActive(id: string): boolean {
    const row = this.db.prepare<[string], { revoked_at: number | null }>('SELECT revoked_at FROM api_keys WHERE id = ?').get(id);
    return row !== undefined && row.revoked_at === null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toInfo(row: Row): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    roles: JSON.parse(row.roles) as string[],
    createdAt: new Date(row.created_at),
    ...(row.revoked_at !== null ? { revokedAt: new Date(row.revoked_at) } : {}),
  };
}
