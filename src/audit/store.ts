// The writing side of the audit database: one connection (owned by the writer thread), WAL,
// synchronous=NORMAL, one transaction per batch, the hash chain and chain head kept in step, and
// retention that deletes a prefix of the chain while recording a checkpoint so `verify` still holds.
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { privateDatabase, privateDir } from '../protocol/private-files.js';
import { FINDING_SIDES, type AuditFinding, type AuditRecord } from './record.js';
import { HASHED_COLUMNS, initSchema, type MetaState } from './schema.js';
import { rowHash, storable, type StoredValue } from './chain.js';
import { AuditKeys, aadFor } from './crypto.js';

export class AuditStoreError extends Error {
  override name = 'AuditStoreError';
}

export interface AuditStoreOptions {
  path: string;
  /** 32-byte key: encrypt sensitive columns. A database is encrypted or not from its creation. */
  key?: Buffer;
}

/** Keep only the fields a finding may have: a stray raw match must never reach the disk. */
function cleanFindings(findings: readonly AuditFinding[] | undefined): AuditFinding[] | undefined {
  if (!findings || findings.length === 0) return undefined;
  return findings.map((f) => ({
    type: String(f.type),
    count: Number.isFinite(f.count) ? Math.trunc(f.count) : 0,
    hashes: Array.isArray(f.hashes) ? f.hashes.map(String) : [],
    ...(f.side !== undefined && FINDING_SIDES.includes(f.side) ? { side: f.side } : {}),
  }));
}

export interface Batch {
  records: readonly AuditRecord[];
  /** The channel's batch sequence number (exactly-once replay); batches are given in order. */
  seq?: number;
}

export class AuditStore {
  readonly db: Database.Database;
  readonly keys?: AuditKeys;
  private meta: MetaState;
  private headId: number;
  private headHash: Buffer;
  private readonly insertRow: Database.Statement;
  private readonly insertFinding: Database.Statement;
  private readonly putMeta: Database.Statement;
  private readonly putPrincipal: Database.Statement;
  /** (identity, user) pairs already in the principals table: identity → user names. */
  private readonly principals = new Map<unknown, Set<unknown>>();
  private readonly txBatch: (batches: readonly Batch[]) => void;

