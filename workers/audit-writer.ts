// The audit writer thread: owns the SQLite connection, commits each msgpack batch from the main
// thread in one transaction and acks it. Thin: the storage logic is src/audit/store.ts.
// A commit that fails (a full disk, an I/O error, a lock held past busy_timeout) rolls back; its
// batches stay here, first in line, and are retried with backoff until one commits. The main
// thread hears `stalled` once and `recovered` after, and refuses new requests meanwhile.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Unpackr } from 'msgpackr';
import { AuditStore, type Batch } from '../src/audit/store.js';
import type { FromWriter, ToWriter, WriterData } from '../src/audit/channel.js';
import type { AuditRecord } from '../src/audit/record.js';

const port = parentPort!;
const data = workerData as WriterData;
const post = (m: FromWriter) => port.postMessage(m);
const unpackr = new Unpackr({ useRecords: true });
/** Backoff between retries of a failed commit: soon after space comes back, without spinning. */
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1000;

let store: AuditStore;
try {
  store = AuditStore.open({ path: data.path, key: data.key ? Buffer.from(data.key) : undefined });
} catch (e) {
  post({ t: 'fatal', message: (e as Error).message });
  process.exit(1);
}

const queue: Extract<ToWriter, { t: 'batch' }>[] = [];
let paused = false;
let crashAfterCommit = false;
let closing = false;
/** The group whose commit failed: retried before anything else. */
let failed: (Batch & { seq: number })[] | undefined;
/** Why commits fail, while they do. */
let stalled: string | undefined;
let retryTimer: NodeJS.Timeout | undefined;
let retryMs = RETRY_MIN_MS;

/** Rows committed in one transaction at most when batches have piled up (group commit). */
const GROUP_ROWS = 20_000;

function pump(): void {
  // Take every message already waiting: under load batches pile up while a transaction runs, and
  // committing them together writes each dirty index page once instead of once per batch.
  for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) handle(r.message as ToWriter);
  if (retryTimer) return; // waiting to retry a failed commit
  while (!paused && (failed || queue.length > 0)) {
    let group = failed;
    failed = undefined;
    if (!group) {
      group = [];
      let rows = 0;
      while (queue.length > 0 && (group.length === 0 || rows < GROUP_ROWS)) {
        const m = queue.shift()!;
        const records = unpackr.unpack(m.bytes) as AuditRecord[];
        group.push({ records, seq: m.seq });
        rows += records.length;
      }
    }
    let inserted: boolean[];
    try {
      inserted = store.insertBatches(group);
    } catch (e) {
      // Rolled back (the store restored its chain head): keep the group and try again later.
      failed = group;
      const why = describe(e);
      if (stalled === undefined) post({ t: 'stalled', message: why });
      stalled = why;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        pump();
      }, retryMs);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      return;
    }
    if (stalled !== undefined) {
      stalled = undefined;
      retryMs = RETRY_MIN_MS;
      post({ t: 'recovered' });
    }
    if (crashAfterCommit) process.exit(3); // committed, never acked: the replay must be skipped
    group.forEach((b, i) => post({ t: 'ack', seq: b.seq, n: b.records.length, duplicate: !inserted[i] }));
  }
  if (closing && queue.length === 0 && !failed) {
    store.close();
    post({ t: 'closed' });
    port.close();
  }
}

// Retention: a prefix of the chain at a time, yielding between chunks so batches keep flowing.
function retention(): void {
  if (closing) return;
  try {
    const cutoff = Date.now() - data.retentionDays * 86_400_000;
    const deleted = store.applyRetention(cutoff, 5000);
    if (deleted > 0) {
      post({ t: 'retention', deleted });
      setImmediate(retention);
    }
  } catch (e) {
    post({ t: 'warn', message: `audit retention failed: ${(e as Error).message}` });
  }
}
setInterval(retention, data.retentionEveryMs).unref();

function handle(m: ToWriter): void {
  switch (m.t) {
    case 'batch':
      queue.push(m);
      break;
    case 'pause':
      paused = true;
      break;
    case 'resume':
      paused = false;
      break;
    case 'crash':
      if (!m.afterCommit) throw new Error('audit writer: crash requested by test hook');
      crashAfterCommit = true;
      break;
    case 'close':
      closing = true;
      paused = false;
      break;
  }
}

/** SQLite's message and code, e.g. `database or disk is full (SQLITE_FULL)`: no row content. */
function describe(e: unknown): string {
  const err = e as { message?: string; code?: string };
  const msg = String(err.message ?? e);
  return err.code && !msg.includes(err.code) ? `${msg} (${err.code})` : msg;
}

port.on('message', (m: ToWriter) => {
  handle(m);
  pump();
});

post({ t: 'ready', lastSeq: store.lastSeq, headId: store.head.id });
setImmediate(retention);
