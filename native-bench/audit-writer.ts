// Audit log benchmarks: writer rows/s (the writer thread's work, plain and encrypted), the
// channel end to end, main-thread cost per record, and `logs` query latency on 1M rows.
// Prints a table, writes bench/results/native-audit.json.
// Run: npx tsc -p . && node dist/native-bench/audit-writer.js [--rows 1000000]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { AuditLog } from '../src/audit/log.js';
import { AuditStore } from '../src/audit/store.js';
import { openAuditDb, queryLogs } from '../src/audit/query.js';
import { verify } from '../src/audit/verify.js';
import type { AuditRecord } from '../src/audit/record.js';
import { AuditSchema } from '../src/config/audit-schema.js';

const argRows = process.argv.indexOf('--rows');
const QUERY_ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
const dir = mkdtempSync(path.join(tmpdir(), 'mcpg-audit-bench-'));
const DECISIONS = ['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'warn', 'redact', 'block', 'error'] as const;
const METHODS = ['tools/call', 'tools/call', 'tools/call', 'resources/read', 'tools/list', 'prompts/get', 'notifications/progress', 'initialize'];

function record(i: number, ts: number): AuditRecord {
  const finding = i % 50 === 0;
  return {
    ts,
    session: `sess-${(i / 40) | 0}`,
    identity: `uid:${1000 + (i % 50)}`,
    user: `user${i % 50}`,
    roles: ['dev'],
    server: `server${i % 20}`,
    direction: i % 2 ? 's2c' : 'c2s',
    kind: i % 2 ? 'response' : 'request',
    method: METHODS[i % METHODS.length]!,
    target: `tool_${i % 200}`,
    decision: DECISIONS[i % DECISIONS.length]!,
    stage: 'pii',
    findings: finding ? [{ type: i % 100 === 0 ? 'credit_card' : 'email', count: 1, hashes: ['3f2a9c0d1e4b5a6f'] }] : undefined,
    bytes_in: 200 + (i % 1000),
    bytes_out: 400,
    upstream_ms: (i % 97) / 3,
    overhead_us: 50 + (i % 30),
    request_id: String(i),
  };
}

const results: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version } };
const table: { bench: string; value: string; target: string }[] = [];

// 1. Writer work (what the writer thread does per transaction). An idle writer commits each batch
// of 500 as it arrives; under load the batches that piled up during a commit go into the next
// transaction together (group commit, workers/audit-writer.ts), here 10 batches of 500.
for (const encrypted of [false, true]) {
  for (const group of [1, 10]) {
    const file = path.join(dir, `writer-${encrypted}-${group}.db`);
    const store = AuditStore.open({ path: file, key: encrypted ? randomBytes(32) : undefined });
    const N = 100_000;
    const recs = Array.from({ length: N }, (_, i) => record(i, Date.now()));
    const t0 = performance.now();
    for (let i = 0, seq = 1; i < N; i += 500 * group) {
      const batches = [];
      for (let j = i; j < Math.min(i + 500 * group, N); j += 500) batches.push({ records: recs.slice(j, j + 500), seq: seq++ });
      store.insertBatches(batches);
    }
    const s = (performance.now() - t0) / 1000;
    store.close();
    const rate = Math.round(N / s);
    const name = `${encrypted ? 'encrypted' : 'plain'}${group > 1 ? '_group' : ''}`;
    results[`writer_rows_per_s_${name}`] = rate;
    table.push({
      bench: `writer, ${group > 1 ? `${group} batches of 500 per commit (loaded)` : '1 batch of 500 per commit (idle)'}${encrypted ? ', encrypted' : ''}`,
      value: `${rate.toLocaleString()} rows/s`,
      target: encrypted ? '' : '>= 50,000',
    });
  }
}

