// Issue #16 item 4: a client that stops reading. The daemon used to buffer without limit (106 →
// 892 MB with 300 MB of answers pending). Now, past the session's high-water mark, the daemon stops
// reading that session's upstream (which then blocks on its own stdout) and its client, and only
// that session: another session goes on, and once the client reads again every answer arrives.
// Both upstream transports: a stdio child (left blocked on its stdout) and a Streamable HTTP server
// answering on event streams (their bodies are no longer read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { GuardEnv, MAIN, NODE, ROOT, recordingServer, waitFor } from './harness.js';
import { rssMb, statusOf } from '../fixtures/faults/daemon-probe.js';
import { HttpGuard } from '../fixtures/http/env.js';

const FAULT_SERVER = join(ROOT, 'dist/test/fixtures/faults/fault-server.js');
const FAULT_HTTP_SERVER = join(ROOT, 'dist/test/fixtures/faults/fault-http-server.js');
const ANSWERS = 300;
const ANSWER_BYTES = 1024 * 1024;

test('a client that stops reading (stdio upstream): its upstream is paused, the daemon stays small, other sessions go on, nothing is lost', async () => {
  await stalledReader((e) => `
  big:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(FAULT_SERVER)}]
    env: { FAULT_PROGRESS: ${JSON.stringify(join(e.dir, 'progress'))} }`, 100);
});

test('a client that stops reading (Streamable HTTP upstream): the event streams of its answers are no longer read, the daemon stays small', async () => {
  const upstream = spawn(NODE, [FAULT_HTTP_SERVER], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(upstream.stdout!, 'data')) as [Buffer];
    const port = /port (\d+)/.exec(line.toString())![1];
    // Each of the 300 answers in flight keeps what its own connection buffered (a few hundred KB);
    // without the gate the daemon read them all (582 MB).
    await stalledReader(() => `
  big:
    transport: streamable-http
    url: http://127.0.0.1:${port}/mcp`, 160);
  } finally {
    upstream.kill('SIGKILL');
  }
});

async function stalledReader(bigServer: (e: GuardEnv) => string, boundMb: number): Promise<void> {
  const env = new GuardEnv(
    (e) => `
servers:
${bigServer(e)}
${recordingServer('calm')}
daemon: { dashboard_port: 0 }
`,
  );
  const progress = () => {
    try {
      return Number(readFileSync(join(env.dir, 'progress'), 'utf8'));
    } catch {
      return 0;
    }
  };
  // The stalled client: a real bridge whose stdout nobody reads.
  const stalled = spawn(NODE, [MAIN, 'connect', '--server', 'big', '--config', env.configPath], { env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const calm = await env.client('calm');
    await calm.callTool({ name: 'echo', arguments: { warm: 1 } });
    const pid = env.daemonPid()!;
    const before = rssMb(pid);
    stalled.stdout!.pause();
    const send = (m: unknown) => stalled.stdin!.write(JSON.stringify(m) + '\n');
    send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'stalled', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    for (let i = 0; i < ANSWERS; i++) send({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'big', arguments: { bytes: ANSWER_BYTES } } });

    // The daemon says it stopped reading the session because its client does not take its answers.
    await waitFor(() => (statusOf(env).paused?.['client-backlog'] ?? 0) >= 1, 60_000);
    let peak = rssMb(pid);
    // Meanwhile the other session is served, and the stalled one's upstream stays blocked.
    for (let i = 0; i < 100; i++) {
      const r = await calm.callTool({ name: 'echo', arguments: { i } });
      assert.equal(r.isError, undefined, JSON.stringify(r));
      if (i % 10 === 0) peak = Math.max(peak, rssMb(pid));
    }
    // The stdio fixture counts the answers the daemon took off its stdout.
    const answeredWhileStalled = progress();
    assert.ok(answeredWhileStalled < ANSWERS / 4, `the upstream was paused: it wrote ${answeredWhileStalled} of ${ANSWERS} answers`);
    assert.ok(peak - before < boundMb, `daemon memory bounded: ${before} MB before, ${peak} MB at most while ${ANSWERS} MB of answers were pending`);

    // The client reads again: every answer arrives, in full.
    let buf = '';
    let answers = 0;
    let bytes = 0;
    stalled.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = JSON.parse(line);
        if (typeof m.id === 'number' && m.result) {
          answers++;
          bytes += m.result.content[0].text.length;
        }
      }
    });
    stalled.stdout!.resume();
    await waitFor(() => answers === ANSWERS, 120_000);
    assert.equal(bytes, ANSWERS * ANSWER_BYTES);
    assert.equal((statusOf(env).paused?.['client-backlog'] ?? 0), 0);
    process.stdout.write(`# stalled reader: daemon RSS ${before} MB before, ${peak} MB peak; upstream wrote ${answeredWhileStalled}/${ANSWERS} answers while stalled\n`);
  } finally {
    stalled.kill('SIGKILL');
    await env.close();
  }
}

test('an HTTP front client that stops reading its GET stream: its session stops reading its flooding upstream, the daemon stays small', async () => {
  const env = new GuardEnv(
    () => `
servers:
  flood:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(FAULT_SERVER)}]
daemon:
  dashboard_port: 0
  http: { listen: "127.0.0.1:0" }
`,
  );
  const g = new HttpGuard(env);
  const stalledGet = new AbortController();
  try {
    await g.start();
    const pid = g.proc!.pid!;
    const init = await g.fetch('flood', { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'stalled-http', version: '1' } } }) });
    const sid = init.headers.get('mcp-session-id')!;
    await init.text();
    const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    await (await g.fetch('flood', { headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    // The GET stream, opened and never read: the flood's notifications go there.
    const get = await fetch(g.endpoint('flood'), { headers: { ...headers, authorization: `Bearer ${g.token}`, accept: 'text/event-stream' }, signal: stalledGet.signal });
    assert.equal(get.status, 200);
    const before = rssMb(pid);
    await (await g.fetch('flood', { headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'flood', arguments: { size: 16 * 1024 } } }) })).text();
    await waitFor(() => (statusOf(env).paused?.['client-backlog'] ?? 0) >= 1, 60_000);
    let peak = rssMb(pid);
    for (let i = 0; i < 20; i++) {
      // Work that takes real time, while the flood would go on if nothing held it.
      await (await g.fetch('flood', { headers, body: JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'echo', arguments: { i } } }) })).text().catch(() => '');
      peak = Math.max(peak, rssMb(pid));
    }
    assert.ok(peak - before < 100, `daemon memory bounded: ${before} MB before, ${peak} MB at most`);
    process.stdout.write(`# stalled HTTP GET stream: daemon RSS ${before} MB before, ${peak} MB peak\n`);
  } finally {
    stalledGet.abort();
    await g.stop();
    await env.close();
  }
});
