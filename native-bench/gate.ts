// Gate throughput on clean and dirty JSON-RPC lines of 1 KB to 1 MB (prose), from the median (p50)
// time; then on the detection suite's legitimate corpus, every message once (ids, hashes, logs,
// numbers, base64: the text a gate's DFA finds hardest), and the share of that corpus it clears.
// Prints tables and writes bench/results/native-gate.json.
// Run: npx tsc -p . && node dist/native-bench/gate.js
import { mkdirSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { compileGate } from '../src/detect/gate.js';
import { PiiSchema } from '../src/config/pii-schema.js';
import { generateCorpus } from '../bench/detection/corpus.js';

const SIZES = [1024, 10 * 1024, 100 * 1024, 1024 * 1024];
const PROSE = 'The weather in Paris is mild today, with light wind from the west and some clouds later in the afternoon. ';

function makeLine(size: number, dirty: boolean): Buffer {
  let text = '';
  while (text.length < size - 120) text += PROSE;
  text = text.slice(0, size - 120);
  // Dirty: the trigger at the very end, the worst case for a scan that stops at the first hit.
  if (dirty) text = text.slice(0, -24) + ' mail alice@example.com';
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 42, result: { content: [{ type: 'text', text }], isError: false } }));
}

async function main(): Promise<void> {
  const pii = PiiSchema.parse({});
  const gate = compileGate(pii);
  const bench = new Bench({ time: 300, warmupTime: 50 });
  const lines = new Map<string, Buffer>();
  for (const size of SIZES) {
    for (const dirty of [false, true]) {
      const line = makeLine(size, dirty);
      if (gate.needsInspection(line) !== dirty) throw new Error(`gate misjudged the ${dirty ? 'dirty' : 'clean'} ${size} line`);
      const name = `${dirty ? 'dirty' : 'clean'} ${size >= 1048576 ? '1 MB' : size / 1024 + ' KB'}`;
      lines.set(name, line);
      bench.add(`gate ${name}`, () => gate.needsInspection(line));
    }
  }
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as any;
    const line = lines.get(t.name.replace(/^gate /, ''))!;
    const meanMs = r.latency?.mean ?? r.period;
    const p50 = r.latency?.p50 ?? meanMs;
    return { case: t.name, bytes: line.length, p50_us: +(p50 * 1000).toFixed(2), mean_us: +(meanMs * 1000).toFixed(2), mb_per_s: +(line.length / 1048576 / (p50 / 1000)).toFixed(1) };
  });
  console.table(rows);

  // Ordinary traffic: the legitimate corpus (requests and the responses echoing them).
  const byKind: Record<string, { messages: number; cleared: number }> = {};
  let total = 0;
  let cleared = 0;
  for (const c of generateCorpus(10000)) {
    const msgs = [
      { jsonrpc: '2.0', id: c.n, method: 'tools/call', params: { name: c.name, arguments: c.arguments } },
      { jsonrpc: '2.0', id: c.n, result: { content: [{ type: 'text', text: JSON.stringify(c.arguments) }] } },
    ];
    for (const m of msgs) {
      const k = (byKind[c.kind] ??= { messages: 0, cleared: 0 });
      k.messages++;
      total++;
      if (!gate.needsInspection(Buffer.from(JSON.stringify(m)))) {
        k.cleared++;
        cleared++;
      }
    }
  }
  // Throughput over the corpus, each message once per pass (after a warm-up pass over other messages),
  // median of five passes.
  const toLines = (seed: number) =>
    generateCorpus(4000, seed).flatMap((c) => [
      Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: c.n, method: 'tools/call', params: { name: c.name, arguments: c.arguments } })),
      Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: c.n, result: { content: [{ type: 'text', text: JSON.stringify(c.arguments) }] } })),
    ]);
  for (const l of toLines(2)) gate.needsInspection(l);
  const fresh = toLines(1);
  const bytes = fresh.reduce((a, l) => a + l.length, 0);
  const passes: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    for (const l of fresh) gate.needsInspection(l);
    passes.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  passes.sort((a, b) => a - b);
  const corpusMbps = +(bytes / 1048576 / passes[2]!).toFixed(1);
  console.log(`legitimate corpus, every message once: ${corpusMbps} MB/s (${fresh.length} messages, ${(bytes / 1048576).toFixed(1)} MB, median of 5 passes)`);
  const corpus = { messages: total, cleared, clear_pct: +((100 * cleared) / total).toFixed(1), byKind, mb_per_s: corpusMbps };
  console.log(`legitimate corpus: the gate clears ${cleared} of ${total} messages (${corpus.clear_pct}%)`);
  console.table(Object.entries(byKind).map(([kind, v]) => ({ kind, ...v, clear_pct: +((100 * v.cleared) / v.messages).toFixed(1) })));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/native-gate.json', JSON.stringify({ bench: 'native-gate', node: process.version, patterns: gate.patterns.length, at: new Date().toISOString(), rows, corpus }, null, 2));
}

await main();
