// Both protocol eras through the real bridge and daemon, one policy (DESIGN.md section 6): SDK v2
// clients negotiating 2026-07-28 (auto and pinned) and 2025 clients (SDK v1, and v2 in legacy mode)
// against the dual-era fixture built with serveStdio. Each 2026 bypass of issue #17 has its test here,
// scored on what the client saw and what the upstream actually received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, RawBridge, eraServer, waitFor, type V2Mode } from './harness.js';

// A card (4539 1488 0343 6467) in pieces that the client's own request does not join (two digits at
// each split): only the server's sampling request, which joins them, carries it whole.
const PIECES = ['pay with ', '4539 14', '88 0343', ' 6467'];
const MODERN: V2Mode[] = ['auto', { pin: '2026-07-28' }];
const META = (caps: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': caps,
});

let env: GuardEnv;
before(() => {
  env = new GuardEnv(
    () => `
servers:
${eraServer(
  'era',
  `    policy:
      permissions:
        denied_tools: ["crash"]
        denied_resources: ["file:///etc/**"]
        denied_prompts: ["secret_*"]`,
  { ERA_INSTRUCTIONS: 'Mail alice.smith@example.com for help.', ERA_IGNORE_CAPS: '1' },
)}
${eraServer(
  'open',
  `    policy:
      sampling: { enabled: true, max_tokens: 500 }
      elicitation: { enabled: true }`,
)}
${eraServer(
  'sampler',
  `    policy:
      sampling: { enabled: true, max_tokens: 500 }`,
  { ERA_IGNORE_CAPS: '1' },
)}
${eraServer(
  'limited',
  `    policy:
      sampling: { enabled: true }
      rate_limit:
        tool_limits: { sample: { requests_per_minute: 6 }, stateful: { requests_per_minute: 6 } }`,
)}
${eraServer(
  'notools',
  `    policy:
      permissions:
        allowed_tools: []`,
)}
${eraServer('timed', `    request_timeout_ms: 400`)}
audit:
  flush_ms: 20
`,
  );
});
after(() => env.close());

const sampled = (asked: any[]) => (p: any) => {
  asked.push(p);
  return { model: 'm', role: 'assistant', content: { type: 'text', text: 'sampled!' } };
};
const calls = (name: string) => env.recorded().filter((m) => m.method === 'tools/call' && m.params?.name === name);
const modeName = (m: V2Mode) => (typeof m === 'string' ? m : `pin ${m.pin}`);

/** Audit rows as `logs --json` prints them, once at least `n` match. */
async function rows(filter: string[], n = 1): Promise<any[]> {
  const read = () => {
    const r = env.cli(['logs', '--json', '--limit', '1000', ...filter]);
    return r.code === 0 ? r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  };
  await waitFor(() => read().length >= n);
  return read();
}

test('a 2026 client negotiates 2026-07-28 through the bridge; 2025 clients get 2025 on the same server', async () => {
  for (const mode of MODERN) {
    const c = await env.clientV2('era', { mode });
    assert.equal(c.getNegotiatedProtocolVersion(), '2026-07-28', modeName(mode));
    const { tools } = await c.listTools();
    assert.ok(tools.some((t) => t.name === 'echo') && !tools.some((t) => t.name === 'crash'), 'lists are filtered in 2026 too');
    const err = await c.callTool({ name: 'crash', arguments: {} }).catch((e) => e);
    assert.equal(err.code, -32007);
  }
  const legacy = await env.clientV2('era', { mode: 'legacy' });
  assert.equal(legacy.getNegotiatedProtocolVersion(), '2025-11-25');
  const v1 = await env.client('era');
  assert.ok(v1.getServerVersion()?.name === 'era-server');
  assert.equal(calls('crash').length, 0);
});

test('input_required sampling is refused when sampling is off: the client model is never called', async () => {
  for (const mode of MODERN) {
    const asked: any[] = [];
    const c = await env.clientV2('era', { mode, sampling: sampled(asked) });
    const err = await c.callTool({ name: 'sample', arguments: { prompt: 'hi', maxTokens: 5000 } }).catch((e) => e);
    assert.equal(err.code, -32007, `${modeName(mode)}: ${err.message}`);
    assert.equal(err.data.kind, 'denied');
    assert.equal(err.data.rule, 'sampling.enabled');
    assert.match(err.data.reason, /sampling\/createMessage/);
    assert.equal(asked.length, 0, 'nothing of the embedded request reached the client');
  }
  // The same policy in 2025: the push-form request is refused before the client.
  const asked: any[] = [];
  const v1 = await env.client('era', { capabilities: { sampling: {} } });
  v1.setRequestHandler(CreateMessageRequestSchema, async (r) => sampled(asked)(r.params) as never);
  await v1.callTool({ name: 'sample', arguments: { prompt: 'hi' } }).catch(() => undefined);
  assert.equal(asked.length, 0);
});

