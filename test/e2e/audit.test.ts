// Audit through the real bridge and daemon: every exchange recorded, no raw secret anywhere in the
// database files, queryable with `mcp-guard logs`, and intact after the daemon is SIGKILLed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
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
    assert.equal(blocked.code, -32002);
    assert.deepEqual(blocked.data.types, ['aws_access_key']);
    assert.ok(!JSON.stringify(blocked).includes(AWS), 'the error never quotes the secret');
    const card = await c.callTool({ name: 'echo', arguments: { pay: CARD } }).catch((e) => e);
    assert.equal(card.code, -32002);
    // A response leak is redacted on its way to the client.
    const leak = await c.callTool({ name: 'leak', arguments: { text: 'ok' } });
    assert.deepEqual(leak.content, [{ type: 'text', text: 'ok' }]);
    const denied = await c.callTool({ name: 'crash', arguments: {} }).catch((e) => e);
    assert.equal(denied.code, -32001);
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
    for (let i = 0; i < 400; i++) raw.send({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { i } } });
    await waitFor(() => raw.lines.length > 150);
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
