// Audit through the real bridge and daemon: every exchange recorded, no raw secret anywhere in the
// database files, queryable with `mcp-guard logs`, and intact after the daemon is SIGKILLed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GuardEnv, RawBridge, recordingServer, waitFor } from './harness.js';

const AWS = 'AKIAQ4RTZ5WV7M3KD2XP';
const CARD = '4539 1488 0343 6467';

const config = `
servers:
${recordingServer('rec', '    policy:\n      permissions: { denied_tools: ["crash"] }')}
audit:
  flush_ms: 20
pii:
  actions:
    credit_card: { request: block, response: redact }
`;

function dbBytes(env: GuardEnv): Buffer {
  const base = join(env.home, 'audit.db');
  return Buffer.concat(['', '-wal', '-shm'].filter((s) => existsSync(base + s)).map((s) => readFileSync(base + s)));
}

test('every exchange is recorded with its decision; secrets and cards never reach the database', async () => {
  const env = new GuardEnv(() => config);
  try {
    const c = await env.client('rec');
    await c.callTool({ name: 'echo', arguments: { hello: 'world' } });
    const blocked = await c.callTool({ name: 'echo', arguments: { note: `key ${AWS}` } }).catch((e) => e);
    assert.equal(blocked.code, -32008);
    assert.deepEqual(blocked.data.types, ['aws_access_key']);
    assert.ok(!JSON.stringify(blocked).includes(AWS), 'the error never quotes the secret');
    const card = await c.callTool({ name: 'echo', arguments: { pay: CARD } }).catch((e) => e);
    assert.equal(card.code, -32008);
    // A response leak is redacted on its way to the client.
    const leak = await c.callTool({ name: 'leak', arguments: { text: 'ok' } });
    assert.deepEqual(leak.content, [{ type: 'text', text: 'ok' }]);
    const denied = await c.callTool({ name: 'crash', arguments: {} }).catch((e) => e);
    assert.equal(denied.code, -32007);
    assert.equal(env.recorded().filter((m) => JSON.stringify(m).includes(AWS) || JSON.stringify(m).includes(CARD)).length, 0, 'nothing blocked reached the upstream');

    await waitFor(() => {
      const r = env.cli(['logs', '--json', '--limit', '100']);
      return r.code === 0 && r.stdout.trim().split('\n').filter(Boolean).length >= 6;
    });
    const rows = env
      .cli(['logs', '--json', '--limit', '100'])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const calls = rows.filter((r) => r.method === 'tools/call');
    assert.deepEqual(
      calls.map((r) => r.decision).sort(),
      ['allow', 'allow', 'block', 'block', 'block'].sort(),
    );
    const pii = calls.filter((r) => r.stage === 'pii');
    assert.equal(pii.length, 2);
    for (const r of pii) assert.ok(r.findings?.length && r.findings.every((f: any) => /^[0-9a-f]{8,}$/.test(f.hashes[0])), JSON.stringify(r.findings));
    assert.equal(calls.find((r) => r.stage === 'permissions')?.target, 'crash');
    assert.ok(rows.some((r) => r.method === 'initialize' && r.decision === 'allow'));
    // A filtered list is recorded as such: the client saw less than the server offered.
    await c.listTools();
    await waitFor(() => env.cli(['logs', '--json', '--method', 'tools/list']).stdout.includes('hidden by policy'));
    const list = JSON.parse(env.cli(['logs', '--json', '--method', 'tools/list']).stdout.trim().split('\n').pop()!);
    assert.equal(list.decision, 'redact');
    assert.equal(list.stage, 'capabilities');
    assert.equal(list.reason, '1 item hidden by policy');
    assert.ok(rows.every((r) => r.identity.startsWith('uid:')));

    // Filters through the CLI.
    const blockedRows = env.cli(['logs', '--json', '--decision', 'block']).stdout.trim().split('\n');
    assert.equal(blockedRows.length, 3);
    assert.equal(env.cli(['logs', '--json', '--tool', 'crash']).stdout.trim().split('\n').length, 1);
    assert.equal(env.cli(['logs', '--decision', 'maybe']).code, 2);
    assert.equal(env.cli(['logs', 'verify']).code, 0);

    await env.close(); // flushes the writer
  } finally {
    await env.close();
  }
});

