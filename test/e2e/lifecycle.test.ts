// Daemon lifecycle and bad input: auto-start race, drain on stop, crashed upstreams, malformed and
// oversized messages, broken configs, unknown servers, a daemon that goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, RawBridge, recordingServer, waitFor } from './harness.js';

const config = (extra = '') => `
servers:
${recordingServer('rec')}
${recordingServer('other')}
daemon:
  max_message_bytes: 65536
  shutdown_timeout: 10
${extra}`;

test('two bridges starting at once end up on one daemon', async () => {
  const env = new GuardEnv(() => config());
  try {
    const [a, b] = await Promise.all([env.client('rec'), env.client('other')]);
    const ra = await a.callTool({ name: 'echo', arguments: { who: 'a' } });
    const rb = await b.callTool({ name: 'echo', arguments: { who: 'b' } });
    assert.deepEqual(ra.content, [{ type: 'text', text: '{"who":"a"}' }]);
    assert.deepEqual(rb.content, [{ type: 'text', text: '{"who":"b"}' }]);
    const status = JSON.parse(env.cli(['status', '--json']).stdout);
    assert.equal(status.sessions, 2, 'both sessions on the same daemon');
    assert.equal(status.pid, env.daemonPid());
    // A second `start` on the same home refuses cleanly with the running pid.
    const second = env.cli(['start']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`already running \\(pid ${status.pid}\\)`));
  } finally {
    await env.close();
  }
});

test('stop drains in-flight requests, then removes socket and pid files', async () => {
  const env = new GuardEnv(() => config());
  try {
    const c = await env.client('rec');
    const slow = c.callTool({ name: 'slow', arguments: { ms: 1500 } });
    await new Promise((r) => setTimeout(r, 300));
    const stop = env.cli(['stop']);
    assert.equal(stop.code, 0, stop.stderr);
    const r = await slow;
    assert.deepEqual(r.content, [{ type: 'text', text: 'slept 1500' }]);
    assert.equal(existsSync(join(env.home, 'daemon.sock')), false);
    assert.equal(existsSync(join(env.home, 'daemon.pid')), false);
    assert.equal(env.cli(['health']).code, 1);
  } finally {
    await env.close();
  }
});

test('an upstream that crashes fails its pending requests with -32011 and harms no other session', async () => {
  const env = new GuardEnv(() => config());
  try {
    const victim = await env.client('rec');
    const bystander = await env.client('rec');
    const err = await victim.callTool({ name: 'crash', arguments: {} }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof McpError);
    assert.equal(err.code, -32011);
    assert.match(err.message, /'rec' is unavailable.*exited with code 3/);
    // Later calls in the crashed session get the same clear error.
    await assert.rejects(victim.callTool({ name: 'echo', arguments: {} }), (e: McpError) => e.code === -32011);
    const ok = await bystander.callTool({ name: 'echo', arguments: { still: 'fine' } });
    assert.deepEqual(ok.content, [{ type: 'text', text: '{"still":"fine"}' }]);
    const fresh = await env.client('rec');
    const again = await fresh.callTool({ name: 'echo', arguments: { fresh: true } });
    assert.deepEqual(again.content, [{ type: 'text', text: '{"fresh":true}' }]);
  } finally {
    await env.close();
  }
});

test('an oversized request from the SDK client is answered on its own id at once, not left to time out', async () => {
  const env = new GuardEnv(() => config());
  try {
    const c = await env.client('rec');
    const started = Date.now();
    // The SDK writes "id" last in the line: the daemon must read it from the tail of what it discarded.
    const err = await c.callTool({ name: 'echo', arguments: { big: 'x'.repeat(100_000) } }, undefined, { timeout: 60_000 }).then(
      () => assert.fail('an oversized request must be refused'),
      (e: McpError) => e,
    );
    assert.ok(err instanceof McpError, String(err));
    assert.equal(err.code, -32012);
    assert.equal((err.data as any).kind, 'too_large');
    assert.equal((err.data as any).limit, 65536);
    assert.ok(Date.now() - started < 30_000, 'answered, not timed out');
    assert.equal(env.recorded().filter((m) => m.method === 'tools/call').length, 0, 'nothing of it reached the upstream');
    // The session lives on.
    assert.deepEqual((await c.callTool({ name: 'echo', arguments: { after: 1 } })).content, [{ type: 'text', text: '{"after":1}' }]);
  } finally {
    await env.close();
  }
});

