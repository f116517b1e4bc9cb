// The audit channel (pino / thread-stream style): the hot path appends a record to an in-memory
// batch; a batch is packed once with msgpackr and transferred to the writer thread on size or
// after flush_ms. Batches stay here until the writer acks their commit, so a crashed writer is
// restarted and its unacked batches replayed (the writer skips any it had already committed).
// Back-pressure is explicit: write() returns false once queue_limit records are unacked.
// A writer that cannot commit (full disk) keeps its batches and retries; meanwhile the log reports
// itself full at once (new requests are refused) and takes only STALL_MARGIN more records, so
// what a kill could lose stays bounded. Fairness: one session may hold at most its share of the
// queue (queue_limit / (n + 1), n = sessions with records waiting), so a flood in one session
// never fills the queue for the others. Durability `acknowledged`: answers wait on afterCommit(),
// and batches leave at the end of the I/O turn instead of after flush_ms (group commit).
import { Worker } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import type { AuditConfig } from '../config/audit-schema.js';
import type { AuditRecord, AuditSink } from './record.js';
import type { FromWriter, ToWriter, WriterData } from './channel.js';

// Compiled layout: dist/src/audit/log.js → dist/workers/audit-writer.js
export const WRITER_URL = new URL('../../workers/audit-writer.js', import.meta.url);

export class AuditLogError extends Error {
  override name = 'AuditLogError';
}

export interface AuditLogOptions {
  path: string;
  config: AuditConfig;
  /** 32-byte encryption key (see key.ts); the database must have been created with it. */
  key?: Buffer;
  /** How often the writer applies retention (default hourly; it also runs at open). */
  retentionEveryMs?: number;
}

export interface AuditLogCounters {
  /** Records accepted by write(). */
  written: number;
  /** write() calls refused because the queue was full. */
  refused: number;
  /** Batches formed. */
  batches: number;
  /** postMessage calls carrying batches (includes replays). */
  posts: number;
  /** Records acknowledged as committed. */
  acked: number;
  /** Writer threads restarted after a crash. */
  restarts: number;
  /** Batches sent again to a restarted writer. */
  replayed: number;
  /** Replayed batches the writer had already committed (skipped, not duplicated). */
  duplicates: number;
  /** Rows removed by retention. */
  retained: number;
  /** Times the writer could not commit (each streak once). */
  stalls: number;
}

interface Pending {
  records: AuditRecord[];
  sent: boolean;
  /** Records written up to and including this batch's last (counters.written then). */
  upTo: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

const MAX_BACKOFF_MS = 2000;
/** Records taken after the writer reported it cannot commit: answers of requests already forwarded. */
export const STALL_MARGIN = 1000;

interface CommitWaiter {
  upTo: number;
  cb: () => void;
}

export class AuditLog implements AuditSink {
  /** Called on writer crashes, failed restarts and retention problems; the log keeps retrying. */
  onError?: (err: Error) => void;
  /** Called with warnings from the writer (e.g. retention). */
  onWarning?: (message: string) => void;
  /** Called when the writer stops being able to commit (with why) and when it can again (undefined). */
  onStall?: (reason: string | undefined) => void;

  readonly counters: AuditLogCounters = {
    written: 0,
    refused: 0,
    batches: 0,
    posts: 0,
    acked: 0,
    restarts: 0,
    replayed: 0,
    duplicates: 0,
    retained: 0,
    stalls: 0,
  };

  private readonly data: WriterData;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly queueLimit: number;
  /** audit.durability: acknowledged. */
  readonly acknowledged: boolean;
  private readonly packr = new Packr({ useRecords: true });

  private worker!: Worker;
  private ready = false;
  private batch: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly unacked = new Map<number, Pending>();
  private nextSeq = 1;
  private _depth = 0;
  private flushWaiters: Waiter[] = [];
  private spaceWaiters: (() => void)[] = [];
  private backoffMs = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  /** close() reached its deadline with records the writer could not commit. */
  private gaveUp = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Why the writer cannot commit, while it cannot; and the depth past which nothing more is taken. */
  private stalledBy: string | undefined;
  private stallLimit = 0;
  /** Records not yet committed, per session (fairness); a session with none has no entry. */
  private readonly bySession = new Map<string, number>();
  private readonly shareWaiters = new Map<string, () => void>();
  private commitWaiters: CommitWaiter[] = [];
  private immediate: NodeJS.Immediate | undefined;

  private constructor(opts: AuditLogOptions) {
    this.batchSize = opts.config.batch_size;
    this.flushMs = opts.config.flush_ms;
    this.queueLimit = opts.config.queue_limit;
    this.acknowledged = opts.config.durability === 'acknowledged';
    this.data = {
      path: opts.path,
      key: opts.key ? new Uint8Array(opts.key) : undefined,
      retentionDays: opts.config.retention_days,
      retentionEveryMs: opts.retentionEveryMs ?? 3_600_000,
    };
  }

  /** Start the writer thread; resolves once the database is open, rejects if it cannot be. */
  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(opts);
    await log.start(true);
    return log;
  }

