// The audit channel against a real writer thread and real SQLite files: batching, nothing lost,
// flush on close, crash + replay exactly once, back-pressure, SIGKILL of a writing process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { AuditLog } from '../../src/audit/log.js';
import { AuditStore } from '../../src/audit/store.js';
import { verify } from '../../src/audit/verify.js';
import { openAuditDb, queryLogs } from '../../src/audit/query.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { auditConfig, rec, tempDir } from '../fixtures/audit/records.js';

function count(file: string): number {
  const db = new Database(file, { readonly: true });
  const n = db.prepare('SELECT count(*) FROM audit').pluck().get() as number;
  db.close();
  return n;
}

function requestIds(file: string): number[] {
  const db = new Database(file, { readonly: true });
  const ids = db.prepare('SELECT request_id FROM audit ORDER BY id').pluck().all() as string[];
  db.close();
  return ids.map(Number);
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('records are batched: one postMessage per batch, not per record', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 500, flush_ms: 10_000 }) });
  for (let i = 0; i < 10_000; i++) assert.equal(log.write(rec(i)), true);
  assert.equal(log.counters.batches, 20);
  assert.equal(log.counters.posts, 20);
  await log.close();
  assert.equal(count(file), 10_000);
});

test('a partial batch is flushed by the timer without flush() or close()', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 500, flush_ms: 20 }) });
  log.write(rec(1));
  log.write(rec(2));
  log.write(rec(3));
  assert.equal(log.depth, 3);
  await until(() => log.counters.acked === 3, 'the timed flush');
  assert.equal(log.counters.batches, 1);
  assert.equal(log.depth, 0);
  assert.equal(count(file), 3);
  await log.close();
});

test('nothing is lost or reordered across many records, and every field round-trips', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 256, flush_ms: 5 }) });
  const full: AuditRecord = {
    ts: Date.now(), session: 'S', identity: 'key:ci-bot', user: 'ci-bot', roles: ['reader', 'ci'], server: 'github',
    direction: 's2c', kind: 'response', method: 'tools/call', target: 'create_issue', decision: 'redact', stage: 'pii',
    reason: 'email redacted', findings: [{ type: 'email', count: 2, hashes: ['h1', 'h2'] }], error_code: -32008,
    bytes_in: 1234, bytes_out: 1000, upstream_ms: 12.5, overhead_us: 87, request_id: 'full',
  };
  const N = 30_000;
  for (let i = 0; i < N; i++) {
    assert.ok(log.write(i === 777 ? full : rec(i)));
    if (i % 5000 === 0) await sleep(1); // let timers and acks interleave with writes
  }
  await log.flush();
  assert.equal(log.depth, 0);
  await log.close();
  const ids = requestIds(file);
  assert.equal(ids.length, N);
  for (let i = 0; i < N; i++) if (i !== 777) assert.equal(ids[i], i);
  const adb = openAuditDb(file);
  const [row] = queryLogs(adb, { session: 'S' });
  adb.close();
  assert.deepEqual(row, { id: 778, ...full });
  assert.equal(verify(file).ok, true);
});

test('close() commits everything still queued', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 1000, flush_ms: 60_000 }) });
  for (let i = 0; i < 1234; i++) log.write(rec(i));
  assert.equal(log.depth, 1234);
  await log.close();
  assert.equal(count(file), 1234);
  assert.equal(log.write(rec(0)), false, 'a closed log refuses records');
});

test('a killed writer thread is restarted and its unacked batches replayed exactly once', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 100, flush_ms: 10_000 }) });
  const errors: Error[] = [];
  log.onError = (e) => errors.push(e);
  for (let i = 0; i < 250; i++) log.write(rec(i));
  await log.flush(); // 250 committed
  log.testHooks.pause(); // batches now reach the writer but are not committed
  for (let i = 250; i < 1250; i++) log.write(rec(i));
  assert.equal(log.counters.posts, 13);
  await log.testHooks.worker().terminate();
  await log.flush();
  assert.equal(log.counters.restarts, 1);
  assert.equal(log.counters.replayed, 10);
  assert.ok(errors.length >= 1);
  await log.close();
  assert.deepEqual(requestIds(file), Array.from({ length: 1250 }, (_, i) => i));
  assert.equal(verify(file).ok, true);
});