test('messages that are not JSON-RPC 2.0 or carry non-object params get -32600 on their id and are not forwarded', async () => {
  const env = new GuardEnv(() => config());
  try {
    const raw = new RawBridge(env, 'rec');
    await raw.initialize();
    raw.send({ id: 10, method: 'tools/list' });
    raw.send({ jsonrpc: '1.0', id: 11, method: 'tools/list' });
    raw.send({ jsonrpc: '2.0', id: 12, method: 'tools/call', params: ['echo', {}] });
    raw.send({ jsonrpc: '2.0', id: 13, method: 'tools/call', params: 'echo' });
    raw.send({ jsonrpc: '2.0', id: 14, method: 'tools/call', params: null });
    raw.send({ method: 'notifications/cancelled', params: { requestId: 1 } });
    raw.send({ jsonrpc: '2.0', id: 15, method: 'tools/call', params: { name: 'echo', arguments: { ok: true } } });
    const ok = await raw.reply(15);
    assert.deepEqual(ok.result.content, [{ type: 'text', text: '{"ok":true}' }]);
    for (const id of [10, 11, 12, 13, 14]) {
      const r = await raw.reply(id);
      assert.equal(r.error?.code, -32600, `id ${id}: ${JSON.stringify(r)}`);
      assert.equal(r.error.data.kind, 'invalid_request');
    }
    assert.match((await raw.reply(10)).error.message, /"jsonrpc" must be "2\.0"/);
    assert.match((await raw.reply(12)).error.message, /"params" must be an object/);
    // The notification without "jsonrpc" got no reply, and none of them reached the upstream.
    assert.equal(raw.lines.filter((l) => l.id === null || l.id === undefined).length, 0);
    const upstream = env.recorded().filter((m) => typeof m.id === 'number' && m.id >= 10 && m.id <= 14);
    assert.deepEqual(upstream, []);
    assert.equal(env.recorded().filter((m) => m.method === 'notifications/cancelled').length, 0);
    raw.end();
    assert.equal(await raw.exited, 0);
  } finally {
    await env.close();
  }
});

test('malformed JSON, oversized lines and invalid messages get clear errors; the session lives on', async () => {
  const env = new GuardEnv(() => config());
  try {
    const raw = new RawBridge(env, 'rec');
    await raw.initialize();
    raw.send('{"jsonrpc":"2.0","id":1,"method":');
    raw.send('x'.repeat(200_000));
    raw.send([{ jsonrpc: '2.0', id: 2, method: 'ping' }]);
    raw.send({ jsonrpc: '2.0', id: { bad: true }, method: 'ping' });
    raw.send(Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('latin1'));
    raw.send({ jsonrpc: '2.0', id: 3, method: 'no/such-method' });
    raw.send({ jsonrpc: '2.0', method: 'notifications/whatever' });
    raw.send({ jsonrpc: '2.0', id: 4, method: 'ping' });
    const pong = await raw.reply(4);
    assert.deepEqual(pong.result, {});
    const errors = raw.lines.filter((l) => l.id === null).map((l) => l.error.code);
    assert.deepEqual(errors, [-32700, -32012, -32600, -32600, -32700]);
    const oversize = raw.lines.find((l) => l.error?.code === -32012);
    assert.equal(oversize.error.data.limit, 65536);
    // Unknown methods pass through to the upstream, which answers for itself.
    assert.equal((await raw.reply(3)).error.code, -32601);
    // The notification got no reply of any kind.
    assert.equal(raw.lines.filter((l) => l.id === undefined).length, 0);
    // Another session and the daemon are unharmed.
    const c = await env.client('other');
    assert.deepEqual((await c.callTool({ name: 'echo', arguments: {} })).content, [{ type: 'text', text: '{}' }]);
    raw.end();
    assert.equal(await raw.exited, 0);
  } finally {
    await env.close();
  }
});

