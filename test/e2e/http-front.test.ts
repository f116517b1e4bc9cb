// The Streamable HTTP front of a real daemon: SDK clients over HTTP to a stdio upstream, auth (401),
// body limit (413), parse errors (400), Origin/Host checks (403), session limit (503), DELETE,
// idle reaping, server requests on the GET stream, and the dashboard port (health, metrics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, recordingServer, waitFor } from './harness.js';
import { HttpGuard, freePort } from '../fixtures/http/env.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

const SAMPLING = `    policy:
      sampling: { enabled: true }`;

function config(http: string, dashboardPort = 0) {
  return () => `
servers:
${recordingServer('rec', SAMPLING)}
daemon:
  dashboard_port: ${dashboardPort}
  http:
${http}
`;
}

async function withGuard(http: string, fn: (g: HttpGuard, env: GuardEnv) => Promise<void>, dashboardPort = 0): Promise<void> {
  const env = new GuardEnv(config(http, dashboardPort));
  const g = new HttpGuard(env);
  try {
    await g.start();
    await fn(g, env);
  } finally {
    await g.stop();
    await env.close();
  }
}

test('an SDK client over Streamable HTTP reaches a stdio upstream through the inspection path', async () => {
  await withGuard('    listen: 127.0.0.1:0', async (g, env) => {
    const { client, transport } = await g.client('rec');
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'echo'));
    const r = await client.callTool({ name: 'echo', arguments: { via: 'http' } });
    assert.deepEqual(r.content, [{ type: 'text', text: '{"via":"http"}' }]);
    assert.ok(transport.sessionId && transport.sessionId.length >= 32, 'a long random session id');
    // The upstream saw the client's messages and never its bearer token.
    const seen = JSON.stringify(env.recorded());
    assert.match(seen, /"via":"http"/);
    assert.ok(!seen.includes(g.token), 'the client credential never reaches the upstream');
    await transport.terminateSession();
    await client.close();
    const status = JSON.parse(env.cli(['status', '--json']).stdout);
    await waitFor(() => JSON.parse(env.cli(['status', '--json']).stdout).sessions === 0, 5000).catch(() => {});
    assert.ok(status.http?.url, 'status shows the http front');
  });
});

test('a server request (sampling) reaches the client and its answer goes back upstream', async () => {
  await withGuard('    listen: 127.0.0.1:0', async (g) => {
    const { client } = await g.client('rec', g.token, { sampling: {} });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'sampled over http' }, model: 'test' }));
    const r = await client.callTool({ name: 'sample', arguments: {} });
    assert.match(JSON.stringify(r.content), /sampled over http/);
    await client.close();
  });
});

test('missing or wrong tokens get 401 with WWW-Authenticate; nothing reaches the upstream', async () => {
  await withGuard('    listen: 127.0.0.1:0', async (g, env) => {
    const none = await g.fetch('rec', { body: JSON.stringify(INIT) }, null);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    const body = (await none.json()) as any;
    assert.equal(body.error.code, -32010);
    const bad = await g.fetch('rec', { body: JSON.stringify(INIT) }, 'not-the-token');
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /invalid_token/);
    await assert.rejects(g.client('rec', 'wrong'), /401|authentication/i);
    assert.equal(env.recorded().length, 0);
  });
});

