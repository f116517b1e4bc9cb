// The HTTP front routes the session's output by what the session tells it of each message
// (OutgoingMeta), without parsing the line: 2025 answers to their POST, progress to the stream of
// its request, the rest to the GET stream; 2026 answers, progress and listen notifications to their
// request's own response with the client's id and token spliced back, logs to the request that
// asked for them, server requests dropped. Fake responses stand in for the sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpSession, type FrontSession } from '../../src/http/http-session.js';
import { StatelessRoutes } from '../../src/http/stateless.js';
import { CLIENT_CAPABILITIES_KEY, PROTOCOL_VERSION_KEY, SUBSCRIPTION_ID_KEY } from '../../src/protocol/era.js';
import type { Logger } from '../../src/protocol/log.js';
import type { OutgoingMeta } from '../../src/protocol/message.js';
import type { ClientLink } from '../../src/session/session.js';

class FakeRes extends EventEmitter {
  status?: number;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  writableLength = 0;
  body = '';
  writeHead(status: number): this {
    this.status = status;
    this.headersSent = true;
    return this;
  }
  flushHeaders(): void {}
  write(b: Buffer | string): boolean {
    this.body += b.toString();
    return true;
  }
  end(b?: Buffer | string): this {
    if (b) this.body += b.toString();
    this.writableEnded = true;
    this.writableFinished = true;
    return this;
  }
  cork(): void {}
  uncork(): void {}
  /** The JSON-RPC messages of its SSE events. */
  get events(): any[] {
    return [...this.body.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
  }
}
const asRes = (r: FakeRes) => r as unknown as ServerResponse;

const warnings: string[] = [];
const log: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {}, child: () => log };
const identity = { id: 'uid:1', name: 'u', kind: 'os' as const, roles: [] };
const line = (msg: unknown) => Buffer.from(JSON.stringify(msg));
const fakeSession = (sent: Buffer[]): FrontSession => ({ info: { id: 'x' }, available: true, fromClientLine: (b) => void sent.push(b), start: async () => {}, close: async () => {} });

test('2025: an answer goes to its POST, progress to its request stream, the rest to the GET stream; an abandoned answer nowhere', () => {
  const hs = new HttpSession('s', 'up', identity, 'h', { end: async () => {}, log });
  hs.attach(fakeSession([]));
  const send = (msg: unknown, meta: OutgoingMeta) => hs.link.send(line(msg), meta);
  const plain = new FakeRes();
  const streamed = new FakeRes();
  const left = new FakeRes();
  assert.ok(hs.openPost(asRes(plain), 1, false));
  assert.ok(hs.openPost(asRes(streamed), 'two', true, 'tok'));
  assert.ok(hs.openPost(asRes(left), 3, false));
  left.emit('close'); // its client went away before the answer
  send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok', progress: 1 } }, { kind: 'notification', method: 'notifications/progress', params: { progressToken: 'tok', progress: 1 } });
  send({ jsonrpc: '2.0', id: 1, result: {} }, { kind: 'response', id: 1, method: 'ping' });
  send({ jsonrpc: '2.0', id: 3, result: {} }, { kind: 'response', id: 3, method: 'ping' });
  assert.equal(plain.status, 200);
  assert.deepEqual(JSON.parse(plain.body), { jsonrpc: '2.0', id: 1, result: {} });
  assert.equal(left.body, '', 'nothing for the abandoned POST');
  const get = new FakeRes();
  hs.openGet({ headers: {} } as IncomingMessage, asRes(get));
  send({ jsonrpc: '2.0', id: 9, method: 'sampling/createMessage', params: {} }, { kind: 'request', id: 9, method: 'sampling/createMessage', params: {} });
  send({ jsonrpc: '2.0', id: 'two', result: { ok: true } }, { kind: 'response', id: 'two', method: 'tools/call' });
  assert.deepEqual(
    streamed.events.map((m) => m.method ?? m.id),
    ['notifications/progress', 'two'],
  );
  assert.ok(streamed.writableEnded, 'the request stream ends with its answer');
  assert.deepEqual(
    get.events.map((m) => m.method ?? m.id),
    ['sampling/createMessage'],
    'the abandoned answer was not broadcast; the server request took the GET stream',
  );
});

test('2026: answers, progress and listen notifications reach their own request under the client\'s ids; logs the request that asked; server requests are dropped', () => {
  let link!: ClientLink;
  const sent: Buffer[] = [];
  const routes = new StatelessRoutes({
    log,
    openSession: (_s, _i, l) => {
      link = l;
      return fakeSession(sent);
    },
  });
  const meta = (extra: Record<string, unknown> = {}) => ({ [PROTOCOL_VERSION_KEY]: '2026-07-28', [CLIENT_CAPABILITIES_KEY]: {}, ...extra });
  const post = (msg: any, res: FakeRes, sse: boolean) => {
    const headers: Record<string, string> = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': msg.method };
    if (msg.params?.name) headers['mcp-name'] = msg.params.name;
    routes.post({ headers } as unknown as IncomingMessage, asRes(res), 'up', identity, 'h', msg, line(msg), sse);
    return JSON.parse(sent[sent.length - 1]!.toString());
  };
  const call = new FakeRes();
  const listen = new FakeRes();
  const logs = new FakeRes();
  const plain = new FakeRes();
  const c = post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', _meta: meta({ progressToken: 'p' }) } }, call, true);
  const l = post({ jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen', params: { _meta: meta() } }, listen, true);
  const g = post({ jsonrpc: '2.0', id: 8, method: 'prompts/list', params: { _meta: meta({ 'io.modelcontextprotocol/logLevel': 'info' }) } }, logs, true);
  const p = post({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: { _meta: meta() } }, plain, true);
  assert.deepEqual([c.id, c.params._meta.progressToken, l.id, g.id, p.id], ['mg:1', 'mg:1', 'mg:2', 'mg:3', 'mg:4']);
  const send = (msg: any, m: OutgoingMeta) => link.send(line(msg), m);
  const note = (msg: any) => send(msg, { kind: 'notification', method: msg.method, params: msg.params });
  note({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'mg:1', progress: 1 } });
  note({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///a', _meta: { [SUBSCRIPTION_ID_KEY]: 'mg:2' } } });
  note({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
  send({ jsonrpc: '2.0', id: 'mg:5', method: 'sampling/createMessage', params: {} }, { kind: 'request', id: 'mg:5', method: 'sampling/createMessage', params: {} });
  send({ jsonrpc: '2.0', id: 'mg:1', result: { resultType: 'complete', content: [] } }, { kind: 'response', id: 'mg:1', method: 'tools/call' });
  send({ jsonrpc: '2.0', id: 'mg:4', result: { resultType: 'complete', tools: [] } }, { kind: 'response', id: 'mg:4', method: 'tools/list' });
  assert.deepEqual(call.events, [
    { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } },
    { jsonrpc: '2.0', id: 7, result: { resultType: 'complete', content: [] } },
  ]);
  assert.deepEqual(listen.events, [{ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///a', _meta: { [SUBSCRIPTION_ID_KEY]: 'sub-1' } } }]);
  assert.deepEqual(logs.events, [{ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } }]);
  // No stream was needed: a plain JSON answer on 200, under the client's id.
  assert.equal(plain.status, 200);
  assert.deepEqual(JSON.parse(plain.body), { jsonrpc: '2.0', id: 9, result: { resultType: 'complete', tools: [] } });
  assert.ok(warnings.includes('2026 session: a server request was dropped'));
});
