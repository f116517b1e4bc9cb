// Rate-limit state that survives a daemon restart: the limiter's buckets snapshotted to SQLite
// every few seconds and at shutdown, restored at start. Otherwise a restart would be a bypass.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RateLimiter } from '../policy/ratelimit.js';
import type { Logger } from './log.js';
import { privateDatabase } from '../protocol/private-files.js';

const EVERY_MS = 5000;

export class RateState {
  private readonly db: Database.Database;
  private readonly timer: NodeJS.Timeout;

  constructor(
    home: string,
    private readonly limiter: RateLimiter,
    log: Logger,
  ) {
    const path = join(home, 'state.db');
    privateDatabase(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    const row = this.db.prepare("SELECT v FROM kv WHERE k = 'rate'").get() as { v: string } | undefined;
    if (row) {
      try {
        const { wall, snap } = JSON.parse(row.v);
        const n = limiter.restore(snap, performance.now(), Date.now() - Number(wall));
        log.info('rate-limit state restored', { buckets: n });
      } catch (err) {
        log.warn('rate-limit state unreadable; starting with full buckets', { error: (err as Error).message });
      }
    }
    this.timer = setInterval(() => this.save(), EVERY_MS);
    this.timer.unref();
  }

  save(): void {
    const v = JSON.stringify({ wall: Date.now(), snap: this.limiter.snapshot(performance.now()) });
    this.db.prepare("INSERT INTO kv (k, v) VALUES ('rate', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v").run(v);
  }

  close(): void {
    clearInterval(this.timer);
    this.save();
    this.db.close();
  }
}
