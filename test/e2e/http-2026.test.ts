// The HTTP front in the 2026-07-28 era: SDK v2 clients (pinned and auto) over stateless POSTs to a
// dual-era stdio upstream, next to 2025 clients on the same endpoint; headers checked against the
// body; GET and DELETE refused; the policy applied; concurrent requests with the same id kept apart;
// a closed listen stream cancelled upstream; an auto client falling back to 2025 on a 2025 upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { GuardEnv, MAIN, NODE, ROOT, recordingServer, waitFor } from './harness.js';
import { HttpGuard } from '../fixtures/http/env.js';

const ERA = join(ROOT, 'dist/test/fixtures/era-server.js');
const V = '2026-07-28';

const config = () => `
servers:
  era:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(ERA)}]
    policy:
      permissions:
        denied_tools: ["crash"]
${recordingServer('old')}
daemon:
  http:
    listen: 127.0.0.1:0
`;

async function withGuard(fn: (g: HttpGuard, env: GuardEnv) => Promise<void>): Promise<void> {
  const env = new GuardEnv(config);
  const g = new HttpGuard(env);
  try {
    await g.start();
    await fn(g, env);
  } finally {
    await g.stop();
    await env.close();
  }
}

async function v2(g: HttpGuard, server: string, mode: 'auto' | { pin: string }): Promise<{ client: ClientV2; transport: TransportV2 }> {
  const transport = new TransportV2(g.endpoint(server), { requestInit: { headers: { Authorization: `Bearer ${g.token}` } } });
  const client = new ClientV2({ name: 'v2-test', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode } });
  await client.connect(transport);
  return { client, transport };
}

const meta = (extra: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  ...extra,
});
const call = (id: number | string, name: string, args: Record<string, unknown> = {}, extraMeta: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, _meta: meta(extraMeta) },
});
const modernHeaders = (method: string, name?: string) => ({ 'mcp-protocol-version': V, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) });

test('SDK v2 clients pinned to 2026-07-28 and in auto mode work through the front; a 2025 client beside them', async () => {
  await withGuard(async (g, env) => {
    const pinned = await v2(g, 'era', { pin: V });
    assert.equal(pinned.transport.sessionId, undefined, 'no session in the 2026 era');
    const tools = await pinned.client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'echo'));
    assert.ok(!tools.tools.some((t) => t.name === 'crash'), 'a denied tool is filtered from the list in the 2026 era too');
    assert.deepEqual((await pinned.client.callTool({ name: 'echo', arguments: { via: '2026' } })).content, [{ type: 'text', text: '{"via":"2026"}' }]);
    const auto = await v2(g, 'era', 'auto');
    assert.deepEqual((await auto.client.callTool({ name: 'echo', arguments: { via: 'auto' } })).content, [{ type: 'text', text: '{"via":"auto"}' }]);
    // The same endpoint still serves 2025 sessions.
    const old = await g.client('era');
    assert.deepEqual((await old.client.callTool({ name: 'echo', arguments: { via: '2025' } })).content, [{ type: 'text', text: '{"via":"2025"}' }]);
    const seen = JSON.stringify(env.recorded());
    assert.match(seen, /"via":"2026"/);
    assert.ok(!seen.includes(g.token), 'the bearer token never reaches the upstream');
    // The upstream saw mcp-guard's ids, never the client's own.
    const calls = env.recorded().filter((m) => m.method === 'tools/call' && m.params?._meta?.['io.modelcontextprotocol/protocolVersion']);
    assert.ok(calls.length >= 2 && calls.every((m) => typeof m.id === 'string' && m.id.startsWith('mg:')), JSON.stringify(calls.map((m) => m.id)));
    await Promise.all([pinned.client.close(), auto.client.close(), old.client.close()]);
  });
});

test('in the 2026 era a denied tool is refused and PII in a request is blocked before the upstream', async () => {
  await withGuard(async (g, env) => {
    const { client } = await v2(g, 'era', { pin: V });
    await assert.rejects(client.callTool({ name: 'crash', arguments: {} }), (e: any) => e.code === -32007 && e.data?.kind === 'denied');
    await assert.rejects(client.callTool({ name: 'echo', arguments: { key: 'AKIAIOSFODNN7EXAMPLE' } }), (e: any) => e.code === -32008);
    const seen = JSON.stringify(env.recorded());
    assert.ok(!seen.includes('AKIAIOSFODNN7EXAMPLE'));
    assert.ok(!env.recorded().some((m) => m.params?.name === 'crash'));
    await client.close();
  });
});

