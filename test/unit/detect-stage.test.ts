// The `pii` stage: synchronous pass when the gate clears, verdicts and audit notes, scan limit,
// direction mapping, tool-scoped allowlists for responses, pool path for large messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectionStage } from '../../src/detect/stage.js';
import { InspectionPool } from '../../src/detect/pool.js';
import { PiiSchema } from '../../src/config/pii-schema.js';
import { ErrorCode, GuardError } from '../../src/protocol/errors.js';
import type { MessageContext } from '../../src/session/stage.js';

const KEY = Buffer.from('stage-key');
function ctx(msg: any, direction: 'c2s' | 's2c', extra: Partial<MessageContext> = {}): MessageContext {
  const line = Buffer.from(JSON.stringify(msg));
  return {
    session: { id: 's', server: 'srv', identity: {} as any },
    direction,
    kind: msg.method ? (msg.id !== undefined ? 'request' : 'notification') : 'response',
    method: msg.method ?? 'tools/call',
    id: msg.id,
    line,
    msg,
    now: 0,
    audit: { decision: 'allow' },
    ...extra,
  };
}

test('clean message passes synchronously with undefined (no promise)', () => {
  const st = detectionStage({ pii: PiiSchema.parse({}), hashKey: KEY });
  const c = ctx({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_weather', arguments: { city: 'Paris' } } }, 'c2s');
  assert.equal(st.name, 'pii');
  assert.equal(st.handle(c), undefined);
  assert.equal(c.audit.decision, 'allow');
  assert.equal(c.audit.findings, undefined);
});

test('block, redact and warn verdicts with audit notes', async () => {
  const st = detectionStage({ pii: PiiSchema.parse({}), hashKey: KEY });
  const c1 = ctx({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { card: '4111-1111-1111-1111' } } }, 'c2s');
  const v1 = (await st.handle(c1)) as any;
  assert.ok(v1.block instanceof GuardError);
  assert.equal(v1.block.code, ErrorCode.ContentBlocked);
  assert.deepEqual(v1.block.data, { types: ['credit_card'], direction: 'request' });
  assert.ok(!v1.block.message.includes('4111'));
  assert.equal(c1.audit.decision, 'block');
  assert.equal(c1.audit.stage, 'pii');
  assert.equal(c1.audit.findings![0]!.path, 'params.arguments.card');

  const c2 = ctx({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'card 4111 1111 1111 1111' }] } }, 's2c', { requestParams: { name: 'lookup' } });
  const v2 = (await st.handle(c2)) as any;
  assert.equal(v2.replace.result.content[0].text, 'card [REDACTED:credit_card]');
  assert.equal(c2.audit.decision, 'redact');

  const c3 = ctx({ jsonrpc: '2.0', id: 1, result: { host: '203.0.113.7' } }, 's2c');
  assert.equal(await st.handle(c3), undefined);
  assert.equal(c3.audit.decision, 'warn');
  assert.equal(c3.audit.findings!.length, 1);

  // server-to-client request (sampling) and notifications are scanned as well; a server's request
  // is a request (the `request` actions apply to it)
  const c4 = ctx({ jsonrpc: '2.0', id: 9, method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'key AKIAIOSFODNN7EXAMPLE' } }] } }, 's2c');
  assert.deepEqual(((await st.handle(c4)) as any).block.data, { types: ['aws_access_key'], direction: 'request' });
  const c5 = ctx({ jsonrpc: '2.0', method: 'notifications/message', params: { data: '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' } }, 's2c');
  assert.ok(((await st.handle(c5)) as any).block);
});

test('scan limit: oversize blocked with -32006 unless on_oversize allow; disabled passes', () => {
  const big = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { text: 'a'.repeat(2000) } } };
  const v = detectionStage({ pii: PiiSchema.parse({ scan_limit_bytes: 1000 }), hashKey: KEY }).handle(ctx(big, 'c2s')) as any;
  assert.equal(v.block.code, ErrorCode.MessageInvalid);
  assert.deepEqual(v.block.data, { limit: 1000 });
  assert.equal(detectionStage({ pii: PiiSchema.parse({ scan_limit_bytes: 1000, on_oversize: 'allow' }), hashKey: KEY }).handle(ctx(big, 'c2s')), undefined);
  const secret = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { t: 'AKIAIOSFODNN7EXAMPLE' } } };
  assert.equal(detectionStage({ pii: PiiSchema.parse({ enabled: false }), hashKey: KEY }).handle(ctx(secret, 'c2s')), undefined);
});

test('tool-scoped allowlist applies to the response of that tool', async () => {
  const st = detectionStage({ pii: PiiSchema.parse({ allowlist: [{ type: 'email', tool: 'directory' }] }), hashKey: KEY });
  const msg = { jsonrpc: '2.0', id: 1, result: { text: 'bob@example.com' } };
  assert.equal(await st.handle(ctx(msg, 's2c', { requestParams: { name: 'directory' } })), undefined);
  assert.ok(await st.handle(ctx(msg, 's2c', { requestParams: { name: 'other' } })));
});

test('large messages go through the pool and fail closed if it fails', async () => {
  const pii = PiiSchema.parse({});
  const pool = new InspectionPool({ pii, hashKey: KEY, threads: 1, timeoutMs: 2000, testHooks: true });
  const st = detectionStage({ pii, hashKey: KEY, pool, inlineMaxBytes: 100 });
  try {
    const msg = { jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(200) + ' alice@example.com' } };
    const p = st.handle(ctx(msg, 's2c'));
    assert.ok(p instanceof Promise);
    assert.equal(((await p) as any).replace.result.text.endsWith('[REDACTED:email]'), true);
    assert.equal(pool.tasksSubmitted, 1);
    pool.injectFailure('throw');
    const c = ctx(msg, 's2c');
    const v = (await st.handle(c)) as any;
    assert.equal(v.block.code, ErrorCode.ContentBlocked);
    assert.equal(c.audit.decision, 'block');
    assert.ok(c.audit.reason);
  } finally {
    await st.close!();
  }
});
