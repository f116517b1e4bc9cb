// Approval rules (which calls are held, and who decides) and the approvals desk (bindings, the
// --hash check, expiry, withdrawal, the grant that lets the next round of an approved 2026 call
// through only with the same arguments).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { compileApprovalRules } from '../../src/policy/arguments.js';
import { policyProblems } from '../../src/policy/compiled.js';
import { floorMerge } from '../../src/policy/roles.js';
import { policyStages } from '../../src/policy/stage.js';
import { RateLimiter } from '../../src/policy/ratelimit.js';
import { Approvals, bindingOf } from '../../src/daemon/approvals.js';
import { createLogger } from '../../src/daemon/log.js';
import type { ApprovalOutcome, HeldCall } from '../../src/protocol/approval.js';
import type { Identity } from '../../src/protocol/identity.js';
import type { MessageContext } from '../../src/protocol/stage.js';

const rules = compileApprovalRules([
  { tool: 'write_file', action: 'deny', reason: 'writes need a person' },
  { tool: 'transfer', path: 'amount', max: 1000, action: 'deny' },
  { tool: 'edit', path: 'path', glob: '/workspace/**', action: 'require', via: 'client' },
  { tool: 'edit', path: 'path', glob: '/workspace/secret/**', action: 'deny' },
]);

test('a rule without a path holds every call of its tool; a bound holds what breaks it; require holds what does not match', () => {
  assert.equal(rules.check('write_file', {})?.rule, 'approval[0]');
  assert.match(rules.check('WRITE_FILE', undefined)!.reason, /writes need a person \(every call of tool/);
  assert.equal(rules.check('read_file', {}), undefined);
  assert.equal(rules.check('transfer', { amount: 999 }), undefined);
  assert.equal(rules.check('transfer', { amount: 1000.5 })?.rule, 'approval[1]');
  assert.equal(rules.check('transfer', { amount: 'lots' })?.rule, 'approval[1]', 'a value that cannot be checked is held');
  assert.equal(rules.check('edit', { path: '/workspace/a.txt' }), undefined);
  assert.equal(rules.check('edit', { path: '/etc/passwd' })?.via, 'client');
  assert.equal(rules.check('edit', { path: '/workspace/../etc/passwd' })?.via, 'client', 'paths are normalised before the glob');
  // Two rules hold it, one of them for a person at the CLI: the CLI decides.
  assert.deepEqual(rules.check('edit', { path: '/workspace/secret/k' }), { rule: 'approval[3]', reason: 'argument "path" of tool "edit" matches a denied condition', via: 'cli' }, 'require passes it; the deny rule holds it');
  const both = compileApprovalRules([
    { tool: 'edit', action: 'deny', via: 'client' },
    { tool: 'edit', action: 'deny' },
  ]);
  assert.equal(both.check('edit', {})?.via, 'cli');
  assert.equal(compileApprovalRules([{ tool: 'edit', action: 'deny', via: 'client' }]).check('edit', {})?.via, 'client');
});

test('a condition without a path is a config problem, not a rule that never holds', () => {
  const p = policyProblems({ approval: [{ tool: 'x', glob: '/a/**', action: 'deny' }] });
  assert.equal(p.length, 1);
  assert.equal(p[0]!.path, 'approval[0].path');
  assert.match(p[0]!.message, /needs the path/);
  assert.deepEqual(policyProblems({ approval: [{ tool: 'x', action: 'deny' }] }), []);
});

test('roles and personal configs add approval rules and can only shorten the timeout', () => {
  const base = { approval: [{ tool: 'a', action: 'deny' as const }], approval_timeout_s: 300 };
  const merged = floorMerge(base, { approval: [{ tool: 'b', action: 'deny' as const }] });
  assert.deepEqual(merged.approval!.map((r) => r.tool), ['a', 'b']);
  assert.equal(merged.approval_timeout_s, 300);
  assert.equal(floorMerge(base, { approval: [], approval_timeout_s: 30 }).approval_timeout_s, 30);
  assert.equal(floorMerge(base, { approval_timeout_s: 3000 }).approval_timeout_s, 300);
  assert.deepEqual(floorMerge(base, {}).approval, base.approval, 'an overlay that says nothing removes nothing');
});

test('the approval stage marks a held call with its rule and timeout and changes nothing else', () => {
  const stages = policyStages({
    server: 's',
    policy: { approval: [{ tool: 'write_file', action: 'deny' }], approval_timeout_s: 12 },
    roles: { careful: { approval: [{ tool: 'echo', action: 'deny' }] } },
    limiter: new RateLimiter(),
  });
  const stage = stages.find((s) => s.name === 'approval')!;
  const ctx = (name: string, roles: string[] = []): MessageContext => {
    const msg = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name, arguments: {} } };
    return { session: { id: 'x', server: 's', identity: { id: 'k', name: 'k', kind: 'api_key', roles } }, direction: 'c2s', kind: 'request', method: 'tools/call', id: 1, line: Buffer.from(JSON.stringify(msg)), msg, now: 0, audit: { decision: 'allow' } };
  };
  const w = ctx('write_file');
  assert.equal(stage.handle(w), undefined);
  assert.deepEqual(w.hold, { rule: 'approval[0]', reason: 'every call of tool "write_file"', via: 'cli', timeoutMs: 12_000 });
  const e = ctx('echo');
  stage.handle(e);
  assert.equal(e.hold, undefined);
  const careful = ctx('echo', ['careful']);
  stage.handle(careful);
  assert.equal(careful.hold?.rule, 'approval[1]');
});

