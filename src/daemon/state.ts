// Rate-limit state that survives a daemon restart: the limiter's buckets snapshotted to SQLite
// every few seconds and at shutdown, restored at start. Otherwise a restart would be a bypass.
// A snapshot that cannot be written (a full disk under state.db) is reported and retried at the
// next one; it never takes the daemon down (the buckets in memory still hold).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RateLimiter } from '../policy/ratelimit.js';
import type { Logger } from './log.js';
import { privateDatabase } from '../protocol/private-files.js';

const EVERY_MS = 5000;

export interface RateStateStatus {
  /** Epoch ms of the last snapshot written. */
  savedAt?: number;
  /** Why the last snapshot could not be written; absent once one is written again. */
  error?: string;
}

export class RateState {
  private db?: Database.Database;
  private readonly timer: NodeJS.Timeout;
  private readonly file: string;
  readonly status: RateStateStatus = {};

  constructor(
    home: string,
    private readonly limiter: RateLimiter,
    private readonly log: Logger,
  ) {
    this.file = join(home, 'state.db');
    try {
      const db = this.open();
      const row = db.prepare("SELECT v FROM kv WHERE k = 'rate'").get() as { v: string } | undefined;
      if (row) {
        try {
          const { wall, snap } = JSON.parse(row.v);
          const n = limiter.restore(snap, performance.now(), Date.now() - Number(wall));
          log.info('rate-limit state restored', { buckets: n });
        } catch (err) {
          log.warn('rate-limit state unreadable; starting with full buckets', { error: (err as Error).message });
        }
      }
    } catch (err) {
      this.failed(err);
    }
    this.timer = setInterval(() => this.save(), EVERY_MS);
    this.timer.unref();
  }

  private open(): Database.Database {
    if (this.db) return this.db;
    privateDatabase(this.file);
    const db = new Database(this.file);
    try {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    return db;
  }

  /** Write a snapshot; false (reported, retried at the next one) when it cannot be written. */
  save(): boolean {
    try {
      const v = JSON.stringify({ wall: Date.now(), snap: this.limiter.snapshot(performance.now()) });
      this.open().prepare("INSERT INTO kv (k, v) VALUES ('rate', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v").run(v);
    } catch (err) {
      this.failed(err);
      return false;
    }
    if (this.status.error) this.log.info('rate-limit state saved again', { file: this.file });
    this.status.error = undefined;
    this.status.savedAt = Date.now();
    return true;
  }

  private failed(err: unknown): void {
    const e = err as { code?: string; message?: string };
    const why = e.code ? `${e.message} (${e.code})` : String(e.message ?? err);
    // Once per streak: the snapshot repeats every few seconds while the disk stays full.
    if (!this.status.error) this.log.error('cannot save the rate-limit state; buckets are kept in memory and saving is retried', { file: this.file, error: why });
    this.status.error = why;
  }

  close(): void {
    clearInterval(this.timer);
    this.save();
    try {
      this.db?.close();
    } catch {
      /* closing a connection whose last write failed */
    }
  }
}