test('oversized bodies get 413, bad JSON 400, batches 400, unknown sessions 404, unknown servers 404', async () => {
  await withGuard('    listen: 127.0.0.1:0\n    max_body_bytes: 2048', async (g) => {
    const big = { ...INIT, params: { ...INIT.params, pad: 'x'.repeat(5000) } };
    const r413 = await g.fetch('rec', { body: JSON.stringify(big) });
    assert.equal(r413.status, 413);
    assert.equal(((await r413.json()) as any).error.code, -32012);
    const r400 = await g.fetch('rec', { body: '{"jsonrpc": "2.0", "id": 1, "method": ' });
    assert.equal(r400.status, 400);
    assert.equal(((await r400.json()) as any).error.code, -32700);
    const batch = await g.fetch('rec', { body: JSON.stringify([INIT]) });
    assert.equal(batch.status, 400);
    const noInit = await g.fetch('rec', { body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    assert.equal(noInit.status, 400);
    const ghost = await g.fetch('rec', { body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), headers: { 'mcp-session-id': 'nope' } });
    assert.equal(ghost.status, 404);
    const unknown = await g.fetch('nosuch', { body: JSON.stringify(INIT) });
    assert.equal(unknown.status, 404);
    // The daemon is unharmed: a normal session still works.
    const { client } = await g.client('rec');
    assert.ok((await client.listTools()).tools.length > 0);
    await client.close();
  });
});

test('server names are told apart only after authentication; unknown ones then get unknown_server', async () => {
  await withGuard('    listen: 127.0.0.1:0', async (g, env) => {
    // Without a credential, a known and an unknown server look the same.
    const known = await g.fetch('rec', { body: JSON.stringify(INIT) }, null);
    const unknown = await g.fetch('nosuch', { body: JSON.stringify(INIT) }, null);
    assert.equal(known.status, 401);
    assert.equal(unknown.status, 401);
    const [kb, ub] = [(await known.json()) as any, (await unknown.json()) as any];
    assert.deepEqual(ub.error, kb.error);
    assert.equal(ub.error.data.kind, 'unauthenticated');
    // A wrong credential: the same again.
    const wrong = await g.fetch('nosuch', { body: JSON.stringify(INIT) }, 'not-the-token');
    assert.equal(wrong.status, 401);
    // Authenticated: the documented refusal, with its own code and kind.
    const authed = await g.fetch('nosuch', { body: JSON.stringify(INIT) });
    assert.equal(authed.status, 404);
    const body = (await authed.json()) as any;
    assert.equal(body.error.code, -32018);
    assert.equal(body.error.data.kind, 'unknown_server');
    assert.equal(env.recorded().length, 0);
  });
});

test('DNS rebinding: foreign Origin and Host are refused with 403; loopback origins pass', async () => {
  await withGuard('    listen: 127.0.0.1:0\n    allowed_origins: ["https://app.example.com"]', async (g) => {
    const evil = await g.fetch('rec', { body: JSON.stringify(INIT), headers: { origin: 'http://evil.example' } });
    assert.equal(evil.status, 403);
    // A rebinding page has a foreign Host as well as a foreign Origin.
    const port = new URL(g.url).port;
    const rebound = await g.fetch('rec', { body: JSON.stringify(INIT), headers: { origin: `http://evil.example:${port}`, host: `evil.example:${port}` } });
    assert.equal(rebound.status, 403);
    const local = await g.fetch('rec', { body: JSON.stringify(INIT), headers: { origin: 'http://localhost:3000' } });
    assert.equal(local.status, 200);
    await local.body?.cancel();
    const allowed = await g.fetch('rec', { body: JSON.stringify(INIT), headers: { origin: 'https://app.example.com' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    await allowed.body?.cancel();
  });
});

test('a session limit answers 503; DELETE frees a slot; idle sessions are reaped and close their upstream', async () => {
  await withGuard('    listen: 127.0.0.1:0\n    max_sessions: 2\n    idle_timeout_s: 3', async (g, env) => {
    const a = await g.client('rec');
    const b = await g.client('rec');
    const third = await g.fetch('rec', { body: JSON.stringify(INIT) });
    assert.equal(third.status, 503);
    assert.ok(third.headers.get('retry-after'));
    await a.transport.terminateSession();
    await a.client.close();
    const c = await g.client('rec');
    assert.ok((await c.client.listTools()).tools.length > 0);
    // Abandon both without DELETE: the transports close their streams, the sessions go idle.
    await b.client.close();
    await c.client.close();
    await waitFor(() => (g.log.match(/reaped after idle timeout/g) ?? []).length >= 2, 20_000);
    await waitFor(() => JSON.parse(env.cli(['status', '--json']).stdout).sessions === 0, 5000);
    if (process.env.DEBUG_HTTP) console.log(g.log);
    // The reaped session's id is gone: a client reusing it must re-initialize.
    const stale = await g.fetch('rec', { body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }), headers: { 'mcp-session-id': c.transport.sessionId! } });
    assert.equal(stale.status, 404);
  });
});

test('refuses to listen beyond loopback in auth mode os', async () => {
  const env = new GuardEnv(config('    listen: 0.0.0.0:0'));
  try {
    const r = env.cli(['start']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /beyond loopback.*auth\.mode is 'os'/);
  } finally {
    await env.close();
  }
});

test('dashboard: /healthz and /readyz open, /metrics needs the token and counts requests', async () => {
  const port = await freePort();
  await withGuard(
    '    listen: 127.0.0.1:0',
    async (g, env) => {
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as any).status, 'ready');
      assert.equal((await fetch(`${base}/metrics`)).status, 401);
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer nope' } })).status, 401);
      const { client } = await g.client('rec');
      await client.callTool({ name: 'echo', arguments: {} });
      const m = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${g.token}` } });
      assert.equal(m.status, 200);
      const text = await m.text();
      assert.match(text, /mcp_guard_requests_total\{server="rec",method="tools\/call",decision="allow"\} 1/);
      assert.match(text, /mcp_guard_sessions\{front="http"\} 1/);
      assert.match(text, /mcp_guard_upstream_latency_seconds_bucket/);
      // `mcp-guard dashboard-token` prints the same token (when the lead wires the command).
      const cli = env.cli(['dashboard-token']);
      if (cli.code === 0) assert.equal(cli.stdout.trim(), g.token);
      await client.close();
    },
    port,
  );
});