const quiet = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
const alice: Identity = { id: 'key:alice', name: 'alice', kind: 'api_key', roles: [] };
const call = (over: Partial<HeldCall> = {}): HeldCall => ({
  session: 's1',
  identity: alice,
  server: 'fs',
  tool: 'write_file',
  arguments: { path: '/srv/a', note: 'card 4111 1111 1111 1111' },
  call: '7',
  round: 1,
  rule: 'approval[0]',
  reason: 'writes need a person',
  timeoutMs: 60_000,
  ...over,
});
const redact = (s: string) => s.replace(/4111 1111 1111 1111/g, '[REDACTED:credit_card]');

test('the desk binds an approval to who, where, which tool and which arguments; --hash must match it', () => {
  const desk = new Approvals(redact, quiet);
  const out: ApprovalOutcome[] = [];
  const t = desk.hold(call(), (o) => out.push(o));
  const [v] = desk.list();
  assert.equal(v!.id, t.id);
  assert.equal(v!.binding, bindingOf('key:alice', 'fs', 'write_file', { note: 'card 4111 1111 1111 1111', path: '/srv/a' }), 'canonical: key order does not matter');
  assert.notEqual(v!.binding, bindingOf('key:bob', 'fs', 'write_file', { path: '/srv/a', note: 'card 4111 1111 1111 1111' }));
  assert.notEqual(v!.binding, bindingOf('key:alice', 'fs', 'write_file', { path: '/srv/b', note: 'card 4111 1111 1111 1111' }));
  assert.doesNotMatch(v!.arguments, /4111/);
  assert.match(v!.arguments, /REDACTED:credit_card/);
  const other = bindingOf('key:alice', 'fs', 'write_file', { path: '/srv/b' });
  const r = desk.decide(t.id, true, 'uid:1', undefined, other.slice(0, 16));
  assert.equal(r.ok, false);
  assert.equal(out.length, 0, 'nothing decided on a mismatch');
  assert.equal(desk.decide(t.id, true, 'uid:1', undefined, 'abc').ok, false, 'a prefix too short to mean anything is refused');
  assert.equal(desk.decide(t.id, true, 'uid:1', 'ok', v!.binding.slice(0, 8)).ok, true);
  assert.deepEqual(out, [{ approved: true, by: 'uid:1', reason: 'ok' }]);
  assert.equal(desk.size, 0);
  assert.equal(desk.decide(t.id, false, 'uid:1').ok, false, 'spent');
});

test('an approval covers the next round of the same 2026 call with the same arguments, not a changed round or another call', () => {
  const desk = new Approvals(redact, quiet);
  const first = desk.hold(call(), () => {});
  desk.decide(first.id, true, 'uid:1');
  let o: ApprovalOutcome | undefined;
  desk.hold(call({ round: 2 }), (x) => (o = x));
  assert.equal(o?.approved, true, 'round 2, same binding: decided at once');
  assert.equal(desk.size, 0);
  o = undefined;
  desk.hold(call({ round: 3, arguments: { path: '/etc/passwd' } }), (x) => (o = x));
  assert.equal(o, undefined, 'changed arguments: held again');
  assert.equal(desk.size, 1);
  o = undefined;
  desk.hold(call({ call: '8' }), (x) => (o = x));
  assert.equal(o, undefined, 'a first round of another call is held');
  o = undefined;
  desk.hold(call({ round: 2, identity: { ...alice, id: 'key:bob' } }), (x) => (o = x));
  assert.equal(o, undefined, 'another identity is held');
  desk.close();
});

test('no decision in time refuses the call; a withdrawn call leaves the list and is never decided', async () => {
  const desk = new Approvals(redact, quiet);
  let o: ApprovalOutcome | undefined;
  desk.hold(call({ timeoutMs: 30 }), (x) => (o = x));
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(o?.approved, false);
  assert.equal(o && !o.approved && o.why, 'expired');
  let w: ApprovalOutcome | undefined;
  const t = desk.hold(call(), (x) => (w = x));
  t.withdraw('client cancelled');
  assert.equal(desk.size, 0);
  assert.equal(desk.decide(t.id, true, 'uid:1').ok, false);
  assert.equal(w, undefined);
});
