// Piscina inspection worker (thin: the work is src/detect/batch.ts). Compiles one detector per
// config id (the first task of a pool carries it) and inspects one batch of raw lines per task.
import { compileBatchInspector, type BatchTask } from '../src/detect/batch.js';
import type { InspectResult } from '../src/detect/scan.js';

const inspectors = new Map<number, (task: BatchTask) => InspectResult[]>();

export default function run(task: BatchTask): InspectResult[] {
  // Test-only failure injection: set only by pools built with testHooks.
  if (task.testHooks && task.fail === 'throw') throw new Error('injected worker failure');
  if (task.testHooks && task.fail === 'exit') process.exit(3);
  if (task.testHooks && task.fail === 'hang') {
    const end = Date.now() + (task.hangMs ?? 1000);
    while (Date.now() < end);
  }
  let inspect = inspectors.get(task.config.id);
  if (!inspect) {
    if (inspectors.size >= 16) inspectors.delete(inspectors.keys().next().value!);
    inspect = compileBatchInspector(task.config.pii, Buffer.from(task.config.hashKey));
    inspectors.set(task.config.id, inspect);
  }
  return inspect(task);
}