test('a broken config is reported with file:line:column and the key', async () => {
  const env = new GuardEnv(
    () => `servers:
  rec:
    transport: stdio
    command: node
    argz: [x]
  web:
    transport: sse
daemon:
  shutdown_timeout: "soon"
`,
  );
  try {
    const r = env.cli(['validate']);
    assert.equal(r.code, 1);
    const p = env.configPath;
    assert.match(r.stderr, new RegExp(`${p}:5:5: servers\\.rec\\.argz: unknown key 'argz'`));
    assert.match(r.stderr, new RegExp(`${p}:6:3: servers\\.web\\.url: a sse server needs \`url\``));
    assert.match(r.stderr, new RegExp(`${p}:9:21: daemon\\.shutdown_timeout: `));
    env.writeConfig('servers:\n  rec: [unclosed\n');
    const y = env.cli(['validate']);
    assert.equal(y.code, 1);
    assert.match(y.stderr, new RegExp(`${p}:\\d+:\\d+: `));
    // A bridge on a broken config tells the client too, and exits non-zero.
    const raw = new RawBridge(env, 'rec');
    raw.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    assert.notEqual(await raw.exited, 0);
    assert.match(raw.stderr, /mcp-guard:/);
  } finally {
    await env.close();
  }
});

test('an unknown server name: a message on stderr, an error to the client, a non-zero exit', async () => {
  const env = new GuardEnv(() => config());
  try {
    const raw = new RawBridge(env, 'nope');
    raw.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: {} });
    assert.equal(await raw.exited, 1);
    assert.match(raw.stderr, /Unknown server 'nope' \(configured: rec, other\)/);
    const reply = raw.lines.find((l) => l.id === 'init');
    assert.equal(reply.error.code, -32018);
    assert.equal(reply.error.data.kind, 'unknown_server');
    assert.match(reply.error.message, /Unknown server 'nope'/);
  } finally {
    await env.close();
  }
});

test('a daemon that goes away: pending requests get an error and the bridge exits non-zero', async () => {
  const env = new GuardEnv(() => config());
  try {
    const raw = new RawBridge(env, 'rec');
    await raw.initialize();
    raw.send({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'slow', arguments: { ms: 5000 } } });
    await waitFor(() => env.recorded().some((m) => m.id === 'slow'));
    process.kill(env.daemonPid()!, 'SIGKILL');
    assert.equal(await raw.exited, 1);
    const reply = raw.lines.find((l) => l.id === 'slow');
    assert.equal(reply.error.code, -32011);
    assert.match(raw.stderr, /daemon went away/);
  } finally {
    await env.close();
  }
});

test('an idle daemon with a session open sleeps: a handful of main-thread wakeups a second, not a hundred', async () => {
  const env = new GuardEnv(() => config());
  try {
    const c = await env.client('rec');
    await c.callTool({ name: 'echo', arguments: {} });
    // Voluntary context switches of the main thread (tid = pid): one per time it blocks in epoll.
    const pid = env.daemonPid()!;
    const switches = () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))![1]);
    const before = switches();
    await new Promise((r) => setTimeout(r, 2000));
    const woke = switches() - before;
    // Timers: the credential sweep (2/s), the metrics' event-loop sampler (1/s) and a few more;
    // prom-client's default sampler alone would be 100/s.
    assert.ok(woke < 60, `the daemon's main thread woke ${woke} times in 2 s while idle`);
  } finally {
    await env.close();
  }
});

test('MCP_GUARD_HOPS_DIR: bridge and daemon note the time of every message at every hop, and nothing else', async () => {
  const hops = mkdtempSync(join(tmpdir(), 'mg-hops-'));
  const env = new GuardEnv(() => config());
  try {
    const c = await env.client('rec', { env: { MCP_GUARD_HOPS_DIR: hops } });
    for (let i = 0; i < 5; i++) await c.callTool({ name: 'echo', arguments: { note: 'hello hops' } });
    await c.close();
    await waitFor(() => readdirSync(hops).some((f) => f.endsWith('-daemon-to-client')));
    await new Promise((r) => setTimeout(r, 400)); // stamps are flushed every 250 ms
    const byHop = new Map<string, string[]>();
    for (const f of readdirSync(hops)) {
      const lines = readFileSync(join(hops, f), 'utf8').trim().split('\n');
      assert.ok(lines.every((l) => /^\d+$/.test(l)), `${f} holds only times`);
      byHop.set(f.slice(f.indexOf('-') + 1), lines);
    }
    for (const h of ['bridge-from-client', 'daemon-from-client', 'daemon-to-upstream', 'daemon-from-upstream', 'daemon-to-client', 'bridge-from-daemon']) {
      assert.ok((byHop.get(h)?.length ?? 0) >= 5, `hop ${h}: ${byHop.get(h)?.length ?? 0} stamps`);
    }
  } finally {
    await env.close();
    rmSync(hops, { recursive: true, force: true });
  }
});
