// The audit writer thread: owns the SQLite connection, commits each msgpack batch from the main
// thread in one transaction and acks it. Thin: the storage logic is src/audit/store.ts.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Unpackr } from 'msgpackr';
import { AuditStore, type Batch } from '../src/audit/store.js';
import type { FromWriter, ToWriter, WriterData } from '../src/audit/channel.js';
import type { AuditRecord } from '../src/audit/record.js';

const port = parentPort!;
const data = workerData as WriterData;
const post = (m: FromWriter) => port.postMessage(m);
const unpackr = new Unpackr({ useRecords: true });

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

/** Rows committed in one transaction at most when batches have piled up (group commit). */
const GROUP_ROWS = 20_000;

function pump(): void {
  // Take every message already waiting: under load batches pile up while a transaction runs, and
  // committing them together writes each dirty index page once instead of once per batch.
  for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) handle(r.message as ToWriter);
  while (!paused && queue.length > 0) {
    const group: (Batch & { seq: number })[] = [];
    let rows = 0;
    while (queue.length > 0 && (group.length === 0 || rows < GROUP_ROWS)) {
      const m = queue.shift()!;
      const records = unpackr.unpack(m.bytes) as AuditRecord[];
      group.push({ records, seq: m.seq });
      rows += records.length;
    }
    const inserted = store.insertBatches(group);
    if (crashAfterCommit) process.exit(3); // committed, never acked: the replay must be skipped
    group.forEach((b, i) => post({ t: 'ack', seq: b.seq, n: b.records.length, duplicate: !inserted[i] }));
  }
  if (closing && queue.length === 0) {
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

port.on('message', (m: ToWriter) => {
  handle(m);
  pump();
});

post({ t: 'ready', lastSeq: store.lastSeq, headId: store.head.id });
setImmediate(retention);
