// Tamper evidence: verify() finds the first edited, inserted or deleted row; retention keeps the
// chain verifiable; stored values hash the same way they read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AuditStore } from '../../src/audit/store.js';
import { verify } from '../../src/audit/verify.js';
import { rowHash, type StoredValue } from '../../src/audit/chain.js';
import { HASHED_COLUMNS } from '../../src/audit/schema.js';
import { openAuditDb, queryLogs } from '../../src/audit/query.js';
import { rec, tempDir } from '../fixtures/audit/records.js';

function seeded(t: { after(fn: () => void): void }, n = 10): string {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file });
  s.insertBatch(Array.from({ length: n }, (_, i) => rec(i + 1)), 1);
  s.close();
  return file;
}

function tamper(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  fn(db);
  db.close();
}

const COLS = HASHED_COLUMNS.join(', ');
function valuesOf(db: Database.Database, id: number): StoredValue[] {
  return db.prepare(`SELECT ${COLS} FROM audit WHERE id = ?`).raw().get(id) as StoredValue[];
}
function hashOf(db: Database.Database, id: number): Buffer {
  return db.prepare('SELECT hash FROM audit WHERE id = ?').pluck().get(id) as Buffer;
}

test('an untouched chain verifies', (t) => {
  const file = seeded(t);
  const r = verify(file);
  assert.equal(r.ok, true);
  assert.equal(r.rows, 10);
  assert.equal(r.head.id, 10);
});

test('an edited row is reported as edited', (t) => {
  const file = seeded(t);
  tamper(file, (db) => db.prepare("UPDATE audit SET decision = 'allow', reason = 'nothing to see' WHERE id = 4").run());
  assert.deepEqual(verify(file).firstBad?.id, 4);
  assert.equal(verify(file).firstBad?.reason, 'edited');
  assert.equal(verify(file).ok, false);
});

test('an edit with a recomputed row hash is still caught by the next row', (t) => {
  const file = seeded(t);
  tamper(file, (db) => {
    db.prepare("UPDATE audit SET user = 'mallory' WHERE id = 6").run();
    const h = rowHash(hashOf(db, 5), valuesOf(db, 6));
    db.prepare('UPDATE audit SET hash = ? WHERE id = 6').run(h);
  });
  const r = verify(file);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad?.id, 7); // row 6 now chains, row 7 no longer does
});

test('editing the last row and its hash is caught by the chain head', (t) => {
  const file = seeded(t);
  tamper(file, (db) => {
    db.prepare("UPDATE audit SET decision = 'block' WHERE id = 10").run();
    db.prepare('UPDATE audit SET hash = ? WHERE id = 10').run(rowHash(hashOf(db, 9), valuesOf(db, 10)));
  });
  assert.deepEqual(
    { ok: verify(file).ok, id: verify(file).firstBad?.id, reason: verify(file).firstBad?.reason },
    { ok: false, id: 10, reason: 'edited' },
  );
});

test('a row deleted from the middle is reported as deleted', (t) => {
  const file = seeded(t);
  tamper(file, (db) => db.prepare('DELETE FROM audit WHERE id = 5').run());
  const r = verify(file);
  assert.equal(r.ok, false);
  assert.deepEqual([r.firstBad?.id, r.firstBad?.reason], [5, 'deleted']);
});

test('deleted tail rows are reported (chain head in meta)', (t) => {
  const file = seeded(t);
  tamper(file, (db) => db.prepare('DELETE FROM audit WHERE id > 7').run());
  const r = verify(file);
  assert.equal(r.ok, false);
  assert.deepEqual([r.firstBad?.id, r.firstBad?.reason], [8, 'deleted']);
  assert.equal(r.rows, 7);
});

test('every row deleted is reported', (t) => {
  const file = seeded(t);
  tamper(file, (db) => db.prepare('DELETE FROM audit').run());
  assert.deepEqual([verify(file).firstBad?.id, verify(file).firstBad?.reason], [1, 'deleted']);
});

test('a row appended after the head is reported as inserted, even with a valid hash', (t) => {
  const file = seeded(t);
  tamper(file, (db) => {
    const v = valuesOf(db, 10);
    const h = rowHash(hashOf(db, 10), v);
    db.prepare(`INSERT INTO audit (id, ${COLS}, hash) VALUES (11, ${HASHED_COLUMNS.map(() => '?').join(', ')}, ?)`).run(...v, h);
  });
  assert.deepEqual([verify(file).firstBad?.id, verify(file).firstBad?.reason], [11, 'inserted']);
});