test('input_required elicitation is refused when elicitation is off', async () => {
  const asked: any[] = [];
  const c = await env.clientV2('sampler', { elicitation: (p) => (asked.push(p), { action: 'accept', content: { name: 'bob' } }) });
  const err = await c.callTool({ name: 'elicit', arguments: { message: 'Your password?' } }).catch((e) => e);
  assert.equal(err.code, -32007, err.message);
  assert.equal(err.data.rule, 'elicitation.enabled');
  assert.match(err.data.reason, /elicitation\/create/);
  assert.equal(asked.length, 0);
  const v1 = await env.client('sampler', { capabilities: { elicitation: {} } });
  v1.setRequestHandler(ElicitRequestSchema, async (r) => (asked.push(r.params), { action: 'accept', content: { name: 'bob' } }) as never);
  await v1.callTool({ name: 'elicit', arguments: {} }).catch(() => undefined);
  assert.equal(asked.length, 0);
});

test('sampling that is enabled is capped at max_tokens in both eras; roots pass as in 2025', async () => {
  for (const mode of [...MODERN, 'legacy' as const]) {
    const asked: any[] = [];
    const c = await env.clientV2('open', { mode, sampling: sampled(asked), roots: () => ({ roots: [{ uri: 'file:///home/me/p', name: 'p' }] }) });
    const r = await c.callTool({ name: 'sample', arguments: { prompt: 'hi', maxTokens: 5000 } });
    assert.match(JSON.stringify(r.content), /sampled!/, modeName(mode));
    assert.deepEqual(asked.map((p) => p.maxTokens), [500], `${modeName(mode)}: maxTokens capped`);
    const roots = await c.callTool({ name: 'roots', arguments: {} });
    assert.match(JSON.stringify(roots.content), /file:\/\/\/home\/me\/p/);
  }
});

test('each 2026 request loses the sampling and elicitation capabilities the policy disables', async () => {
  const before = env.recorded().length;
  const c = await env.clientV2('sampler', { sampling: sampled([]), elicitation: () => ({ action: 'decline' }), roots: () => ({ roots: [] }) });
  await c.callTool({ name: 'echo', arguments: { x: 1 } });
  const sent = env.recorded().slice(before).filter((m) => m.params?._meta?.['io.modelcontextprotocol/clientCapabilities']);
  assert.ok(sent.length >= 2, 'discover probe and calls carry capabilities');
  for (const m of sent) {
    const caps = m.params._meta['io.modelcontextprotocol/clientCapabilities'];
    assert.ok(!('elicitation' in caps), `${m.method}: elicitation stripped`);
    assert.ok('sampling' in caps && 'roots' in caps, `${m.method}: what the policy allows stays`);
  }
});

test('server/discover is filtered like initialize: capabilities the policy turns off, instructions inspected', async () => {
  const c = await env.clientV2('notools', { mode: { pin: '2026-07-28' } });
  assert.equal(c.getServerCapabilities()?.tools, undefined, 'a server whose tools are all denied advertises none');
  assert.ok(c.getServerCapabilities()?.resources, 'the rest stays');
  const legacy = await env.client('notools');
  assert.equal(legacy.getServerCapabilities()?.tools, undefined, '2025: the same');
  for (const mode of MODERN) {
    const m = await env.clientV2('era', { mode });
    assert.equal(m.getInstructions(), 'Mail [REDACTED:email] for help.', modeName(mode));
  }
  assert.equal((await env.client('era')).getInstructions(), 'Mail [REDACTED:email] for help.');
});