  /** Records accepted but not yet committed. */
  get depth(): number {
    return this._depth;
  }
  /** At queue_limit, or the writer cannot commit: new requests are refused. */
  get full(): boolean {
    return this._depth >= this.queueLimit || this.stalledBy !== undefined;
  }
  /** write() would keep a record now (below the hard limit and not closing). */
  get accepting(): boolean {
    const limit = this.stalledBy === undefined ? this.queueLimit * 2 : this.stallLimit;
    return this._depth < limit && !this.closing;
  }
  /** Why the writer cannot commit, while it cannot (SQLite's words, e.g. a full disk). */
  get stalled(): string | undefined {
    return this.stalledBy;
  }

  /** The most one session may hold: queue_limit / (n + 1), n = sessions holding records. */
  get share(): number {
    return Math.max(1, Math.floor(this.queueLimit / (this.bySession.size + 1)));
  }
  /** Records of `session` not yet committed. */
  heldBy(session: string): number {
    return this.bySession.get(session) ?? 0;
  }
  overShare(session: string): boolean {
    return (this.bySession.get(session) ?? 0) >= this.share;
  }
  /**
   * Calls `cb` once `session` holds at most half its share, or at once when the writer cannot
   * commit (then nothing drains, and waiting would only hang the session: the hard limit rules).
   * One waiter per session; a second call replaces the first.
   */
  whenUnderShare(session: string, cb: () => void): void {
    if (this.stalledBy !== undefined || this.heldBy(session) <= this.share >> 1) return cb();
    this.shareWaiters.set(session, cb);
  }
  /** Durability: calls `cb` once every record written so far is committed (at once if it is). */
  afterCommit(cb: () => void): void {
    const upTo = this.counters.written;
    if (this.committedThrough() >= upTo) return cb();
    this.commitWaiters.push({ upTo, cb });
  }

