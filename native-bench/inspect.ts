// Full inspection throughput (parse + walk + normalise + rules) and pool dispatch: one inspect()
// per event-loop turn (one task per message) versus many in one turn (one task per batch).
// Prints tables and writes bench/results/native-inspect.json.
// Run: npx tsc -p . && node dist/native-bench/inspect.js
import { mkdirSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { compileDetector } from '../src/detect/detector.js';
import { inspectMessage } from '../src/detect/scan.js';
import { InspectionPool } from '../src/detect/pool.js';
import { PiiSchema } from '../src/config/pii-schema.js';

const PROSE = 'Customer wrote about order 4471 shipped on 2024-03-02; they asked for a refund and a call back. ';
function makeLine(size: number, dirty: boolean): Buffer {
  let text = '';
  while (text.length < size - 120) text += PROSE;
  text = text.slice(0, size - 120);
  if (dirty) text = text.slice(0, -60) + ' card 4111 1111 1111 1111 mail alice@example.com ';
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 42, result: { content: [{ type: 'text', text }] } }));
}

async function main(): Promise<void> {
  const pii = PiiSchema.parse({});
  const key = Buffer.from('bench-key');
  const det = compileDetector(pii, key);
  const bench = new Bench({ time: 200, warmupTime: 30 });
  const sizes = [1024, 10 * 1024, 100 * 1024, 1024 * 1024];
  const bytes = new Map<string, number>();
  for (const size of sizes) {
    for (const dirty of [false, true]) {
      const line = makeLine(size, dirty);
      const name = `inspect ${dirty ? 'dirty' : 'clean'} ${size >= 1048576 ? '1 MB' : size / 1024 + ' KB'}`;
      bytes.set(name, line.length);
      bench.add(name, () => inspectMessage(JSON.parse(line.toString()), 'response', det));
    }
  }
  await bench.run();
  const inspectRows = bench.tasks.map((t) => {
    const r = t.result as any;
    const ms = r.latency?.mean ?? r.period;
    const b = bytes.get(t.name)!;
    return { case: t.name, bytes: b, mean_us: +(ms * 1000).toFixed(1), mb_per_s: +(b / 1048576 / (ms / 1000)).toFixed(1) };
  });
  console.table(inspectRows);

  // Pool dispatch: N messages of 1 KB, one per turn vs all in one turn.
  const pool = new InspectionPool({ pii, hashKey: key, threads: 1 });
  const msg = makeLine(1024, true);
  await pool.inspect(msg, 'response'); // warm the worker and its detector
  const N = 2000;
  const dispatchRows: Record<string, unknown>[] = [];
  for (const mode of ['per-message', 'batched'] as const) {
    const t0 = process.hrtime.bigint();
    const tasks0 = pool.tasksSubmitted;
    if (mode === 'per-message') {
      for (let i = 0; i < N; i++) await pool.inspect(msg, 'response');
    } else {
      for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: 100 }, () => pool.inspect(msg, 'response')));
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    dispatchRows.push({ mode, messages: N, tasks: pool.tasksSubmitted - tasks0, msgs_per_s: Math.round(N / s), us_per_msg: +((s / N) * 1e6).toFixed(1) });
  }
  // Inline on the calling thread, same messages, for the stage's inline threshold.
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) inspectMessage(JSON.parse(msg.toString()), 'response', det);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  dispatchRows.push({ mode: 'inline (main thread)', messages: N, tasks: 0, msgs_per_s: Math.round(N / s), us_per_msg: +((s / N) * 1e6).toFixed(1) });
  console.table(dispatchRows);
  await pool.close();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/native-inspect.json', JSON.stringify({ bench: 'native-inspect', node: process.version, at: new Date().toISOString(), inspect: inspectRows, dispatch: dispatchRows }, null, 2));
  process.exit(0);
}

await main();