test('headers must match the body: 400 with -32020; unsupported versions 400 with -32022; GET and DELETE 405', async () => {
  await withGuard(async (g, env) => {
    const post = (body: unknown, headers: Record<string, string>) => g.fetch('era', { body: JSON.stringify(body), headers });
    const ok = await post(call(1, 'echo', { a: 1 }), modernHeaders('tools/call', 'echo'));
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as any).result.content, [{ type: 'text', text: '{"a":1}' }]);
    // A router that trusted Mcp-Name would see `echo`; the body calls `write_file`.
    const cases: [string, unknown, Record<string, string>][] = [
      ['Mcp-Name says another tool', call(2, 'write_file'), modernHeaders('tools/call', 'echo')],
      ['Mcp-Name missing', call(3, 'write_file'), modernHeaders('tools/call')],
      ['Mcp-Method missing', call(4, 'echo'), { 'mcp-protocol-version': V, 'mcp-name': 'echo' }],
      ['Mcp-Method says another method', call(5, 'echo'), modernHeaders('tools/list', 'echo')],
      ['MCP-Protocol-Version missing', call(6, 'echo'), { 'mcp-method': 'tools/call', 'mcp-name': 'echo' }],
    ];
    for (const [what, body, headers] of cases) {
      const r = await post(body, headers);
      assert.equal(r.status, 400, what);
      const j = (await r.json()) as any;
      assert.equal(j.error.code, -32020, what);
      assert.equal(j.id, (body as any).id, what);
    }
    // Base64 sentinel values are decoded before the comparison.
    const enc = await post(call(7, 'echo', { b: 2 }), modernHeaders('tools/call', `=?base64?${Buffer.from('echo').toString('base64')}?=`));
    assert.equal(enc.status, 200);
    assert.ok(!env.recorded().some((m) => m.params?.name === 'write_file'), 'no mismatched request reached the upstream');
    const future = await post({ ...call(8, 'echo'), params: { name: 'echo', _meta: { ...meta(), 'io.modelcontextprotocol/protocolVersion': '2027-01-01' } } }, { ...modernHeaders('tools/call', 'echo'), 'mcp-protocol-version': '2027-01-01' });
    assert.equal(future.status, 400);
    const fj = (await future.json()) as any;
    assert.equal(fj.error.code, -32022);
    assert.deepEqual(fj.error.data.supported, [V]);
    // The envelope is checked first: a 2026 request without it, and initialize under a 2026 header.
    const bare = await post({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} }, modernHeaders('tools/list'));
    assert.equal(bare.status, 400);
    const bj = (await bare.json()) as any;
    assert.deepEqual([bj.id, bj.error.code], [9, -32602]);
    const init = await post({ jsonrpc: '2.0', id: 10, method: 'initialize', params: { protocolVersion: V, capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, modernHeaders('initialize'));
    assert.equal(init.status, 404);
    const ij = (await init.json()) as any;
    assert.deepEqual([ij.id, ij.error.code], [10, -32601]);
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(g.endpoint('era'), { method, headers: { authorization: `Bearer ${g.token}`, 'mcp-protocol-version': V, accept: 'text/event-stream' } });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'POST');
    }
  });
});

test('concurrent requests with the same id from one caller are kept apart', async () => {
  await withGuard(async (g) => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => g.fetch('era', { body: JSON.stringify(call(1, 'echo', { n: i })), headers: modernHeaders('tools/call', 'echo') }).then((r) => r.json() as Promise<any>)),
    );
    replies.forEach((r, i) => {
      assert.equal(r.id, 1);
      assert.deepEqual(r.result.content, [{ type: 'text', text: JSON.stringify({ n: i }) }]);
    });
  });
});

test('a listen stream carries its notifications under the client\'s id, and closing it cancels it upstream', async () => {
  await withGuard(async (g, env) => {
    const ctl = new AbortController();
    const listen = { jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen', params: { _meta: meta(), notifications: { resourceSubscriptions: ['file:///data/a.txt'] } } };
    const res = await g.fetch('era', { body: JSON.stringify(listen), headers: modernHeaders('subscriptions/listen'), signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    let text = '';
    const reader = res.body!.getReader();
    const reading = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += Buffer.from(value).toString();
        }
      } catch {
        /* aborted */
      }
    })();
    await waitFor(() => text.includes('notifications/subscriptions/acknowledged'));
    const r = await g.fetch('era', { body: JSON.stringify(call(2, 'notify_updated', { uris: ['file:///data/a.txt'] })), headers: modernHeaders('tools/call', 'notify_updated') });
    assert.equal(r.status, 200);
    await waitFor(() => text.includes('notifications/resources/updated'));
    const events = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    for (const e of events) assert.equal(e.params?._meta?.['io.modelcontextprotocol/subscriptionId'], 'sub-1', JSON.stringify(e));
    ctl.abort();
    await reading;
    // The upstream was told: the listen request (under mcp-guard's id) is cancelled.
    const upstreamListen = env.recorded().find((m) => m.method === 'subscriptions/listen');
    await waitFor(() => env.recorded().some((m) => m.method === 'notifications/cancelled' && m.params?.requestId === upstreamListen.id));
  });
});

