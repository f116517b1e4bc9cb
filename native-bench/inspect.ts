// Full inspection throughput (parse + walk + normalise + rules) and pool dispatch: one inspect()
// per event-loop turn (one task per message) versus many in one turn (one task per batch). Then the
// legitimate corpus of the detection suite: the share the gate clears, and inspection time of the
// rest (fresh data every message, as in traffic). Times: median (p50) and mean; the machine is
// shared, so compare medians of several runs.
// Prints tables and writes bench/results/native-inspect.json.
// Run: npx tsc -p . && node dist/native-bench/inspect.js
import { mkdirSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { compileDetector } from '../src/detect/detector.js';
import { inspectMessage } from '../src/detect/scan.js';
import { InspectionPool } from '../src/daemon/inspection-pool.js';
import { compileGate } from '../src/detect/gate.js';
import { PiiSchema } from '../src/config/pii-schema.js';
import { generateCorpus } from '../bench/detection/corpus.js';

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
      bench.add(name, () => inspectMessage(JSON.parse(line.toString()), 'response', det, undefined, line));
    }
  }
  await bench.run();
  const inspectRows = bench.tasks.map((t) => {
    const r = t.result as any;
    const ms = r.latency?.mean ?? r.period;
    const p50 = r.latency?.p50 ?? ms;
    const b = bytes.get(t.name)!;
    return { case: t.name, bytes: b, p50_us: +(p50 * 1000).toFixed(1), mean_us: +(ms * 1000).toFixed(1), mb_per_s: +(b / 1048576 / (p50 / 1000)).toFixed(1) };
  });
  console.table(inspectRows);

  // The legitimate corpus: requests and the responses echoing them, fresh data every message.
  const gate = compileGate(pii);
  const corpus = generateCorpus(4000, 777).flatMap((c) => [
    { msg: { jsonrpc: '2.0', id: c.n, method: 'tools/call', params: { name: c.name, arguments: c.arguments } }, dir: 'request' as const, kind: c.kind },
    { msg: { jsonrpc: '2.0', id: c.n, result: { content: [{ type: 'text', text: JSON.stringify(c.arguments) }] } }, dir: 'response' as const, kind: c.kind },
  ]);
  const lines = corpus.map((c) => ({ ...c, line: Buffer.from(JSON.stringify(c.msg)) }));
  // warm the DFA caches and the JIT on other data than the measured one
  for (const c of generateCorpus(1000, 778)) {
    const m = { jsonrpc: '2.0', id: c.n, method: 'tools/call', params: { name: c.name, arguments: c.arguments } };
    const l = Buffer.from(JSON.stringify(m));
    if (gate.needsInspection(l)) inspectMessage(JSON.parse(l.toString()), 'request', det, undefined, l);
  }
  const fired = lines.filter((c) => gate.needsInspection(c.line));
  const times: number[] = [];
  for (const c of fired) {
    const t0 = process.hrtime.bigint();
    inspectMessage(JSON.parse(c.line.toString()), c.dir, det, undefined, c.line);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number) => +sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  const corpusRow = {
    messages: lines.length,
    gate_clear_pct: +((100 * (lines.length - fired.length)) / lines.length).toFixed(1),
    inspected: fired.length,
    avg_bytes: Math.round(fired.reduce((a, c) => a + c.line.length, 0) / fired.length),
    p50_us: q(0.5),
    p90_us: q(0.9),
    p99_us: q(0.99),
    mean_us: +(times.reduce((a, b) => a + b, 0) / times.length).toFixed(1),
  };
  console.table([corpusRow]);

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
  writeFileSync('bench/results/native-inspect.json', JSON.stringify({ bench: 'native-inspect', node: process.version, at: new Date().toISOString(), inspect: inspectRows, corpus: corpusRow, dispatch: dispatchRows }, null, 2));
  process.exit(0);
}

await main();