test('a writer that dies after commit but before its ack: the replay is skipped, not duplicated', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 100, flush_ms: 10_000 }) });
  log.onError = () => {};
  for (let i = 0; i < 100; i++) log.write(rec(i));
  await log.flush();
  log.testHooks.crash(true);
  for (let i = 100; i < 200; i++) log.write(rec(i)); // one batch: committed, then the writer exits
  await log.flush();
  assert.equal(log.counters.restarts, 1);
  assert.equal(log.counters.duplicates, 1);
  for (let i = 200; i < 300; i++) log.write(rec(i));
  await log.close();
  assert.deepEqual(requestIds(file), Array.from({ length: 300 }, (_, i) => i));
  assert.equal(verify(file).ok, true);
});

test('a writer that throws is reported through onError and restarted', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 10, flush_ms: 5 }) });
  const errors: string[] = [];
  log.onError = (e) => errors.push(e.message);
  log.testHooks.crash(false);
  await until(() => log.counters.restarts === 1, 'the restart');
  for (let i = 0; i < 50; i++) log.write(rec(i));
  await log.close();
  assert.ok(errors.some((m) => m.includes('crash requested by test hook')), errors.join('\n'));
  assert.equal(count(file), 50);
});

test('back-pressure: a stalled writer fills the queue, write() refuses, then it drains', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ batch_size: 100, flush_ms: 5, queue_limit: 500 }) });
  log.testHooks.pause();
  let accepted = 0;
  while (!log.full) assert.equal(log.write(rec(accepted++)), true);
  assert.equal(accepted, 500, 'full at queue_limit: the daemon refuses new requests from here');
  // Records of exchanges already in flight still fit, up to twice the limit; then write() refuses.
  while (log.write(rec(accepted))) accepted++;
  assert.equal(accepted, 1000);
  assert.equal(log.depth, 1000);
  assert.equal(log.write(rec(9999)), false);
  assert.equal(log.counters.refused, 2);
  await sleep(100);
  assert.equal(log.full, true, 'still full while the writer is stalled');
  const writable = log.whenWritable();
  log.testHooks.resume();
  await writable;
  await log.flush();
  assert.equal(log.depth, 0);
  assert.equal(log.write(rec(1000)), true);
  await log.close();
  assert.deepEqual(requestIds(file), Array.from({ length: 1001 }, (_, i) => i));
});

test('open() rejects with the reason when the database cannot be opened', async (t) => {
  const dir = tempDir(t);
  // A missing directory is created (audit.path may point anywhere); a regular file in the way is not.
  writeFileSync(path.join(dir, 'plain-file'), '');
  await assert.rejects(
    AuditLog.open({ path: path.join(dir, 'plain-file', 'audit.db'), config: auditConfig() }),
    /audit writer failed/,
  );
});

test('retention runs when the writer starts and the chain still verifies', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file });
  const now = Date.now();
  s.insertBatch(Array.from({ length: 40 }, (_, i) => rec(i, { ts: now - 40 * 86_400_000 })), 1);
  s.insertBatch(Array.from({ length: 10 }, (_, i) => rec(i, { ts: now })), 2);
  s.close();
  const log = await AuditLog.open({ path: file, config: auditConfig({ retention_days: 30 }) });
  await until(() => log.counters.retained === 40, 'retention');
  log.write(rec(1, { ts: Date.now() }));
  await log.close();
  const r = verify(file);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.rows, 11);
  assert.equal(r.checkpoint.id, 40);
});

test('SIGKILL of a process writing under load: the database opens and verifies', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const child = spawn(process.execPath, [fileURLToPath(new URL('../fixtures/audit/load-writer.js', import.meta.url)), file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = 0;
  child.stdout.on('data', (d: Buffer) => {
    for (const m of d.toString().matchAll(/acked (\d+)/g)) acked = Number(m[1]);
  });
  await until(() => acked >= 20_000, 'the child to commit rows', 30_000);
  const exited = new Promise((r) => child.once('exit', (_code, sig) => r(sig)));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const r = verify(file);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.ok(r.rows >= acked, `${r.rows} rows committed, ${acked} acked`);
  // The daemon comes back on the same file and carries on the chain.
  const log = await AuditLog.open({ path: file, config: auditConfig() });
  for (let i = 0; i < 100; i++) log.write(rec(i));
  await log.close();
  const r2 = verify(file);
  assert.equal(r2.ok, true);
  assert.equal(r2.rows, r.rows + 100);
});
