// The inspection pool: Piscina workers running workers/inspect.js. Every inspect() call made in one
// event-loop turn goes to the pool as ONE task (DESIGN.md section 1: one task per message is a trap).
// Any failure of a batch (worker crash, exception, timeout) blocks every message of it: fail closed.
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { PiiConfig } from '../config/pii-schema.js';
import type { ScanDirection } from '../detect/detector.js';
import type { BatchItem, BatchTask } from '../detect/batch.js';
import type { InspectResult } from '../detect/scan.js';
import type { Inspector } from '../detect/stage.js';

// Compiled layout: dist/src/daemon/inspection-pool.js -> dist/workers/inspect.js
const WORKER = fileURLToPath(new URL('../../workers/inspect.js', import.meta.url));

interface Pending {
  line: Buffer;
  direction: ScanDirection;
  toolName?: string;
  resolve: (r: InspectResult) => void;
}

export interface InspectionPoolOptions {
  pii: PiiConfig;
  hashKey: Buffer;
  threads?: number;
  timeoutMs?: number;
  /** Tests only: lets a test make the next batch throw, exit or hang in the worker. */
  testHooks?: boolean;
}

// One Piscina per thread count for the whole process, never destroyed: re2 1.23.3 aborts the
// process when a worker loads it after the last worker that loaded it has exited
// (WrappedRE2Set::Init keeps a static handle), so workers must outlive pools and config reloads.
// Pools share the workers; each task carries its config id and the worker caches one detector per id.
const shared = new Map<number, Piscina>();
let nextConfigId = 1;

function sharedPiscina(threads: number): Piscina {
  let p = shared.get(threads);
  if (!p) {
    p = new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads, idleTimeout: Infinity });
    p.on('error', () => {});
    shared.set(threads, p);
  }
  return p;
}

export class InspectionPool implements Inspector {
  /** Number of Piscina tasks submitted (one per batch). */
  tasksSubmitted = 0;
  /** Number of batches that failed and were blocked. */
  batchesFailed = 0;
  private readonly piscina: Piscina;
  private readonly timeoutMs: number;
  private queue: Pending[] = [];
  private scheduled = false;
  private injectNext: BatchTask['fail'];
  private readonly testHooks: boolean;

  constructor(opts: InspectionPoolOptions) {
    const threads = opts.threads ?? (opts.pii.threads || Math.max(1, Math.min(4, availableParallelism() - 1)));
    this.timeoutMs = opts.timeoutMs ?? opts.pii.timeout_ms ?? 5000;
    this.testHooks = opts.testHooks === true;
    this.piscina = sharedPiscina(threads);
    this.config = { id: nextConfigId++, pii: opts.pii, hashKey: new Uint8Array(opts.hashKey) };
  }
  private readonly config: BatchTask['config'];

  /** Tests only: the next batch fails this way inside the worker. */
  injectFailure(kind: NonNullable<BatchTask['fail']>): void {
    if (!this.testHooks) throw new Error('InspectionPool: failure injection needs testHooks');
    this.injectNext = kind;
  }

  inspect(line: Buffer, direction: ScanDirection, toolName?: string): Promise<InspectResult> {
    return new Promise((resolve) => {
      this.queue.push({ line, direction, ...(toolName !== undefined ? { toolName } : {}), resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let total = 0;
    for (const p of batch) total += p.line.length;
    // One owned ArrayBuffer for the whole batch, transferred (not copied) to the worker.
    const bytes = new Uint8Array(new ArrayBuffer(total));
    const items: BatchItem[] = [];
    let off = 0;
    for (const p of batch) {
      bytes.set(p.line, off);
      items.push({ start: off, end: off + p.line.length, direction: p.direction, ...(p.toolName !== undefined ? { toolName: p.toolName } : {}) });
      off += p.line.length;
    }
    const task: BatchTask = { bytes, items, config: this.config };
    if (this.injectNext) {
      task.fail = this.injectNext;
      task.testHooks = true;
      this.injectNext = undefined;
    }
    this.tasksSubmitted++;
    // The time limit is a timer, not an abort: aborting terminates the worker, and re2 1.23.3 crashes
    // the process when a replacement worker loads it after a worker died (WrappedRE2Set::Init). RE2
    // is linear-time, so a late worker finishes; its result is discarded.
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      this.batchesFailed++;
      for (const p of batch) p.resolve(failed(why));
    };
    const timer = setTimeout(() => fail(`inspection timed out after ${this.timeoutMs} ms`), this.timeoutMs);
    this.piscina.run(task, { transferList: [bytes.buffer] }).then(
      (results: InspectResult[]) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i] ?? failed('inspection returned no result'));
      },
      (err: unknown) => {
        clearTimeout(timer);
        fail(`inspection worker failed (${(err as Error)?.name ?? 'error'})`);
      },
    );
  }

  /** Flushes queued work; the shared workers stay up for later pools (see `shared`). */
  async close(): Promise<void> {
    if (this.queue.length) this.flush();
  }
}

function failed(reason: string): InspectResult {
  return { action: 'block', findings: [], blockedTypes: [], reason };
}