test('PII: embedded requests take the request actions as their 2025 form does; requestState is never rewritten', async () => {
  const asked: any[] = [];
  const c = await env.clientV2('open', { sampling: sampled(asked) });
  // A card in a sampling request is blocked (request action), not redacted (response action).
  const err = await c.callTool({ name: 'sample', arguments: { prompt: PIECES } }).catch((e) => e);
  assert.equal(err.code, -32008, err.message);
  assert.deepEqual(err.data.types, ['credit_card']);
  assert.equal(asked.length, 0);
  const v1 = await env.client('open', { capabilities: { sampling: {} } });
  v1.setRequestHandler(CreateMessageRequestSchema, async (r) => sampled(asked)(r.params) as never);
  await v1.callTool({ name: 'sample', arguments: { prompt: PIECES } }).catch(() => undefined);
  assert.equal(asked.length, 0, '2025: blocked too');
  // Both audited as a blocked sampling request with the finding, whichever the era.
  const audit = await rows(['--server', 'open', '--method', 'sampling/createMessage', '--decision', 'block'], 2);
  for (const era of ['2025', '2026']) {
    const r = audit.find((x) => x.era === era);
    assert.ok(r, `${era}: ${JSON.stringify(audit)}`);
    assert.equal(r.stage, 'pii');
    assert.deepEqual(r.findings.map((f: any) => f.type), ['credit_card']);
  }

  // An email in requestState would be redacted anywhere else: here the message is refused instead.
  const before = calls('stateful').length;
  const st = await c.callTool({ name: 'stateful', arguments: { state: ['for alice.smith', '@example.com'] } }).catch((e) => e);
  assert.equal(st.code, -32008, st.message);
  assert.equal(calls('stateful').length, before + 1, 'no retry reached the server with an altered state');
});

test('PII in inputResponses is inspected like a 2025 answer to the server', async () => {
  const c = await env.clientV2('open', { sampling: () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'write to bob@example.org' } }) });
  const r = await c.callTool({ name: 'sample', arguments: { prompt: 'hi' } });
  assert.match(JSON.stringify(r.content), /\[REDACTED:email\]/);
  const retry = calls('sample').filter((m) => m.params.inputResponses).pop();
  assert.ok(retry && !JSON.stringify(retry).includes('bob@example.org'), 'the upstream never saw the address');
});

test('requestState passes byte for byte, also when the proxy rewrites the retry', async () => {
  // `sampler` disables elicitation: every request of this client is rewritten (capability stripped).
  const c = await env.clientV2('sampler', { sampling: sampled([]), elicitation: () => ({ action: 'decline' }) });
  const r = await c.callTool({ name: 'sample', arguments: { prompt: 'hi' } });
  assert.match(JSON.stringify(r.content), /sampled!/, 'the server verified its state');
  const retry = calls('sample').filter((m) => m.params.requestState !== undefined).pop();
  assert.equal(retry.params.requestState, 'st1.eyJjYWxsIjoxfQ.\u00e9\u2028/\\"sig');
});

test('a retried call is one logical call: one rate-limit charge, and the audit links the rounds', async () => {
  // 6 per minute gives a burst of 5: five two-round calls must all pass.
  const c = await env.clientV2('limited', { sampling: sampled([]) });
  for (let i = 0; i < 5; i++) {
    const r = await c.callTool({ name: 'sample', arguments: { prompt: `n${i}` } });
    assert.match(JSON.stringify(r.content), /sampled!/, `call ${i + 1}`);
  }
  const sixth = await c.callTool({ name: 'sample', arguments: { prompt: 'n5' } }).catch((e) => e);
  assert.equal(sixth.code, -32009);
  const audit = await rows(['--server', 'limited', '--tool', 'sample'], 11);
  const firsts = audit.filter((r) => r.round === 1);
  const seconds = audit.filter((r) => r.round === 2);
  assert.equal(firsts.length, 5);
  assert.equal(seconds.length, 5);
  for (const s of seconds) assert.ok(firsts.some((f) => f.call === s.call && f.request_id === s.call), 'round 2 names the call of round 1');
});

test('a retry the proxy did not hand out is charged as a new call (no free call per round)', async () => {
  const raw = new RawBridge(env, 'limited');
  const send = (id: string, extra: Record<string, unknown>) =>
    raw.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'stateful', arguments: {}, _meta: META(), ...extra } });
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) {
    send(`f${i}`, { requestState: `forged-${i}` });
    const r = await raw.reply(`f${i}`);
    codes.push(r.error?.code ?? 0);
  }
  assert.deepEqual(codes.filter((c) => c === -32009).length, 2, `burst of 5, then limited: ${codes}`);
  raw.end();
  await raw.exited;
});

test('subscriptions/listen follows the resource permissions; updates on the stream are filtered', async () => {
  const c = await env.clientV2('era');
  const err = await c.listen({ resourceSubscriptions: ['file:///data/a.txt', 'file:///etc/passwd'] }).catch((e) => e);
  assert.equal(err.code, -32007, err.message);
  assert.match(err.data.reason, /file:\/\/\/etc\/passwd/);
  const updated: string[] = [];
  c.setNotificationHandler('notifications/resources/updated', (n) => void updated.push(n.params.uri));
  const sub = await c.listen({ resourceSubscriptions: ['file:///data/a.txt', 'file:///data/b.txt'] });
  await c.callTool({ name: 'notify_updated', arguments: { uris: ['file:///data/a.txt', 'file:///etc/passwd', 'file:///data/b.txt'] } });
  await waitFor(() => updated.length >= 2);
  await c.callTool({ name: 'echo', arguments: {} });
  assert.deepEqual(updated, ['file:///data/a.txt', 'file:///data/b.txt']);
  await sub.close();
});