test('an SDK v2 client in auto mode falls back to 2025 on an upstream that speaks only 2025', async () => {
  await withGuard(async (g) => {
    const { client, transport } = await v2(g, 'old', 'auto');
    assert.ok(transport.sessionId, 'the fallback opened a 2025 session');
    assert.deepEqual((await client.callTool({ name: 'echo', arguments: { x: 1 } })).content, [{ type: 'text', text: '{"x":1}' }]);
    await client.close();
  });
});

const ERA_HTTP = join(ROOT, 'dist/test/fixtures/http/era-http-server.js');

test('an HTTP upstream gets the era the client speaks, with the standard headers derived from the body', async () => {
  let out = '';
  const upstreamRecord = join(tmpdir(), `mg-era-http-${process.pid}.jsonl`);
  const up = spawn(NODE, [ERA_HTTP], { env: { ...process.env, PORT: '0', RECORD_FILE: upstreamRecord }, stdio: ['ignore', 'pipe', 'inherit'] });
  up.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor(() => /listening \d+/.test(out));
  const port = Number(/listening (\d+)/.exec(out)![1]);
  const env = new GuardEnv(() => `
servers:
  remote:
    transport: streamable-http
    url: http://127.0.0.1:${port}/mcp
    upstream_auth_token: upstream-only-token
daemon:
  http:
    listen: 127.0.0.1:0
`);
  const g = new HttpGuard(env);
  const { readFileSync, rmSync } = await import('node:fs');
  const seen = () => readFileSync(upstreamRecord, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  try {
    await g.start();
    // Through the bridge: an SDK v2 client pinned to 2026 over stdio.
    const viaBridge = new ClientV2({ name: 'v2-stdio', version: '1' }, { capabilities: {}, versionNegotiation: { mode: { pin: V } } });
    await viaBridge.connect(new StdioV2({ command: NODE, args: [MAIN, 'connect', '--server', 'remote', '--config', env.configPath], env: env.env as Record<string, string> }));
    assert.deepEqual((await viaBridge.callTool({ name: 'echo', arguments: { via: 'bridge' } })).content, [{ type: 'text', text: '{"via":"bridge"}' }]);
    // Through the front: the same, over HTTP.
    const viaFront = await v2(g, 'remote', { pin: V });
    assert.deepEqual((await viaFront.client.callTool({ name: 'echo', arguments: { via: 'front' } })).content, [{ type: 'text', text: '{"via":"front"}' }]);
    for (const via of ['bridge', 'front']) {
      const r = seen().find((x) => x.body.method === 'tools/call' && x.body.params?.arguments?.via === via);
      assert.ok(r, via);
      assert.equal(r.headers['mcp-protocol-version'], V, via);
      assert.equal(r.headers['mcp-method'], 'tools/call', via);
      assert.equal(r.headers['mcp-name'], 'echo', via);
      assert.equal(r.headers['mcp-session-id'], undefined, via);
      assert.equal(r.headers.authorization, 'Bearer upstream-only-token', `${via}: only the upstream's own token`);
    }
    assert.ok(!seen().some((x) => x.body.method === 'initialize'), 'no 2025 handshake for 2026 clients');
    // A method the 2026 upstream does not have: its own 404 and -32601 reach the client, and the
    // upstream is not taken for lost (the next call works).
    const ping = await g.fetch('remote', { body: JSON.stringify({ jsonrpc: '2.0', id: 'p1', method: 'ping', params: { _meta: meta() } }), headers: modernHeaders('ping') });
    assert.equal(ping.status, 404);
    assert.deepEqual(((await ping.json()) as any).error.code, -32601);
    assert.deepEqual((await viaFront.client.callTool({ name: 'echo', arguments: { after: 'ping' } })).content, [{ type: 'text', text: '{"after":"ping"}' }]);
    // A 2025 client on the same server still works.
    const old = await g.client('remote');
    assert.deepEqual((await old.client.callTool({ name: 'echo', arguments: { via: '2025' } })).content, [{ type: 'text', text: '{"via":"2025"}' }]);
    await Promise.all([viaBridge.close(), viaFront.client.close(), old.client.close()]);
  } finally {
    await g.stop();
    await env.close();
    up.kill();
    rmSync(upstreamRecord, { force: true });
  }
});