test('the database holds no raw secret, card or email, in any of its files', async () => {
  const env = new GuardEnv(() => config);
  try {
    const c = await env.client('rec');
    await c.callTool({ name: `echo`, arguments: { a: AWS } }).catch(() => {});
    await c.callTool({ name: `echo`, arguments: { [CARD]: 'card as a key' } }).catch(() => {});
    // In a tool name (the audit row's target) and in a denied tool's name (quoted by the refusal reason).
    await c.callTool({ name: `lookup_${CARD.replace(/ /g, '')}`, arguments: {} }).catch(() => {});
    await c.callTool({ name: 'crash', arguments: { note: AWS } }).catch(() => {});
    await c.readResource({ uri: `file:///data/${AWS}.txt` }).catch(() => {});
    await c.callTool({ name: 'leak', arguments: { text: `mail jane.roe@example.org card ${CARD}` } }).catch(() => {});
    env.cli(['stop']);
    const bytes = dbBytes(env).toString('latin1');
    assert.ok(bytes.length > 0);
    for (const needle of [AWS, CARD, CARD.replace(/ /g, ''), 'jane.roe@example.org']) assert.ok(!bytes.includes(needle), needle);
    assert.equal(env.cli(['logs', 'verify']).code, 0);
  } finally {
    await env.close();
  }
});

test('SIGKILL of the daemon under load: the database opens and verify passes on what was committed', async () => {
  const env = new GuardEnv(() => config);
  try {
    const raw = new RawBridge(env, 'rec');
    await raw.initialize();
    for (let i = 0; i < 5000; i++) raw.send({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { i } } });
    // Killed in the middle: some batches committed (a reader sees their rows), answers still coming.
    // Waiting for answers alone raced the first commit (50 ms after the first row) on a fast machine.
    const committed = () => {
      try {
        const db = new Database(join(env.home, 'audit.db'), { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0; // not created yet
      }
    };
    await waitFor(() => raw.lines.length > 150 && committed() > 0);
    assert.ok(raw.lines.length < 5000, 'still under load when killed');
    process.kill(env.daemonPid()!, 'SIGKILL');
    await raw.exited;
    const v = env.cli(['logs', 'verify', '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const n = JSON.parse(v.stdout).rows;
    assert.ok(n > 0, 'some rows were committed before the kill');
  } finally {
    await env.close();
  }
});

test('a stalled audit writer: no response reaches the client without its audit row, new requests are refused with -32009', async () => {
  const env = new GuardEnv(
    () => `
servers:
${recordingServer('rec')}
audit:
  queue_limit: 4
  batch_size: 1
  flush_ms: 5
`,
  );
  const b = new RawBridge(env, 'rec');
  let lock: Database.Database | undefined;
  try {
    await b.initialize();
    const db = join(env.home, 'audit.db');
    await waitFor(() => env.cli(['logs', '--json']).stdout.includes('"initialize"'));
    // Another process holds the database's write lock: the writer thread waits, records pile up.
    lock = new Database(db);
    lock.exec('BEGIN EXCLUSIVE');
    const N = 12;
    for (let i = 0; i < N; i++) b.send({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { i } } });
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => b.reply(i)));
    const passed = replies.filter((r) => r.result).map((r) => String(r.id));
    const refused = replies.filter((r) => r.error);
    assert.ok(passed.length >= 1 && passed.length <= 8, `between 1 and the hard limit (8) pass: ${passed.length}`);
    assert.ok(refused.length >= 1, 'past the hard limit responses are withheld');
    for (const r of refused) assert.equal(r.error.code, -32009, JSON.stringify(r));
    // At queue_limit a new request is refused before it reaches the upstream.
    const before = env.recorded().length;
    b.send({ jsonrpc: '2.0', id: 'late', method: 'tools/call', params: { name: 'echo', arguments: {} } });
    assert.equal((await b.reply('late')).error.code, -32009);
    assert.equal(env.recorded().length, before, 'the refused request never reached the upstream');
    lock.exec('COMMIT');
    lock.close();
    lock = undefined;
    // Every result the client received has its row once the writer catches up.
    await waitFor(() => {
      const rows = env.cli(['logs', '--json', '--method', 'tools/call', '--limit', '100']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const audited = new Set(rows.filter((r) => r.decision === 'allow').map((r) => r.request_id));
      return passed.every((id) => audited.has(id));
    }, 15_000);
    assert.equal(env.cli(['logs', 'verify']).code, 0);
  } finally {
    if (lock?.inTransaction) lock.exec('ROLLBACK');
    lock?.close();
    b.end();
    await env.close();
  }
});