test('a listen stream is long-lived: the request timeout does not cut it', async () => {
  const raw = new RawBridge(env, 'timed');
  // Until the upstream has started, a request may time out (400 ms): wait for a warm server first.
  for (let i = 0; ; i++) {
    raw.send({ jsonrpc: '2.0', id: `w${i}`, method: 'tools/list', params: { _meta: META() } });
    if ((await raw.reply(`w${i}`)).result) break;
  }
  raw.send({ jsonrpc: '2.0', id: 'listen', method: 'subscriptions/listen', params: { _meta: META(), notifications: { resourceSubscriptions: ['file:///data/a.txt'] } } });
  await waitFor(() => raw.lines.some((l) => l.method === 'notifications/subscriptions/acknowledged'));
  // Three request timeouts later the stream is still open and delivers.
  await new Promise((r) => setTimeout(r, 1200));
  raw.send({ jsonrpc: '2.0', id: 'n', method: 'tools/call', params: { name: 'notify_updated', arguments: { uris: ['file:///data/a.txt'] }, _meta: META() } });
  assert.ok((await raw.reply('n')).result);
  await waitFor(() => raw.lines.some((l) => l.method === 'notifications/resources/updated'));
  assert.equal(raw.lines.filter((l) => l.id === 'listen').length, 0, 'the listen request was never answered with a timeout');
  raw.end();
  await raw.exited;
});

test('lists filtered per identity are never marked shareable (cacheScope private)', async () => {
  const raw = new RawBridge(env, 'era');
  for (const [i, method] of ['tools/list', 'resources/list', 'prompts/list', 'server/discover'].entries()) {
    raw.send({ jsonrpc: '2.0', id: i, method, params: { _meta: META() } });
    const r = await raw.reply(i);
    assert.ok(r.result, `${method}: ${JSON.stringify(r)}`);
    assert.ok(r.result.cacheScope === 'private' || (r.result.cacheScope === undefined && r.result.ttlMs === undefined), `${method}: ${r.result.cacheScope}`);
  }
  raw.end();
  await raw.exited;
});

test('audit rows and logs record the era; embedded requests are audited like their 2025 form', async () => {
  const asked: any[] = [];
  const m = await env.clientV2('era', { sampling: sampled(asked) });
  await m.callTool({ name: 'sample', arguments: {} }).catch(() => undefined);
  const v1 = await env.client('era', { capabilities: { sampling: {} } });
  v1.setRequestHandler(CreateMessageRequestSchema, async (r) => sampled(asked)(r.params) as never);
  await v1.callTool({ name: 'sample', arguments: {} }).catch(() => undefined);
  const samplingRows = await rows(['--server', 'era', '--method', 'sampling/createMessage'], 2);
  const byEra = (e: string) => samplingRows.filter((r) => r.era === e);
  assert.ok(byEra('2026').length >= 1 && byEra('2025').length >= 1, JSON.stringify(samplingRows));
  for (const r of samplingRows) {
    assert.equal(r.decision, 'block');
    assert.equal(r.stage, 'sampling');
    assert.equal(r.direction, 's2c');
  }
  const listRows = await rows(['--server', 'era', '--method', 'tools/list'], 1);
  assert.ok(listRows.every((r) => r.era === '2025' || r.era === '2026'));
  const table = env.cli(['logs', '--server', 'era', '--method', 'sampling/createMessage']);
  assert.match(table.stdout.split('\n')[0]!, /\bERA\b/);
  assert.equal(env.cli(['logs', 'verify']).code, 0);
});

test('a protocol revision whose rules mcp-guard does not know is not passed on', async () => {
  const raw = new RawBridge(env, 'era');
  raw.send({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META() } });
  assert.ok((await raw.reply(1)).result);
  raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: { ...META(), 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } });
  const r = await raw.reply(2);
  assert.equal(r.error?.code, -32022, JSON.stringify(r));
  assert.deepEqual(r.error.data, { kind: 'unsupported_protocol_version', supported: ['2026-07-28'], requested: '2099-01-01' });
  assert.equal(env.recorded().filter((m) => m.params?._meta?.['io.modelcontextprotocol/protocolVersion'] === '2099-01-01').length, 0);
  raw.end();
  await raw.exited;
});
