// The 2026-era forms of the policy, unit by unit: the input_required guard, linked rounds, the
// per-request capability strip, discover filtering and cache hints, and the era of a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/compiled.js';
import { guardInputRequests } from '../../src/policy/inputs.js';
import { RoundTracker, callTarget } from '../../src/policy/rounds.js';
import { filterDiscoverResult, filterRequestCapabilities, privateCacheScope } from '../../src/policy/capabilities.js';
import { eraOf, isRetry } from '../../src/protocol/era.js';

const off = compilePolicy({});
const on = compilePolicy({ sampling: { enabled: true, max_tokens: 500 }, elicitation: { enabled: true } });
const sampling = (maxTokens: number) => ({ method: 'sampling/createMessage', params: { messages: [], maxTokens } });

test('the era of a message: initialize is 2025, a _meta protocol version is 2026', () => {
  assert.equal(eraOf('initialize', { protocolVersion: '2025-11-25' }), '2025');
  assert.equal(eraOf('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }), '2026');
  assert.equal(eraOf('tools/list', {}), undefined);
  assert.equal(eraOf('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': 7 } }), undefined);
  assert.equal(isRetry({ requestState: 'x' }), true);
  assert.equal(isRetry({ inputResponses: {} }), true);
  assert.equal(isRetry({ name: 'x' }), false);
});

test('inputRequests: sampling and elicitation refused unless enabled, naming what the server asked for', () => {
  const r = { resultType: 'input_required', inputRequests: { roots: { method: 'roots/list' }, ask: sampling(10) }, requestState: 'S' };
  const d = guardInputRequests(r, off) as any;
  assert.equal(d.deny.rule, 'sampling.enabled');
  assert.match(d.deny.reason, /sampling\/createMessage/);
  assert.deepEqual(
    d.notes.map((n: any) => [n.key, n.method, n.decision]),
    [
      ['roots', 'roots/list', 'block'],
      ['ask', 'sampling/createMessage', 'block'],
    ],
    'the whole result is withheld',
  );
  const e = guardInputRequests({ inputRequests: { who: { method: 'elicitation/create', params: { message: 'x' } } } }, off) as any;
  assert.equal(e.deny.rule, 'elicitation.enabled');
  assert.match(e.deny.reason, /elicitation\/create/);
});

test('inputRequests: maxTokens capped by copy, requestState and the rest untouched', () => {
  const r = { resultType: 'input_required', inputRequests: { a: sampling(5000), b: sampling(100) }, requestState: 'S' };
  const d = guardInputRequests(r, on) as any;
  assert.equal(d.deny, undefined);
  assert.equal(d.result.inputRequests.a.params.maxTokens, 500);
  assert.equal(d.result.inputRequests.b, r.inputRequests.b, 'an entry within the cap is the same object');
  assert.equal(d.result.requestState, 'S');
  assert.equal(r.inputRequests.a.params.maxTokens, 5000, 'the original is not mutated');
  assert.deepEqual(guardInputRequests({ inputRequests: { b: sampling(100) } }, on), { notes: [{ method: 'sampling/createMessage', key: 'b', decision: 'allow' }] });
});

test('inputRequests that cannot be checked are refused (fail closed)', () => {
  for (const inputRequests of [[sampling(1)], 'x', null, { a: { method: 'tasks/run' } }, { a: 'sampling/createMessage' }, { a: { params: {} } }]) {
    const d = guardInputRequests({ resultType: 'input_required', inputRequests }, on) as any;
    assert.equal(d.deny?.rule, 'input_requests', JSON.stringify(inputRequests));
  }
  assert.deepEqual(guardInputRequests({ resultType: 'input_required', requestState: 'S' }, off), { notes: [] });
});