// 2. Channel end to end: main-thread cost per write() (packing and transfer included, as batches
// fill inline) and sustained rows/s until every record is committed.
{
  const file = path.join(dir, 'channel.db');
  const log = await AuditLog.open({ path: file, config: AuditSchema.parse({ queue_limit: 10_000_000 }) });
  const N = 500_000; // long enough that the writer's start-up is not most of the run
  const recs = Array.from({ length: N }, (_, i) => record(i, Date.now()));
  // Warm up.
  for (let i = 0; i < 20_000; i++) log.write(recs[i]!);
  await log.flush();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const CH = 10_000;
  let mainMs = 0;
  for (let i = 0; i < N; i += CH) {
    const a = performance.now();
    for (let j = i; j < i + CH; j++) log.write(recs[j]!);
    mainMs += performance.now() - a;
    await new Promise((r) => setImmediate(r)); // let acks in, as a daemon's event loop would
  }
  await log.flush();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await log.close();
  const perRecordUs = (mainMs * 1000) / N;
  results.main_thread_us_per_record = Number(perRecordUs.toFixed(3));
  results.channel_rows_per_s = Math.round(N / wall);
  results.channel_posts = log.counters.posts;
  results.channel_process_cpu_s = Number(((cpu.user + cpu.system) / 1e6).toFixed(2));
  table.push({ bench: 'main-thread cost per write() (incl. pack + post)', value: `${perRecordUs.toFixed(2)} µs`, target: '<= 2 µs' });
  table.push({ bench: `channel end to end, ${N.toLocaleString()} records`, value: `${Math.round(N / wall).toLocaleString()} rows/s (${log.counters.posts} posts)`, target: '>= 50,000' });
}

// 3. `logs` queries on QUERY_ROWS rows (generated through the store: chained, indexed).
{
  const file = path.join(dir, 'query.db');
  const store = AuditStore.open({ path: file });
  const start = Date.now() - 7 * 86_400_000;
  const step = (7 * 86_400_000) / QUERY_ROWS;
  const t0 = performance.now();
  const B = 10_000;
  for (let i = 0, seq = 1; i < QUERY_ROWS; i += B, seq++) {
    const batch: AuditRecord[] = [];
    for (let j = i; j < Math.min(i + B, QUERY_ROWS); j++) batch.push(record(j, Math.round(start + j * step)));
    store.insertBatch(batch, seq);
  }
  store.close();
  const genS = (performance.now() - t0) / 1000;
  results.query_rows = QUERY_ROWS;
  results.generate_rows_per_s = Math.round(QUERY_ROWS / genS);
  table.push({ bench: `generate ${QUERY_ROWS.toLocaleString()} rows (batches of 10k)`, value: `${genS.toFixed(1)} s (${Math.round(QUERY_ROWS / genS).toLocaleString()} rows/s)`, target: '' });

  const adb = openAuditDb(file);
  const now = Date.now();
  const queries: Record<string, Parameters<typeof queryLogs>[1]> = {
    'no filter (limit 50)': {},
    '--server': { server: 'server7' },
    '--user': { user: 'user13' },
    '--user (identity)': { user: 'uid:1013' },
    '--method': { method: 'resources/read' },
    '--tool': { tool: 'tool_42' },
    '--decision block': { decision: 'block' },
    '--session': { session: 'sess-12345' },
    '--finding credit_card': { finding: 'credit_card' },
    '--since 2h': { since: now - 7_200_000 },
    '--until 6d': { until: now - 6 * 86_400_000 },
    '--server --decision --since 1d': { server: 'server3', decision: 'error', since: now - 86_400_000 },
    '--user --tool --limit 100': { user: 'user4', tool: 'tool_4', limit: 100 },
  };
  const bench = new Bench({ time: 300, warmupTime: 50 });
  for (const [name, f] of Object.entries(queries)) bench.add(name, () => void queryLogs(adb, f));
  await bench.run();
  const q: Record<string, { p50_ms: number; p99_ms: number; rows: number }> = {};
  for (const task of bench.tasks) {
    const lat = (task.result as unknown as { latency: { p50: number; p99: number } }).latency;
    const rows = queryLogs(adb, queries[task.name]!).length;
    q[task.name] = { p50_ms: Number(lat.p50.toFixed(4)), p99_ms: Number(lat.p99.toFixed(4)), rows };
    table.push({ bench: `query ${task.name} (${rows} rows)`, value: `p50 ${lat.p50.toFixed(3)} ms  p99 ${lat.p99.toFixed(3)} ms`, target: 'p99 <= 1 ms' });
  }
  adb.close();
  results.queries = q;
  const v0 = performance.now();
  const v = verify(file);
  const vs = (performance.now() - v0) / 1000;
  results.verify_s = Number(vs.toFixed(2));
  table.push({ bench: `verify ${v.rows.toLocaleString()} rows`, value: `${vs.toFixed(2)} s (ok=${v.ok})`, target: '' });
}

rmSync(dir, { recursive: true, force: true });
console.table(table);
const out = fileURLToPath(new URL('../../bench/results/native-audit.json', import.meta.url));
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2) + '\n');
console.log(`wrote ${out}`);
