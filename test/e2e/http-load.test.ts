// Many remote sessions at once: 100 SDK clients over Streamable HTTP through one daemon to one
// Streamable HTTP upstream (one upstream MCP session each), all calling tools concurrently, then
// all ending their sessions; the daemon is left with none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuardEnv, waitFor } from './harness.js';
import { EverythingHttp, HttpGuard, freePort } from '../fixtures/http/env.js';

const N = 100;

test(`${N} concurrent HTTP sessions through the proxy`, async () => {
  const up = new EverythingHttp('streamableHttp', await freePort());
  await up.start();
  const env = new GuardEnv(() => `
servers:
  every:
    transport: streamable-http
    url: ${up.url}
daemon:
  dashboard_port: 0
  http:
    listen: 127.0.0.1:0
    max_sessions: ${N + 10}
`);
  const g = new HttpGuard(env);
  try {
    await g.start();
    const t0 = performance.now();
    const sessions = await Promise.all(Array.from({ length: N }, () => g.client('every')));
    const connected = performance.now() - t0;
    const ids = new Set(sessions.map((s) => s.transport.sessionId));
    assert.equal(ids.size, N, 'distinct session ids');
    const t1 = performance.now();
    const results = await Promise.all(
      sessions.map(async ({ client }, i) => {
        const out: string[] = [];
        for (let k = 0; k < 3; k++) {
          const r = await client.callTool({ name: 'echo', arguments: { message: `s${i}-${k}` } });
          out.push(JSON.stringify(r.content));
        }
        return out;
      }),
    );
    const called = performance.now() - t1;
    results.forEach((out, i) => out.forEach((o, k) => assert.match(o, new RegExp(`s${i}-${k}\\b`), 'each session gets its own answers')));
    const status = JSON.parse(env.cli(['status', '--json']).stdout);
    assert.equal(status.http.sessions, N);
    assert.equal(status.sessions, N);
    await Promise.all(sessions.map(async ({ client, transport }) => {
      await transport.terminateSession();
      await client.close();
    }));
    await waitFor(() => JSON.parse(env.cli(['status', '--json']).stdout).sessions === 0, 15_000);
    console.log(`# ${N} sessions: connect ${connected.toFixed(0)} ms, ${N * 3} tool calls ${called.toFixed(0)} ms`);
  } catch (err) {
    if (process.env.DEBUG_HTTP) console.log(g.log.split('\n').filter((l) => !/session (opened|closed)/.test(l)).slice(0, 40).join('\n'), up.out.slice(-3000));
    throw err;
  } finally {
    await g.stop();
    await up.kill();
    await env.close();
  }
});