test('rounds: a retry links only to a round handed out, once, for the same caller, call and target', () => {
  const t = new RoundTracker(1000);
  t.offer('u1', 'tools/call', 'sample', { requestState: 'S1' }, { id: '7', round: 1 }, 0);
  assert.equal(t.take('u2', 'tools/call', 'sample', { requestState: 'S1' }, 1), undefined, 'another caller');
  assert.equal(t.take('u1', 'tools/call', 'other', { requestState: 'S1' }, 1), undefined, 'another tool');
  assert.equal(t.take('u1', 'tools/call', 'sample', { requestState: 'forged' }, 1), undefined, 'a state never handed out');
  assert.deepEqual(t.take('u1', 'tools/call', 'sample', { requestState: 'S1', inputResponses: {} }, 1), { id: '7', round: 2 });
  assert.equal(t.take('u1', 'tools/call', 'sample', { requestState: 'S1' }, 2), undefined, 'consumed: a replay pays');
  // Without a requestState, the input request keys identify the round.
  t.offer('u1', 'prompts/get', 'p', { inputRequests: { b: {}, a: {} } }, { id: 's', round: 2 }, 0);
  assert.deepEqual(t.take('u1', 'prompts/get', 'p', { inputResponses: { a: {}, b: {} } }, 10), { id: 's', round: 3 });
  t.offer('u1', 'tools/call', 'sample', { requestState: 'S2' }, { id: '9', round: 1 }, 0);
  assert.equal(t.take('u1', 'tools/call', 'sample', { requestState: 'S2' }, 1000), undefined, 'expired');
  assert.equal(callTarget('resources/read', { uri: 'file:///a' }), 'file:///a');
  assert.equal(callTarget('tools/call', { name: 'x' }), 'x');
});

test('rounds: memory is bounded, the oldest rounds go first', () => {
  const t = new RoundTracker(60_000, 3);
  for (let i = 0; i < 5; i++) t.offer('u', 'tools/call', 't', { requestState: `S${i}` }, { id: String(i), round: 1 }, i);
  assert.equal(t.size, 3);
  assert.equal(t.take('u', 'tools/call', 't', { requestState: 'S0' }, 10), undefined);
  assert.deepEqual(t.take('u', 'tools/call', 't', { requestState: 'S4' }, 10), { id: '4', round: 2 });
});

test('each 2026 request loses sampling and elicitation in its _meta when the policy disables them', () => {
  const caps = { sampling: {}, elicitation: {}, roots: {} };
  const params = { name: 'x', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': caps, other: 1 } };
  assert.deepEqual(filterRequestCapabilities(params, off), {
    name: 'x',
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { roots: {} }, other: 1 },
  });
  assert.equal(params._meta['io.modelcontextprotocol/clientCapabilities'], caps, 'not mutated');
  assert.equal(filterRequestCapabilities(params, on), undefined);
  assert.equal(filterRequestCapabilities({ name: 'x' }, off), undefined);
});

test('server/discover is filtered like initialize and offers only revisions mcp-guard knows', () => {
  const none = compilePolicy({ permissions: { allowed_tools: [] } });
  const r = filterDiscoverResult({ supportedVersions: ['2026-07-28', '2027-03-01'], capabilities: { tools: {}, resources: {} }, instructions: 'i' }, none)!;
  assert.deepEqual(r, { supportedVersions: ['2026-07-28'], capabilities: { resources: {} }, instructions: 'i' });
  assert.equal(filterDiscoverResult({ supportedVersions: ['2026-07-28'], capabilities: { tools: {} } }, off), undefined);
});

test('cache hints of results shaped per caller become private', () => {
  assert.deepEqual(privateCacheScope('tools/list', { tools: [], ttlMs: 5, cacheScope: 'public' }), { tools: [], ttlMs: 5, cacheScope: 'private' });
  assert.deepEqual(privateCacheScope('resources/read', { contents: [], ttlMs: 5 }), { contents: [], ttlMs: 5, cacheScope: 'private' });
  assert.equal(privateCacheScope('tools/list', { tools: [], ttlMs: 5, cacheScope: 'private' }), undefined);
  assert.equal(privateCacheScope('tools/list', { tools: [] }), undefined, 'no hint: nothing to change');
  assert.equal(privateCacheScope('tools/call', { content: [], cacheScope: 'public' }), undefined);
});

