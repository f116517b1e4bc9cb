import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyStages } from '../../src/policy/stage.js';
import { RateLimiter } from '../../src/policy/ratelimit.js';
import { ErrorCode, GuardError } from '../../src/protocol/errors.js';
import type { Identity } from '../../src/protocol/identity.js';
import type { MessageContext, Stage, Verdict } from '../../src/protocol/stage.js';
import type { Direction, JsonRpcMessage, Kind } from '../../src/protocol/message.js';

const stages = policyStages({
  server: 'fs',
  policy: {
    permissions: { allowed_tools: ['read_file', 'write_file', 'list_*'], denied_resources: ['file:///etc/**'] },
    argument_rules: [{ tool: 'write_file', path: 'path', glob: '/etc/**', action: 'deny' }],
    rate_limit: { requests_per_minute: 60 },
  },
  roles: { reader: { permissions: { denied_tools: ['write_*'] }, rate_limit: { requests_per_minute: 6 } } },
  limiter: new RateLimiter(),
});

const who = (id: string, roles: string[] = []): Identity => ({ id, name: id, kind: 'api_key', roles });

function ctx(identity: Identity, direction: Direction, kind: Kind, method: string, msg: JsonRpcMessage, now = 0): MessageContext {
  return {
    session: { id: 's', server: 'fs', identity },
    direction,
    kind,
    method,
    id: msg.id,
    line: Buffer.from(JSON.stringify(msg)),
    msg,
    now,
    audit: { decision: 'allow' },
  };
}

/** Runs the stages like the session would: stop at the first block, carry replacements on. */
function run(c: MessageContext): Verdict {
  let out: Verdict;
  for (const s of stages as Stage[]) {
    const v = s.handle(c) as Verdict;
    assert.ok(!(v instanceof Promise), `${s.name} must be synchronous`);
    if (v && 'block' in v) return v;
    if (v && 'replace' in v) {
      c.msg = v.replace;
      out = v;
    }
  }
  return out;
}

const call = (name: string, args: unknown, id = 1): JsonRpcMessage => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const blocked = (v: Verdict, code: number, rule?: string) => {
  assert.ok(v && 'block' in v, 'expected a block');
  assert.ok(v.block instanceof GuardError);
  assert.equal(v.block.code, code);
  if (rule) assert.equal((v.block.data as { rule: string }).rule, rule);
};

test('stage names', () => {
  assert.deepEqual(stages.map((s) => s.name), ['rate_limit', 'permissions', 'arguments', 'approval', 'capabilities', 'sampling']);
});

test('permissions, arguments and audit note', () => {
  assert.equal(run(ctx(who('a'), 'c2s', 'request', 'tools/call', call('read_file', { path: '/x' }))), undefined);
  const c = ctx(who('a'), 'c2s', 'request', 'tools/call', call('delete', {}));
  blocked(run(c), ErrorCode.Denied, 'permissions.allowed_tools');
  assert.equal(c.audit.decision, 'block');
  assert.equal(c.audit.stage, 'permissions');
  blocked(run(ctx(who('a'), 'c2s', 'request', 'tools/call', call('write_file', { path: '/tmp/../etc/x' }))), ErrorCode.Denied, 'argument_rules[0]');
  blocked(run(ctx(who('a'), 'c2s', 'request', 'resources/read', { id: 2, method: 'resources/read', params: { uri: 'file:///tmp/%2e%2e/etc/passwd' } })), ErrorCode.Denied);
  blocked(run(ctx(who('a'), 'c2s', 'request', 'resources/subscribe', { id: 2, method: 'resources/subscribe', params: { uri: 'FILE:///ETC/x' } })), ErrorCode.Denied);
});

test('roles narrow; an unknown role is denied everything', () => {
  blocked(run(ctx(who('r', ['reader']), 'c2s', 'request', 'tools/call', call('write_file', { path: '/tmp/x' }))), ErrorCode.Denied, 'permissions.denied_tools[0]');
  assert.equal(run(ctx(who('r', ['reader']), 'c2s', 'request', 'tools/call', call('read_file', {}), 1)), undefined);
  blocked(run(ctx(who('x', ['admin']), 'c2s', 'request', 'tools/call', call('read_file', {}))), ErrorCode.Denied, 'roles');
  const list = run(ctx(who('x', ['admin']), 's2c', 'response', 'tools/list', { id: 3, result: { tools: [{ name: 'read_file' }] } }));
  assert.deepEqual(list && 'replace' in list && list.replace.result, { tools: [] });
});

test('rate limit per identity with role limits; initialize, ping, notifications exempt', () => {
  const id = who('hammer', ['reader']);
  let ok = 0;
  let last: Verdict;
  for (let t = 0; t < 10_000; t += 10) {
    const v = run(ctx(id, 'c2s', 'request', 'tools/call', call('read_file', {}), 100_000 + t));
    if (!v) ok++;
    else last = v;
  }
  assert.ok(ok <= 6 + 1 + 5, `reader at 6/min got ${ok} in 10 s`);
  blocked(last, ErrorCode.RateLimited);
  assert.ok(((last as { block: GuardError }).block.data as { retryAfterMs: number }).retryAfterMs > 0);
  for (let i = 0; i < 100; i++) {
    assert.equal(run(ctx(id, 'c2s', 'request', 'ping', { id: i, method: 'ping' }, 200_000)), undefined);
    assert.equal(run(ctx(id, 'c2s', 'notification', 'notifications/cancelled', { method: 'notifications/cancelled' }, 200_000)), undefined);
  }
  // Another identity with the same role has its own budget.
  assert.equal(run(ctx(who('other', ['reader']), 'c2s', 'request', 'tools/call', call('read_file', {}), 100_000)), undefined);
});

test('responses are filtered; errors pass; initialize is rewritten both ways', () => {
  const v = run(ctx(who('a'), 's2c', 'response', 'tools/list', { id: 4, result: { tools: [{ name: 'read_file' }, { name: 'rm' }] } }));
  assert.deepEqual(v && 'replace' in v && v.replace, { id: 4, result: { tools: [{ name: 'read_file' }] } });
  assert.equal(run(ctx(who('a'), 's2c', 'response', 'tools/list', { id: 5, error: { code: -1, message: 'x' } })), undefined);
  const init = run(ctx(who('a'), 'c2s', 'request', 'initialize', { id: 0, method: 'initialize', params: { capabilities: { sampling: {}, roots: {} } } }));
  assert.deepEqual(init && 'replace' in init && init.replace.params, { capabilities: { roots: {} } });
});

test('server-to-client sampling is refused by default with -32007', () => {
  const c = ctx(who('a'), 's2c', 'request', 'sampling/createMessage', { id: 'srv-1', method: 'sampling/createMessage', params: { maxTokens: 10, messages: [] } });
  blocked(run(c), ErrorCode.Denied, 'sampling.enabled');
  assert.equal(c.audit.stage, 'sampling');
});
