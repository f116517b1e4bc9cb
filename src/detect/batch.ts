// One batch of raw message lines in, one InspectResult per line out. Shared by the pool worker and
// by tests/benchmarks that want the same code path without threads.
import type { PiiConfig } from '../config/pii-schema.js';
import { compileDetector, type ScanDirection } from './detector.js';
import { inspectMessage, type InspectResult } from './scan.js';

export interface BatchItem {
  /** Byte range of this message in `BatchTask.bytes`. */
  start: number;
  end: number;
  direction: ScanDirection;
  toolName?: string;
}

export interface BatchTask {
  /** The pool's config: compiled once per id by each worker. */
  config: { id: number; pii: PiiConfig; hashKey: Uint8Array };
  bytes: Uint8Array;
  items: BatchItem[];
  /** Test-only failure injection (honoured only by pools built with testHooks). */
  fail?: 'throw' | 'exit' | 'hang';
  hangMs?: number;
  testHooks?: boolean;
}

export function compileBatchInspector(pii: PiiConfig, hashKey: Buffer): (task: BatchTask) => InspectResult[] {
  const det = compileDetector(pii, hashKey);
  return (task) => {
    const buf = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
    return task.items.map((it) => {
      let msg: object;
      try {
        msg = JSON.parse(buf.toString('utf8', it.start, it.end));
      } catch {
        return { action: 'block', findings: [], blockedTypes: [], reason: 'message is not valid JSON' };
      }
      try {
        return inspectMessage(msg, it.direction, det, it.toolName, buf.subarray(it.start, it.end));
      } catch (e) {
        return { action: 'block', findings: [], blockedTypes: [], reason: `inspection failed: ${(e as Error).name}` };
      }
    });
  };
}