function insertInMiddle(db: Database.Database, at: number, hashFrom: 'valid' | 'garbage'): void {
  // Make room (renumber the rows after `at`), then slip a row in.
  db.prepare('UPDATE audit SET id = -(id + 1) WHERE id >= ?').run(at);
  db.prepare('UPDATE audit SET id = -id WHERE id < 0').run();
  const v = valuesOf(db, at - 1);
  v[HASHED_COLUMNS.indexOf('decision')] = 'allow';
  v[HASHED_COLUMNS.indexOf('reason')] = 'forged';
  const h = hashFrom === 'valid' ? rowHash(hashOf(db, at - 1), v) : Buffer.alloc(32, 7);
  db.prepare(`INSERT INTO audit (id, ${COLS}, hash) VALUES (?, ${HASHED_COLUMNS.map(() => '?').join(', ')}, ?)`).run(at, ...v, h);
}

test('a row inserted in the middle is reported as inserted (forged hash)', (t) => {
  const file = seeded(t);
  tamper(file, (db) => insertInMiddle(db, 6, 'garbage'));
  assert.deepEqual([verify(file).firstBad?.id, verify(file).firstBad?.reason], [6, 'inserted']);
});

test('a row inserted in the middle is reported as inserted (hash chained from its predecessor)', (t) => {
  const file = seeded(t);
  tamper(file, (db) => insertInMiddle(db, 6, 'valid'));
  assert.deepEqual([verify(file).firstBad?.id, verify(file).firstBad?.reason], [6, 'inserted']);
});

test('retention deletes old rows as a prefix and verify still passes from the checkpoint', (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const now = Date.now();
  const s = AuditStore.open({ path: file });
  s.insertBatch(Array.from({ length: 30 }, (_, i) => rec(i, { ts: now - 100 * 86_400_000 + i })), 1);
  s.insertBatch(Array.from({ length: 20 }, (_, i) => rec(i, { ts: now - 1000 + i })), 2);
  assert.equal(s.applyRetention(now - 90 * 86_400_000, 10), 10); // chunked
  assert.equal(s.applyRetention(now - 90 * 86_400_000), 20);
  assert.equal(s.applyRetention(now - 90 * 86_400_000), 0);
  s.insertBatch([rec(99, { ts: now })], 3);
  s.close();
  const r = verify(file);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.rows, 21);
  assert.equal(r.checkpoint.id, 30);
  // Deleting the first row after the checkpoint is still detected.
  tamper(file, (db) => db.prepare('DELETE FROM audit WHERE id = 31').run());
  assert.deepEqual([verify(file).firstBad?.id, verify(file).firstBad?.reason], [31, 'deleted']);
});

test('retention never deletes a recent row that sits before an old one', (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const now = Date.now();
  const s = AuditStore.open({ path: file });
  const old = now - 100 * 86_400_000;
  s.insertBatch([rec(1, { ts: old }), rec(2, { ts: now }), rec(3, { ts: old })], 1);
  assert.equal(s.applyRetention(now - 90 * 86_400_000), 1);
  s.close();
  assert.equal(verify(file).ok, true);
  assert.equal(verify(file).rows, 2);
});

test('odd strings and numbers read back exactly as hashed', (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file });
  s.insertBatch(
    [
      rec(1, { target: 'lone \ud800 surrogate', reason: 'nul \u0000 inside', upstream_ms: 0.1 + 0.2, overhead_us: NaN }),
      rec(2, { target: '😀 emoji\n\t', bytes_out: 5, upstream_ms: 12, error_code: -32008, stage: '' }),
      rec(3, { ts: 1.5, overhead_us: Infinity, findings: [{ type: 'email', count: 2, hashes: ['a', 'b'] }] }),
    ],
    1,
  );
  s.close();
  assert.equal(verify(file).ok, true, JSON.stringify(verify(file)));
  const adb = openAuditDb(file);
  const rows = queryLogs(adb, { limit: 10 });
  adb.close();
  assert.equal(rows.find((r) => r.id === 1)?.target, 'lone \ufffd surrogate');
  assert.equal(rows.find((r) => r.id === 1)?.reason, 'nul \u0000 inside');
  assert.equal(rows.find((r) => r.id === 1)?.upstream_ms, 0.1 + 0.2);
});