  /**
   * Queue a record. `full` (queue_limit reached) tells the daemon to refuse new requests, while the
   * records of exchanges already in flight still fit: the hard limit is twice queue_limit. Past it,
   * or once closing, returns false and keeps nothing: the caller must not let that message pass.
   */
  write(rec: AuditRecord): boolean {
    if (!this.accepting) {
      this.counters.refused++;
      return false;
    }
    this.batch.push(rec);
    this._depth++;
    this.counters.written++;
    const s = rec.session;
    this.bySession.set(s, (this.bySession.get(s) ?? 0) + 1);
    if (this.batch.length >= this.batchSize) this.flushBatch();
    else if (this.acknowledged) this.immediate ??= setImmediate(this.onImmediate);
    else if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.flushMs);
    return true;
  }

  /** Resolves when write() would accept a record again (for `audit.on_full: block`). */
  whenWritable(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Resolves once every record written so far is committed. */
  flush(): Promise<void> {
    this.flushBatch();
    const seq = this.nextSeq - 1;
    if (this.ackedThrough() >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => this.flushWaiters.push({ seq, resolve, reject }));
  }

  /**
   * Commit everything queued, then stop the writer thread. With `deadlineMs`, a writer that still
   * cannot commit by then is stopped anyway (a full disk must not keep the daemon, and its lock,
   * alive): resolves to the number of records that were not committed (0 on a clean close).
   */
  close(deadlineMs?: number): Promise<number> {
    if (this.closed) return this.closed.then(() => this._depth);
    this.closing = true;
    this.closed = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        this.flush().then(() => false),
        ...(deadlineMs === undefined ? [] : [new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadlineMs)))]),
      ]);
      clearTimeout(timer);
      clearTimeout(this.restartTimer);
      const w = this.worker;
      if (gaveUp) {
        this.gaveUp = true;
        await w.terminate();
        return;
      }
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.ref();
        this.post({ t: 'close' });
      });
    })();
    return this.closed.then(() => this._depth);
  }

  /** Test hooks: stall, resume or kill the writer thread. Not for production code. */
  readonly testHooks = {
    worker: (): Worker => this.worker,
    pause: (): void => this.post({ t: 'pause' }),
    resume: (): void => this.post({ t: 'resume' }),
    /** Throw in the writer now, or exit right after committing the next batch (before its ack). */
    crash: (afterCommit = false): void => this.post({ t: 'crash', afterCommit }),
  };

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flushBatch();
  };
  private readonly onImmediate = (): void => {
    this.immediate = undefined;
    this.flushBatch();
  };

  private flushBatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.batch.length === 0) return;
    const records = this.batch;
    this.batch = [];
    const seq = this.nextSeq++;
    const p: Pending = { records, sent: false, upTo: this.counters.written };
    this.unacked.set(seq, p);
    this.counters.batches++;
    if (this.ready) this.send(seq, p);
  }

  private send(seq: number, p: Pending): void {
    const packed = this.packr.pack(p.records);
    // msgpackr packs into a shared, reused buffer: copy into an ArrayBuffer of our own to transfer.
    const bytes = new Uint8Array(packed.length);
    bytes.set(packed);
    if (p.sent) this.counters.replayed++;
    p.sent = true;
    this.counters.posts++;
    if (this.unacked.size === 1) this.worker.ref();
    this.worker.postMessage({ t: 'batch', seq, bytes } satisfies ToWriter, [bytes.buffer]);
  }

  private post(m: ToWriter): void {
    if (this.ready) this.worker.postMessage(m);
  }

  private ackedThrough(): number {
    for (const seq of this.unacked.keys()) return seq - 1; // Map keeps insertion (= seq) order
    return this.nextSeq - 1;
  }

  /** Records committed, counted in write order (every one before is committed too). */
  private committedThrough(): number {
    for (const p of this.unacked.values()) return p.upTo - p.records.length;
    return this.counters.written - this.batch.length;
  }

  private onAck(seq: number, duplicate: boolean): void {
    const p = this.unacked.get(seq);
    if (!p) return;
    this.unacked.delete(seq);
    this._depth -= p.records.length;
    this.counters.acked += p.records.length;
    if (duplicate) this.counters.duplicates++;
    for (const r of p.records) {
      const n = this.bySession.get(r.session)! - 1;
      if (n > 0) this.bySession.set(r.session, n);
      else this.bySession.delete(r.session);
    }
    if (this.shareWaiters.size > 0) {
      const half = this.share >> 1;
      for (const [session, cb] of this.shareWaiters) {
        if ((this.bySession.get(session) ?? 0) <= half) {
          this.shareWaiters.delete(session);
          cb();
        }
      }
    }
    if (this.commitWaiters.length > 0) {
      const through = this.committedThrough();
      let i = 0;
      while (i < this.commitWaiters.length && this.commitWaiters[i]!.upTo <= through) i++;
      if (i > 0) for (const w of this.commitWaiters.splice(0, i)) w.cb();
    }
    this.backoffMs = 0;
    // A commit went through (also from a writer restarted after a stall): not stalled any more.
    if (this.stalledBy !== undefined && !duplicate) this.recovered();
    if (this.unacked.size === 0 && !this.closing) this.worker.unref();
    const through = this.ackedThrough();
    if (this.flushWaiters.length > 0) {
      const still: Waiter[] = [];
      for (const w of this.flushWaiters) (w.seq <= through ? w.resolve : () => still.push(w))();
      this.flushWaiters = still;
    }
    if (this.spaceWaiters.length > 0 && !this.full) {
      const ws = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of ws) w();
    }
  }

  private recovered(): void {
    this.stalledBy = undefined;
    this.onStall?.(undefined);
  }

  private start(first: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = new Worker(WRITER_URL, { workerData: this.data });
      this.worker = w;
      let settled = false;
      let fatal: string | undefined;
      w.on('message', (m: FromWriter) => {
        switch (m.t) {
          case 'ready':
            this.ready = true;
            if (first) this.nextSeq = m.lastSeq + 1;
            // Batches the dead writer committed but never acked are done; replay the rest in order.
            for (const [seq, p] of this.unacked) {
              if (seq <= m.lastSeq) this.onAck(seq, true);
              else this.send(seq, p);
            }
            if (this.unacked.size === 0 && !this.closing) w.unref();
            settled = true;
            resolve();
            break;
          case 'ack':
            this.onAck(m.seq, m.duplicate);
            break;
          case 'fatal':
            fatal = m.message;
            break;
          case 'stalled':
            this.stalledBy = m.message;
            this.stallLimit = Math.min(this.queueLimit * 2, this._depth + Math.min(STALL_MARGIN, this.queueLimit));
            this.counters.stalls++;
            this.onStall?.(m.message);
            // Nothing drains while the writer is stuck: sessions waiting for their share go on,
            // bounded by the hard limit instead.
            for (const cb of this.shareWaiters.values()) cb();
            this.shareWaiters.clear();
            break;
          case 'recovered':
            if (this.stalledBy !== undefined) this.recovered();
            break;
          case 'warn':
            this.onWarning?.(m.message);
            break;
          case 'retention':
            this.counters.retained += m.deleted;
            break;
          case 'closed':
            break;
        }
      });
      w.on('error', (err) => {
        if (settled) this.onError?.(err);
        else fatal ??= err.message;
      });
      w.on('exit', (code) => {
        if (w !== this.worker) return;
        this.ready = false;
        if (this.closing && (this.unacked.size === 0 || this.gaveUp)) return; // orderly close, or given up at the deadline
        const err = new AuditLogError(
          fatal ? `audit writer failed: ${fatal}` : `audit writer thread exited (code ${code}); restarting`,
        );
        if (!settled && first) {
          settled = true;
          reject(err);
          return;
        }
        this.onError?.(err);
        settled = true;
        resolve();
        this.scheduleRestart();
      });
    });
  }

  private scheduleRestart(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(50, this.backoffMs * 2));
    this.counters.restarts++;
    this.restartTimer = setTimeout(() => {
      this.start(false).catch((e) => this.onError?.(e as Error));
    }, delay);
  }
}