// ---- the stages end to end, as the session runs them -------------------------------------------
import { policyStages } from '../../src/policy/stage.js';
import { RateLimiter } from '../../src/policy/ratelimit.js';
import type { MessageContext, Stage, Verdict } from '../../src/protocol/stage.js';
import type { Direction, JsonRpcMessage, Kind } from '../../src/protocol/message.js';

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } };
const identity = { id: 'u', name: 'u', kind: 'api_key' as const, roles: [] };
function stagesOf(policy: object) {
  const stages = policyStages({ server: 's', policy, roles: {}, limiter: new RateLimiter(), rounds: new RoundTracker() });
  return (direction: Direction, kind: Kind, method: string, msg: JsonRpcMessage, now = 0, extra: Partial<MessageContext> = {}) => {
    const c: MessageContext = { session: { id: 's', server: 's', identity }, direction, kind, method, id: msg.id, line: Buffer.from(JSON.stringify(msg)), msg, now, audit: { decision: 'allow' }, ...extra };
    let out: Verdict;
    for (const s of stages as Stage[]) {
      const v = s.handle(c) as Verdict;
      if (v && 'block' in v) return { v, c };
      if (v && 'replace' in v) (c.msg = v.replace), (out = v);
    }
    return { v: out, c };
  };
}

test('stages: server/discover is exempt from rate limits like initialize; an unknown revision is refused', () => {
  const run = stagesOf({ rate_limit: { requests_per_minute: 6 } });
  for (let i = 0; i < 20; i++) {
    const { v } = run('c2s', 'request', 'server/discover', { jsonrpc: '2.0', id: i, method: 'server/discover', params: { _meta: META } }, 1);
    assert.ok(!(v && 'block' in v), `discover ${i}`);
    assert.deepEqual((v as any).replace.params._meta['io.modelcontextprotocol/clientCapabilities'], {}, 'sampling (off) stripped');
  }
  const r = run('c2s', 'request', 'tools/list', { jsonrpc: '2.0', id: 'x', method: 'tools/list', params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2030-01-01' } } }, 1);
  assert.equal((r.v as any).block.code, -32022);
});

test('stages: a two-round call is charged once and its rounds are linked; the capped result carries the call', () => {
  const run = stagesOf({ sampling: { enabled: true, max_tokens: 50 }, rate_limit: { tool_limits: { sample: { requests_per_minute: 6 } } } });
  const req = (id: string, extra: object = {}) => ({ jsonrpc: '2.0' as const, id, method: 'tools/call', params: { name: 'sample', arguments: {}, _meta: META, ...extra } });
  for (let n = 0; n < 5; n++) {
    const first = run('c2s', 'request', 'tools/call', req(`a${n}`), 10);
    assert.equal(first.v, undefined, `call ${n}`);
    const result = { resultType: 'input_required', inputRequests: { ask: sampling(999) }, requestState: `S${n}` };
    const resp = run('s2c', 'response', 'tools/call', { jsonrpc: '2.0', id: `a${n}`, result }, 11, { requestParams: req(`a${n}`).params, requestNote: first.c.audit });
    assert.equal((resp.v as any).replace.result.inputRequests.ask.params.maxTokens, 50);
    assert.deepEqual(resp.c.audit.call, { id: `a${n}`, round: 1 });
    assert.deepEqual(resp.c.audit.embedded?.map((e) => [e.key, e.decision]), [['ask', 'allow']]);
    const retry = run('c2s', 'request', 'tools/call', req(`b${n}`, { requestState: `S${n}`, inputResponses: { ask: {} } }), 12);
    assert.equal(retry.v, undefined, `retry ${n} is not charged`);
    assert.deepEqual(retry.c.audit.call, { id: `a${n}`, round: 2 });
  }
  const sixth = run('c2s', 'request', 'tools/call', req('a5'), 13);
  assert.equal((sixth.v as any).block.code, -32009);
});

test('stages: subscriptions/listen is refused when a subscribed resource is denied', () => {
  const run = stagesOf({ permissions: { denied_resources: ['file:///etc/**'] } });
  const listen = (uris: unknown) => ({ jsonrpc: '2.0' as const, id: 'l', method: 'subscriptions/listen', params: { _meta: META, notifications: { resourceSubscriptions: uris } } });
  const denied = run('c2s', 'request', 'subscriptions/listen', listen(['file:///a', 'file:///data/../etc/passwd']));
  assert.equal((denied.v as any).block.code, -32007);
  assert.equal(denied.c.audit.stage, 'permissions');
  assert.equal((run('c2s', 'request', 'subscriptions/listen', listen(['file:///a'])).v as any)?.block, undefined);
  assert.equal((run('c2s', 'request', 'subscriptions/listen', listen([42])).v as any).block.code, -32007);
});