test('a finding keeps only type, count and hashes (a stray raw match never reaches the disk)', (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file });
  const leaky = { type: 'credit_card', count: 1, hashes: ['k1'], match: '4111111111111111' };
  s.insertBatch([rec(1, { findings: [leaky] })], 1);
  s.close();
  const adb = openAuditDb(file);
  assert.deepEqual(queryLogs(adb, {})[0]?.findings, [{ type: 'credit_card', count: 1, hashes: ['k1'] }]);
  adb.close();
});

test('group commit: several batches in one transaction, replays among them skipped, the chain intact', (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file });
  assert.deepEqual(s.insertBatches([{ records: [rec(1)], seq: 1 }]), [true]);
  const out = s.insertBatches([
    { records: [rec(1)], seq: 1 },
    { records: [rec(2), rec(3)], seq: 2 },
    { records: [rec(4)], seq: 3 },
  ]);
  assert.deepEqual(out, [false, true, true]);
  assert.equal(s.lastSeq, 3);
  s.close();
  const v = verify(file);
  assert.equal(v.ok, true);
  assert.equal(v.rows, 4);
  const adb = openAuditDb(file);
  assert.deepEqual(queryLogs(adb, {}).map((r) => r.request_id), ['4', '3', '2', '1']);
  adb.close();
});

test('a database from before the principals table: queries fall back to the identity index; the writer fills the table', (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file });
  s.insertBatch([rec(1, { identity: 'uid:7', user: 'carol' }), rec(2, { identity: 'uid:8', user: 'carol' })], 1);
  s.close();
  tamper(file, (db) => db.exec('DROP TABLE principals; CREATE INDEX audit_identity ON audit (identity)'));
  const old = openAuditDb(file);
  assert.equal(old.hasPrincipals, false);
  assert.deepEqual(queryLogs(old, { user: 'uid:8' }).map((r) => r.id), [2]);
  old.close();
  AuditStore.open({ path: file }).close();
  const adb = openAuditDb(file);
  assert.equal(adb.hasPrincipals, true);
  assert.deepEqual(adb.db.prepare('SELECT identity, user FROM principals ORDER BY identity').raw().all(), [
    ['uid:7', 'carol'],
    ['uid:8', 'carol'],
  ]);
  assert.deepEqual(queryLogs(adb, { user: 'uid:8' }).map((r) => r.id), [2]);
  assert.deepEqual(queryLogs(adb, { user: 'carol' }).map((r) => r.id), [2, 1]);
  adb.close();
});

test('a replayed batch sequence number is skipped, not inserted twice', (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file });
  assert.equal(s.insertBatch([rec(1), rec(2)], 1), true);
  assert.equal(s.insertBatch([rec(1), rec(2)], 1), false);
  s.close();
  const s2 = AuditStore.open({ path: file });
  assert.equal(s2.lastSeq, 1);
  assert.equal(s2.insertBatch([rec(1), rec(2)], 1), false);
  s2.close();
  assert.equal(verify(file).rows, 2);
});

test('a schema-1 database is migrated on open; its rows verify as before and new rows carry the era', (t) => {
  const file = seeded(t, 5);
  // Make it a file written before schema 2: no era/call/round columns, version 1.
  tamper(file, (db) => {
    for (const c of ['era', 'call', 'round']) db.exec(`ALTER TABLE audit DROP COLUMN ${c}`);
    db.prepare("UPDATE meta SET v = '1' WHERE k = 'version'").run();
  });
  // Readers work on the old file as it is (the daemon may not have migrated it yet).
  assert.equal(verify(file).ok, true);
  const old = openAuditDb(file);
  assert.equal(queryLogs(old, {}).length, 5);
  assert.equal(queryLogs(old, {})[0]!.era, undefined);
  old.close();
  const s = AuditStore.open({ path: file });
  s.insertBatch([rec(6, { era: '2026', call: '9', round: 2 }), rec(7, { era: '2025' })], 2);
  s.close();
  const r = verify(file);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.rows, 7);
  const adb = openAuditDb(file);
  const rows = queryLogs(adb, {});
  assert.deepEqual([rows[1]!.era, rows[1]!.call, rows[1]!.round], ['2026', '9', 2]);
  assert.equal(rows[0]!.era, '2025');
  adb.close();
  // The new columns are covered by the chain.
  tamper(file, (db) => db.prepare("UPDATE audit SET era = '2025' WHERE id = 6").run());
  assert.equal(verify(file).firstBad?.id, 6);
});
