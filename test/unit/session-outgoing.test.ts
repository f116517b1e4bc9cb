// What the session tells its client link of each message it sends (OutgoingMeta) must describe the
// bytes it sends with it: the HTTP front routes by the meta and no longer parses the line. Every
// way out of the session is driven here (forwarded answer, server request, notification, progress
// and what waits behind it, refusals, mcp-guard's own notifications, timeout, upstream gone, the
// acknowledged-audit queue), and every message is checked against a parse of its own bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, type ClientLink } from '../../src/session/session.js';
import type { AuditSink } from '../../src/audit/record.js';
import type { ApprovalDesk, ApprovalOutcome } from '../../src/protocol/approval.js';
import type { Logger } from '../../src/protocol/log.js';
import type { OutgoingMeta } from '../../src/protocol/message.js';
import type { Stage } from '../../src/protocol/stage.js';
import type { Upstream } from '../../src/upstream/upstream.js';

const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };

class FakeUpstream implements Upstream {
  readonly server = 'up';
  sent: any[] = [];
  backlog = 0;
  onLine: (line: Buffer) => void = () => {};
  onClose: (reason: string) => void = () => {};
  onDrain: () => void = () => {};
  async start(): Promise<void> {}
  send(line: Buffer): void {
    this.sent.push(JSON.parse(line.toString()));
  }
  async close(): Promise<void> {}
  pause(): void {}
  resume(): void {}
  /** A message from the server. */
  say(msg: unknown): void {
    this.onLine(Buffer.from(JSON.stringify(msg)));
  }
}

interface Sent {
  msg: any;
  meta: OutgoingMeta;
}

async function open(opts: { audit?: AuditSink; requestTimeoutMs?: number; stages?: Stage[]; approvals?: ApprovalDesk } = {}) {
  const upstream = new FakeUpstream();
  const out: Sent[] = [];
  const link: ClientLink = {
    send: (line, meta) => out.push({ msg: JSON.parse(line.toString()), meta }),
    close() {},
  };
  const session = new Session({
    id: 's1',
    server: 'up',
    identity: { id: 'uid:1', name: 'u', kind: 'os', roles: [] },
    upstream,
    client: link,
    stages: () => opts.stages ?? [],
    audit: opts.audit,
    log,
    requestTimeoutMs: opts.requestTimeoutMs,
    approvals: opts.approvals,
  });
  await session.start();
  const client = (msg: unknown) => session.fromClientLine(Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg)));
  return { session, upstream, out, client };
}

/** The meta of every message sent says what its bytes say; `method` as the session knew it. */
function assertDescribes(out: Sent[]): void {
  for (const { msg, meta } of out) {
    const kind = typeof msg.method === 'string' ? (msg.id !== undefined && msg.id !== null ? 'request' : 'notification') : 'response';
    assert.equal(meta.kind, kind, `kind of ${JSON.stringify(msg)}`);
    assert.deepEqual(meta.id, msg.id, `id of ${JSON.stringify(msg)}`);
    if (kind === 'response') assert.equal(meta.params, undefined);
    else {
      assert.equal(meta.method, msg.method);
      assert.deepEqual(meta.params, msg.params);
    }
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('forwarded messages: an answer, a server request, a notification, progress and what waits behind it', async () => {
  const { upstream, out, client } = await open();
  client({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {}, _meta: { progressToken: 't1' } } });
  upstream.say({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't1', progress: 1 } });
  // Held one macrotask behind the progress notification each.
  upstream.say({ jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params: { messages: [] } });
  upstream.say({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
  upstream.say({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'hi' }] } });
  assert.equal(out.length, 1, 'the rest waits behind the progress notification');
  for (let i = 0; i < 5; i++) await tick();
  assert.deepEqual(
    out.map((o) => [o.meta.kind, o.meta.method]),
    [
      ['notification', 'notifications/progress'],
      ['request', 'sampling/createMessage'],
      ['notification', 'notifications/message'],
      ['response', 'tools/call'],
    ],
  );
  assert.equal(out[0]!.meta.params.progressToken, 't1');
  assertDescribes(out);
});

test('a message a stage rewrote is described as rewritten', async () => {
  const redact: Stage = {
    name: 'redact',
    handle: (ctx) => (ctx.direction === 's2c' && ctx.kind === 'notification' ? { replace: { ...ctx.msg, params: { level: 'info', data: '[redacted]' } } } : undefined),
  };
  const { upstream, out } = await open({ stages: [redact] });
  upstream.say({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'secret' } });
  assert.equal(out[0]!.meta.params.data, '[redacted]');
  assertDescribes(out);
});