  private constructor(db: Database.Database, keys: AuditKeys | undefined, meta: MetaState) {
    this.db = db;
    this.keys = keys;
    this.meta = meta;
    this.headId = meta.headId;
    this.headHash = Buffer.from(meta.headHash, 'hex');
    const cols = HASHED_COLUMNS.join(', ');
    const qs = HASHED_COLUMNS.map(() => '?').join(', ');
    this.insertRow = db.prepare(`INSERT INTO audit (${cols}, hash, id) VALUES (${qs}, ?, ?)`);
    this.insertFinding = db.prepare(
      'INSERT INTO audit_finding (type, audit_id, count) VALUES (?, ?, ?) ' +
        'ON CONFLICT (type, audit_id) DO UPDATE SET count = count + excluded.count',
    );
    this.putMeta = db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)');
    this.putPrincipal = db.prepare('INSERT OR IGNORE INTO principals (identity, user) VALUES (?, ?)');
    // Where --user looks up an identity: the plain columns, or their blind indexes when encrypted.
    const who = keys ? [HASHED_COLUMNS.indexOf('identity_k'), HASHED_COLUMNS.indexOf('user_k')] : [HASHED_COLUMNS.indexOf('identity'), HASHED_COLUMNS.indexOf('user')];
    const [whoIdentity, whoUser] = who as [number, number];
    this.txBatch = db.transaction((batches: readonly Batch[]) => {
      let id = this.headId;
      let prev = this.headHash;
      let lastSeq: number | undefined;
      for (const { records, seq } of batches) {
        for (const rec of records) {
          id++;
          const values: unknown[] = this.stored(rec, id);
          const hash = rowHash(prev, values as StoredValue[]);
          const identity = values[whoIdentity];
          if (identity !== null) {
            const user = values[whoUser];
            let users = this.principals.get(identity);
            if (!users) this.principals.set(identity, (users = new Set()));
            if (!users.has(user)) {
              this.putPrincipal.run(identity, user);
              users.add(user);
            }
          }
          values.push(hash, id);
          this.insertRow.run(values);
          const findings = rec.findings;
          if (findings) {
            for (const f of findings) this.insertFinding.run(this.findingKey(String(f.type)), id, f.count | 0);
          }
          prev = hash;
        }
        if (seq !== undefined) lastSeq = seq;
      }
      this.putMeta.run('head_id', String(id));
      this.putMeta.run('head_hash', prev.toString('hex'));
      if (lastSeq !== undefined) this.putMeta.run('last_seq', String(lastSeq));
      // Only now, inside the transaction body that is about to commit, advance the in-memory head;
      // if COMMIT itself fails the caller reopens the store (the writer thread restarts).
      this.headId = id;
      this.headHash = prev;
      if (lastSeq !== undefined) this.meta.lastSeq = lastSeq;
    });
  }

  static open(opts: AuditStoreOptions): AuditStore {
    // audit.path may be anywhere: its directory (when missing) and files are private all the same.
    privateDir(dirname(opts.path));
    privateDatabase(opts.path);
    const db = new Database(opts.path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // A page cache large enough to hold the hot index leaves (each batch appends to one leaf per
      // index value); default is 2 MB. Temp b-trees in memory.
      db.pragma('cache_size = -65536');
      db.pragma('temp_store = MEMORY');
      // Checkpoint (and fsync, under synchronous=NORMAL) every ~80 MB of WAL rather than every 4 MB.
      db.pragma('wal_autocheckpoint = 20000');
      const keys = opts.key ? new AuditKeys(opts.key) : undefined;
      const meta = initSchema(db, { encrypted: !!keys, keyCheck: keys?.check });
      if (meta.encrypted && !keys) {
        throw new AuditStoreError(
          `${opts.path}: the audit database is encrypted but no key is configured (audit.encryption.key_file or key_env)`,
        );
      }
      if (!meta.encrypted && keys) {
        throw new AuditStoreError(
          `${opts.path}: the audit database was created without encryption; a key is configured now. ` +
            `Move the old database aside to start an encrypted one.`,
        );
      }
      if (keys && meta.keyCheck !== keys.check) {
        throw new AuditStoreError(`${opts.path}: the configured audit key is not the key this database was encrypted with`);
      }
      return new AuditStore(db, keys, meta);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  get lastSeq(): number {
    return this.meta.lastSeq;
  }
  get head(): { id: number; hash: string } {
    return { id: this.headId, hash: this.headHash.toString('hex') };
  }

  /**
   * Insert a batch in one transaction. With a sequence number, a batch already committed (a
   * replay after the writer crashed between commit and ack) is skipped: returns false.
   */
  insertBatch(records: readonly AuditRecord[], seq?: number): boolean {
    return this.insertBatches([{ records, seq }])[0]!;
  }

  /**
   * Insert several batches in one transaction (group commit: one WAL commit and one write of each
   * dirty index page for all of them). Returns, per batch, whether it was inserted (false: a
   * replay of a batch already committed, skipped).
   */
  insertBatches(batches: readonly Batch[]): boolean[] {
    const fresh = batches.map((b) => b.seq === undefined || b.seq > this.meta.lastSeq);
    const todo = batches.filter((_, i) => fresh[i]);
    if (todo.length === 0) return fresh;
    const headId = this.headId;
    const headHash = this.headHash;
    const lastSeq = this.meta.lastSeq;
    try {
      this.txBatch(todo);
    } catch (e) {
      this.headId = headId;
      this.headHash = headHash;
      this.meta.lastSeq = lastSeq;
      this.principals.clear(); // some may have been rolled back
      throw e;
    }
    return fresh;
  }

  private findingKey(type: string): string {
    return this.keys ? this.keys.blindIndex('finding', type) : type;
  }

  /** Stored values in HASHED_COLUMNS order, encrypted where configured. */
  private stored(r: AuditRecord, id: number): StoredValue[] {
    const findings = cleanFindings(r.findings);
    const identity = storable(r.identity);
    const user = storable(r.user) ?? ''; // never NULL: --user finds an identity's rows by user name
    const target = storable(r.target);
    const reason = storable(r.reason);
    const findingsJson = findings ? JSON.stringify(findings) : null;
    const k = this.keys;
    const enc = (col: string, v: StoredValue): StoredValue =>
      k && v !== null ? k.encrypt(String(v), aadFor(col, id)) : v;
    const bi = (col: string, v: StoredValue): StoredValue => (k && v !== null ? k.blindIndex(col, String(v)) : null);
    return [
      storable(r.ts),
      storable(r.session) ?? '',
      enc('identity', identity),
      enc('user', user),
      JSON.stringify(Array.isArray(r.roles) ? r.roles.map(String) : []),
      storable(r.server) ?? '',
      storable(r.direction) ?? '',
      storable(r.kind) ?? '',
      storable(r.method) ?? '',
      enc('target', target),
      storable(r.decision) ?? '',
      storable(r.stage),
      enc('reason', reason),
      enc('findings', findingsJson),
      storable(r.error_code),
      storable(r.bytes_in),
      storable(r.bytes_out),
      storable(r.upstream_ms),
      storable(r.overhead_us),
      storable(r.request_id),
      bi('identity', identity),
      bi('user', user),
      bi('target', target),
      storable(r.era),
      storable(r.call),
      storable(r.round),
    ];
  }

  /**
   * Delete up to `maxRows` of the oldest rows with ts < cutoffMs, as a prefix of the chain (a row
   * is only deleted if every row before it is too), and move the checkpoint to the last deleted
   * row in the same transaction. Returns the number of rows deleted.
   */
  applyRetention(cutoffMs: number, maxRows = 5000): number {
    const cp = this.db.prepare("SELECT v FROM meta WHERE k = 'checkpoint_id'").pluck().get() as string | undefined;
    const checkpointId = Number(cp ?? '0');
    const firstKeep = this.db
      .prepare('SELECT id FROM audit NOT INDEXED WHERE id > ? AND ts >= ? ORDER BY id LIMIT 1')
      .pluck()
      .get(checkpointId, cutoffMs) as number | undefined;
    const lastOld = Math.min((firstKeep ?? this.headId + 1) - 1, checkpointId + maxRows);
    if (lastOld <= checkpointId) return 0;
    const row = this.db.prepare('SELECT hash, ts FROM audit WHERE id = ?').get(lastOld) as
      | { hash: Buffer; ts: number }
      | undefined;
    if (!row) throw new AuditStoreError(`retention: row ${lastOld} is missing; run \`mcp-guard logs verify\``);
    let deleted = 0;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM audit_finding WHERE audit_id <= ?').run(lastOld);
      deleted = this.db.prepare('DELETE FROM audit WHERE id > ? AND id <= ?').run(checkpointId, lastOld).changes;
      this.putMeta.run('checkpoint_id', String(lastOld));
      this.putMeta.run('checkpoint_hash', row.hash.toString('hex'));
      this.putMeta.run('checkpoint_ts', String(row.ts));
    })();
    return deleted;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
