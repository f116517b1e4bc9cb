// Encryption at rest: sensitive columns never appear in the database files, queries decrypt with
// the key, equality filters work through blind indexes, wrong or missing keys are refused, and a
// key file beside the database is refused by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { AuditLog } from '../../src/audit/log.js';
import { openAuditDb, queryLogs, stats, AuditQueryError } from '../../src/audit/query.js';
import { verify } from '../../src/audit/verify.js';
import { loadAuditKey, parseKey, AuditKeyError } from '../../src/audit/key.js';
import { auditConfig, rec, tempDir } from '../fixtures/audit/records.js';

const SENSITIVE = {
  identity: 'uid:4242-IDENTITY-PLAIN',
  user: 'USERNAME-PLAINTEXT-alice',
  target: 'TOOLNAME-PLAINTEXT-export',
  reason: 'REASON-PLAINTEXT-text',
  hash: 'FINDINGHASH-PLAINTEXT-9f9f',
  type: 'custom_FINDINGTYPE',
};

async function encryptedDb(t: { after(fn: () => void): void }, key: Buffer): Promise<string> {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig({ flush_ms: 5 }), key });
  for (let i = 0; i < 200; i++) {
    log.write(
      i % 10 === 0
        ? rec(i, {
            identity: SENSITIVE.identity, user: SENSITIVE.user, target: SENSITIVE.target, reason: SENSITIVE.reason,
            decision: 'block', findings: [{ type: SENSITIVE.type, count: 3, hashes: [SENSITIVE.hash] }],
          })
        : rec(i),
    );
  }
  await log.flush();
  // Inspect the files while the writer still holds them (WAL not yet checkpointed), then after close.
  assertNoPlaintext(file);
  await log.close();
  assertNoPlaintext(file);
  return file;
}

function assertNoPlaintext(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f)) continue;
    const bytes = readFileSync(f);
    for (const [what, s] of Object.entries(SENSITIVE)) {
      assert.equal(bytes.includes(Buffer.from(s)), false, `${what} appears in plain text in ${path.basename(f)}`);
    }
    // Only values of 5+ bytes: a 3-byte name like 'bob' turns up by chance in 100 KB of ciphertext.
    for (const s of ['alice', 'tool_1']) assert.equal(bytes.includes(Buffer.from(s)), false, `${s} in ${path.basename(f)}`);
  }
}

test('encrypted columns are not in the database files; queries and filters decrypt with the key', async (t) => {
  const key = randomBytes(32);
  const file = await encryptedDb(t, key);
  assert.equal(verify(file).ok, true, 'verify needs no key');
  const adb = openAuditDb(file, { key });
  const byUser = queryLogs(adb, { user: SENSITIVE.user, limit: 100 });
  assert.equal(byUser.length, 20);
  assert.equal(byUser[0]!.target, SENSITIVE.target);
  assert.equal(byUser[0]!.reason, SENSITIVE.reason);
  assert.deepEqual(byUser[0]!.findings, [{ type: SENSITIVE.type, count: 3, hashes: [SENSITIVE.hash] }]);
  assert.equal(queryLogs(adb, { user: SENSITIVE.identity, limit: 100 }).length, 20, 'identity key matches --user too');
  assert.equal(queryLogs(adb, { tool: SENSITIVE.target, limit: 100 }).length, 20);
  assert.equal(queryLogs(adb, { finding: SENSITIVE.type, limit: 100 }).length, 20);
  assert.equal(queryLogs(adb, { tool: 'tool_1', limit: 1000 }).length, 40);
  assert.equal(queryLogs(adb, { user: 'nobody' }).length, 0);
  const s = stats(adb, {});
  assert.equal(s.byTool[SENSITIVE.target.toLowerCase()], 20, 'stats name a tool in its normal form (policy/pattern.ts nameKey)');
  assert.equal(s.byFinding[SENSITIVE.type], 60);
  adb.close();
});

test('an encrypted database is refused without its key or with another key', async (t) => {
  const key = randomBytes(32);
  const file = await encryptedDb(t, key);
  assert.throws(() => openAuditDb(file), (e: Error) => e instanceof AuditQueryError && /encrypted/.test(e.message));
  assert.throws(() => openAuditDb(file, { key: randomBytes(32) }), /not the key/);
  await assert.rejects(AuditLog.open({ path: file, config: auditConfig() }), /encrypted but no key/);
  await assert.rejects(AuditLog.open({ path: file, config: auditConfig(), key: randomBytes(32) }), /not the key/);
});

test('a plain database is not silently continued with encryption', async (t) => {
  const file = path.join(tempDir(t), 'audit.db');
  const log = await AuditLog.open({ path: file, config: auditConfig() });
  log.write(rec(1));
  await log.close();
  await assert.rejects(AuditLog.open({ path: file, config: auditConfig(), key: randomBytes(32) }), /created without encryption/);
});

test('keys parse from hex, base64 and 32 raw bytes; anything else is refused', () => {
  const k = randomBytes(32);
  assert.deepEqual(parseKey(k.toString('hex') + '\n', 't'), k);
  assert.deepEqual(parseKey(k.toString('base64'), 't'), k);
  assert.deepEqual(parseKey(k.toString('base64url'), 't'), k);
  assert.deepEqual(parseKey(Buffer.from(k), 't'), k);
  assert.throws(() => parseKey('abc', 't'), AuditKeyError);
  assert.throws(() => parseKey(randomBytes(16).toString('hex'), 't'), /32 bytes/);
});

test('a key file beside the database is refused unless allowed; key_env works', (t) => {
  const dir = tempDir(t);
  const keyDir = path.join(dir, 'keys');
  mkdirSync(keyDir);
  const k = randomBytes(32);
  const beside = path.join(dir, 'audit.key');
  writeFileSync(beside, k.toString('hex'), { mode: 0o600 });
  const elsewhere = path.join(keyDir, 'audit.key');
  writeFileSync(elsewhere, k.toString('hex'), { mode: 0o644 });
  const db = path.join(dir, 'audit.db');
  assert.throws(() => loadAuditKey(auditConfig({ encryption: { key_file: beside, allow_key_beside_db: false } }), db), /same directory/);
  assert.deepEqual(loadAuditKey(auditConfig({ encryption: { key_file: beside, allow_key_beside_db: true } }), db)?.key, k);
  const loaded = loadAuditKey(auditConfig({ encryption: { key_file: elsewhere, allow_key_beside_db: false } }), db);
  assert.deepEqual(loaded?.key, k);
  assert.match(loaded!.warnings.join(), /readable by other users/);
  assert.deepEqual(loadAuditKey(auditConfig({ encryption: { key_env: 'K', allow_key_beside_db: false } }), db, { K: k.toString('base64') })?.key, k);
  assert.throws(() => loadAuditKey(auditConfig({ encryption: { key_env: 'K', allow_key_beside_db: false } }), db, {}), /not set/);
  assert.equal(loadAuditKey(auditConfig(), db), undefined);
});