test('refusals are answers on the request id, with its method', async () => {
  const block: Stage = {
    name: 'deny',
    handle: (ctx) => {
      if (ctx.method === 'tools/call' && ctx.kind === 'request') throw new Error('refused');
      return undefined;
    },
  };
  const { session, out, client } = await open({ stages: [block] });
  client({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'x' } }); // a stage throws: refused
  client('{"jsonrpc":"2.0","id":'); // parse error: answered on a null id
  client({ jsonrpc: '1.0', id: 3, method: 'ping' }); // not JSON-RPC 2.0
  client({ jsonrpc: '2.0', id: 4, method: 'ping' });
  client({ jsonrpc: '2.0', id: 4, method: 'ping' }); // the same id while the first is in flight
  session.clientOversize(5000, 1000, 5);
  session.revoke('gone');
  client({ jsonrpc: '2.0', id: 6, method: 'tools/list' }); // admission: revoked
  assert.deepEqual(
    out.map((o) => [o.meta.kind, o.meta.id, o.meta.method]),
    [
      ['response', 'a', 'tools/call'],
      ['response', null, ''],
      ['response', 3, ''],
      ['response', 4, 'ping'],
      ['response', 5, ''],
      ['response', 6, 'tools/list'],
    ],
  );
  assert.ok(out.every((o) => o.msg.error), 'each is an error');
  assertDescribes(out);
});

test("mcp-guard's own notifications, a timed-out request and an upstream that went away", async () => {
  const { session, upstream, out, client } = await open({ requestTimeoutMs: 20 });
  session.notifyClient('notifications/tools/list_changed', undefined, 'capabilities');
  session.notifyClient('notifications/resources/updated', { uri: 'file:///a' }, 'capabilities');
  client({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } });
  await new Promise((r) => setTimeout(r, 60));
  client({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///b' } });
  upstream.onClose('crashed');
  assert.deepEqual(
    out.map((o) => [o.meta.kind, o.meta.id, o.meta.method]),
    [
      ['notification', undefined, 'notifications/tools/list_changed'],
      ['notification', undefined, 'notifications/resources/updated'],
      ['response', 1, 'tools/call'],
      ['response', 2, 'resources/read'],
    ],
  );
  assertDescribes(out);
});

test('with acknowledged audit, what waits for the commit keeps its meta', async () => {
  let commit: (() => void)[] = [];
  const audit: AuditSink = {
    write: () => true,
    full: false,
    accepting: true,
    acknowledged: true,
    afterCommit: (cb) => void commit.push(cb),
  };
  const { upstream, out, client } = await open({ audit });
  client({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
  upstream.say({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
  upstream.say({ jsonrpc: '2.0', id: 1, result: { content: [] } });
  await tick();
  assert.equal(out.length, 0, 'nothing before the commit');
  for (const cb of commit.splice(0)) cb();
  assert.deepEqual(
    out.map((o) => [o.meta.kind, o.meta.id, o.meta.method]),
    [
      ['notification', undefined, 'notifications/message'],
      ['response', 1, 'tools/call'],
    ],
  );
  assertDescribes(out);
  commit = [];
});

test('a call held for approval: the client is asked, hears progress, and gets the refusal; without a desk it is refused at once', async () => {
  const holdWrites: Stage = {
    name: 'approval',
    handle: (ctx) => {
      if (ctx.kind === 'request' && ctx.method === 'tools/call') ctx.hold = { rule: 'approval[0]', reason: 'writes', via: 'client', timeoutMs: 60_000 };
      return undefined;
    },
  };
  const decisions: ((o: ApprovalOutcome) => void)[] = [];
  const desk: ApprovalDesk = {
    hold: (_call, decided) => {
      decisions.push(decided);
      return { id: 'a1', withdraw() {} };
    },
    decide: () => ({ ok: true }),
  };
  const { session, out, client } = await open({ stages: [holdWrites], approvals: desk });
  client({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { elicitation: {} }, clientInfo: { name: 'c', version: '1' } } });
  client({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write', arguments: {}, _meta: { progressToken: 9 } } });
  for (let i = 0; i < 3; i++) await tick();
  decisions[0]!({ approved: false, why: 'denied', by: 'someone' });
  for (let i = 0; i < 3; i++) await tick();
  assert.deepEqual(
    out.map((o) => [o.meta.kind, o.meta.id, o.meta.method]),
    [
      ['request', 'mcp-guard-approval-a1', 'elicitation/create'],
      ['notification', undefined, 'notifications/progress'],
      ['notification', undefined, 'notifications/cancelled'],
      ['response', 1, 'tools/call'],
    ],
  );
  assertDescribes(out);
  await session.close('done');

  const alone = await open({ stages: [holdWrites] });
  alone.client({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'write' } });
  assert.deepEqual(alone.out.map((o) => [o.meta.kind, o.meta.id, o.meta.method]), [['response', 2, 'tools/call']]);
  assertDescribes(alone.out);
});
