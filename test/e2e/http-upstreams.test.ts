// HTTP upstreams: SDK clients over Streamable HTTP through the daemon to server-everything running
// in streamableHttp and sse modes; custom headers and the upstream token; a restarted upstream
// (the session gets -32011, a new session works); an unreachable upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv } from './harness.js';
import { EverythingHttp, HttpGuard, freePort } from '../fixtures/http/env.js';

async function guardFor(servers: string): Promise<{ env: GuardEnv; g: HttpGuard }> {
  const env = new GuardEnv(() => `
servers:
${servers}
daemon:
  dashboard_port: 0
  http:
    listen: 127.0.0.1:0
`);
  const g = new HttpGuard(env);
  await g.start();
  return { env, g };
}

for (const mode of ['streamableHttp', 'sse'] as const) {
  test(`HTTP client → mcp-guard → server-everything over ${mode}`, async () => {
    const up = new EverythingHttp(mode, await freePort());
    await up.start();
    const transport = mode === 'sse' ? 'sse' : 'streamable-http';
    const { env, g } = await guardFor(`  every:\n    transport: ${transport}\n    url: ${up.url}\n    connect_timeout_ms: 5000`);
    try {
      const { client } = await g.client('every');
      const tools = await client.listTools();
      assert.ok(tools.tools.some((t) => t.name === 'echo'), 'tools listed');
      const r = await client.callTool({ name: 'echo', arguments: { message: `hello over ${mode}` } });
      assert.match(JSON.stringify(r.content), new RegExp(`hello over ${mode}`));
      // Progress notifications from the upstream reach the client while the call runs.
      const progress: number[] = [];
      const long = await client.callTool(
        { name: tools.tools.find((t) => t.name === 'trigger-long-running-operation') ? 'trigger-long-running-operation' : 'longRunningOperation', arguments: { duration: 1, steps: 3 } },
        undefined,
        { onprogress: (p) => progress.push(p.progress) },
      );
      assert.ok(long.content, 'long operation answered');
      assert.ok(progress.length >= 1, `progress seen: ${progress.length}`);
      const res = await client.listResources();
      assert.ok(res.resources.length > 0);
      // Several sessions each get their own upstream session.
      const { client: second } = await g.client('every');
      assert.ok((await second.listTools()).tools.length > 0);
      await second.close();
      await client.close();
    } finally {
      await g.stop();
      await up.kill();
      await env.close();
    }
  });
}

test('the upstream gets the configured token and headers, never the client credential', async () => {
  const seen: Record<string, string | string[] | undefined>[] = [];
  const fake = createServer((req, res) => {
    seen.push({ ...req.headers });
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const m = JSON.parse(body);
      if (m.id === undefined) return void res.writeHead(202).end();
      const result = m.method === 'initialize' ? { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } } : { tools: [] };
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'up-1' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  const port = (fake.address() as { port: number }).port;
  process.env.MG_TEST_UPSTREAM_TOKEN = 'upstream-secret-123';
  const { env, g } = await guardFor(
    `  fake:\n    transport: streamable-http\n    url: http://127.0.0.1:${port}/mcp\n    upstream_auth_token: \${MG_TEST_UPSTREAM_TOKEN}\n    headers: { X-Tenant: acme }`,
  );
  try {
    const { client } = await g.client('fake');
    await client.listTools();
    await client.close();
    assert.ok(seen.length >= 2);
    for (const h of seen) {
      assert.equal(h.authorization, 'Bearer upstream-secret-123');
      assert.equal(h['x-tenant'], 'acme');
      assert.ok(!JSON.stringify(h).includes(g.token), 'client token not forwarded');
    }
    assert.ok(seen.slice(1).every((h) => h['mcp-session-id'] === 'up-1'), 'upstream session id kept');
    assert.ok(seen.slice(1).some((h) => h['mcp-protocol-version'] === '2025-06-18'), 'protocol version header after initialize');
  } finally {
    await g.stop();
    await env.close();
    fake.close();
  }
});

test('a restarted Streamable HTTP upstream: the old session gets -32011, a new session works', async () => {
  const up = new EverythingHttp('streamableHttp', await freePort());
  await up.start();
  const { env, g } = await guardFor(`  every:\n    transport: streamable-http\n    url: ${up.url}\n    connect_timeout_ms: 3000`);
  try {
    const { client } = await g.client('every');
    assert.ok((await client.listTools()).tools.length > 0);
    await up.kill();
    const err = await client.callTool({ name: 'echo', arguments: { message: 'x' } }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof McpError, String(err));
    assert.equal(err.code, -32011);
    assert.match(err.message, /'every' is unavailable/);
    await up.start();
    // The old upstream session died with the process: the proxied session stays failed, clearly.
    await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'y' } }), (e: McpError) => e.code === -32011);
    await client.close();
    const { client: fresh } = await g.client('every');
    const r = await fresh.callTool({ name: 'echo', arguments: { message: 'after restart' } });
    assert.match(JSON.stringify(r.content), /after restart/);
    await fresh.close();
  } finally {
    await g.stop();
    await up.kill();
    await env.close();
  }
});

test('an unreachable upstream fails initialize with -32011 and a reason', async () => {
  const port = await freePort();
  const { env, g } = await guardFor(`  gone:\n    transport: streamable-http\n    url: http://127.0.0.1:${port}/mcp\n    connect_timeout_ms: 2000`);
  try {
    await assert.rejects(g.client('gone'), (e: Error) => /-32011|unavailable/.test(e.message) && /ECONNREFUSED|fetch failed|connect/i.test(e.message));
  } finally {
    await g.stop();
    await env.close();
  }
});
