// Issue #16 item 3: one session's notification flood used to refuse every other session (the
// shared audit queue filled: a second session got rate_limited for 14 s), grow the daemon to 707 MB
// and the daemon log by ~200 MB (a line per dropped notification). Now each session holds at most
// its share of the audit queue and reads at most a turn's budget per event-loop turn: the flooding
// session is slowed (its upstream paused) or has notifications dropped and counted, and only it;
// repeated log lines are summarised with counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { GuardEnv, MAIN, NODE, ROOT, recordingServer, waitFor } from './harness.js';
import { rssMb, statusOf } from '../fixtures/faults/daemon-probe.js';

const FAULT_SERVER = join(ROOT, 'dist/test/fixtures/faults/fault-server.js');

test('a flooding upstream next to a well-behaved session: only the flooder is slowed; the daemon and its log stay small', async () => {
  // A small queue, so that a flood fills an unshared one within a second.
  const env = new GuardEnv(
    () => `
servers:
  flood:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(FAULT_SERVER)}]
${recordingServer('calm')}
daemon: { dashboard_port: 0 }
audit: { queue_limit: 5000 }
`,
  );
  const flooder = spawn(NODE, [MAIN, 'connect', '--server', 'flood', '--config', env.configPath], { env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const calm = await env.client('calm');
    await calm.callTool({ name: 'echo', arguments: { warm: 1 } });
    const pid = env.daemonPid()!;
    const rss0 = rssMb(pid);
    const logFile = join(env.home, 'daemon.log');
    const log0 = statSync(logFile).size;
    // The flooding client reads as fast as it can (it only counts lines).
    let lines = 0;
    flooder.stdout!.on('data', (c: Buffer) => {
      for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
    });
    const send = (m: unknown) => flooder.stdin!.write(JSON.stringify(m) + '\n');
    send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flooder', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'flood', arguments: { size: 64 } } });
    // Well into the flood: more notifications than the whole audit queue holds.
    await waitFor(() => lines > 20_000, 60_000);

    let peak = rss0;
    const latencies: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      const r = await calm.callTool({ name: 'echo', arguments: { i } });
      latencies.push(performance.now() - t0);
      assert.equal(r.isError, undefined, JSON.stringify(r));
      if (i % 20 === 0) peak = Math.max(peak, rssMb(pid));
    }
    const during = lines;
    const st = statusOf(env);
    assert.ok(st.auditQueue < 5000, `the flood never fills the queue: ${st.auditQueue} records waiting`);
    assert.ok(peak - rss0 < 150, `daemon memory: ${rss0} MB before the flood, ${peak} MB at most during it`);
    const logGrowth = statSync(logFile).size - log0;
    assert.ok(logGrowth < 256 * 1024, `daemon log grew by ${logGrowth} bytes during a flood of ${during} notifications`);
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `# flood: ${during} notifications to the flooder; calm session p50 ${latencies[150]!.toFixed(1)} ms, max ${latencies[299]!.toFixed(1)} ms; ` +
        `daemon RSS ${rss0} -> ${peak} MB; log +${logGrowth} B; queue ${st.auditQueue}; paused ${JSON.stringify(st.paused)}; dropped ${st.droppedNotifications}\n`,
    );
    flooder.kill('SIGKILL');
    await waitFor(() => statusOf(env).sessions === 1, 15_000);
    // Everything the daemon let through is audited, in an intact chain.
    const v = env.cli(['logs', 'verify']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  } finally {
    flooder.kill('SIGKILL');
    await env.close();
  }
});
