// A connection storm against one daemon: N clients connect at the same moment and send their
// hello; how long until each hello is answered, and until each session's first request (an
// initialize, which needs the session's upstream to have started) is answered. The hello is what
// a bridge waits for with a 30 s timeout, so it must not queue behind N upstream spawns.
//   node dist/bench/hello-storm.js [-n 300] [--rounds 1]
// Clients are sockets of this process speaking the bridge's wire (one hello line, then JSON-RPC):
// N bridge processes would measure their own start-up, not the daemon's.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchHome, ECHO_SERVER, MAIN, benchConfig, parsePipeline, scriptOption } from '../src/bench/guard-env.js';
import { summarize } from '../src/bench/stats.js';
import { WIRE_VERSION } from '../src/protocol/hello.js';

const N = Number(scriptOption('-n', '300'));
const ROUNDS = Number(scriptOption('--rounds', '1'));
// `echo`: the bench's echo server (a Node process, ~50 ms of CPU to boot); `sleep`: a process that
// costs no CPU, to tell the daemon's own queueing from CPU contention with booting upstreams.
const UPSTREAM = scriptOption('--upstream', 'echo');

interface Timing {
  hello: number;
  init: number;
  ok: boolean;
}

function oneClient(socketPath: string, server: string): Promise<{ timing: Timing; close: () => void }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = createConnection(socketPath);
    let hello = NaN;
    let buf = '';
    let ok = true;
    const done = (init: number) => resolve({ timing: { hello, init, ok }, close: () => s.destroy() });
    s.on('error', () => {
      ok = false;
      done(NaN);
    });
    s.write(JSON.stringify({ mcpGuard: WIRE_VERSION, type: 'connect', server }) + '\n');
    if (UPSTREAM !== 'sleep') s.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'storm', version: '1' } } }) + '\n');
    s.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = JSON.parse(line);
        if (Number.isNaN(hello)) {
          hello = performance.now() - t0;
          if (!m.ok) ok = false;
          if (!m.ok || UPSTREAM === 'sleep') return done(NaN);
        } else if (m.id === 1) {
          if (m.error) ok = false;
          return done(performance.now() - t0);
        }
      }
    });
  });
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

async function main(): Promise<void> {
  const home = new BenchHome('mgs-');
  home.writeConfig(
    benchConfig({
      home: home.home,
      name: 'echo',
      upstream: UPSTREAM === 'sleep' ? { command: 'sleep', args: ['3600'] } : { command: process.execPath, args: [ECHO_SERVER] },
      stages: parsePipeline('all'),
      auditPath: join(home.dir, 'audit.db'),
      extra: { daemon: { home: home.home, log_level: 'warn', shutdown_timeout: 2, dashboard_port: 0 } },
    }),
  );
  const daemon = spawn(process.execPath, [MAIN, 'start', '--config', home.configPath], { env: home.env, stdio: ['ignore', 'ignore', 'inherit'] });
  const socketPath = join(home.home, 'daemon.sock');
  for (let i = 0; i < 400 && home.cli(['health', '--config', home.configPath]).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  try {
    const rows: string[] = [];
    const json: unknown[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const clients = await Promise.all(Array.from({ length: N }, () => oneClient(socketPath, 'echo')));
      const hello = summarize(clients.map((c) => c.timing.hello).filter(Number.isFinite));
      const init = summarize(clients.map((c) => c.timing.init).filter(Number.isFinite));
      const failed = clients.filter((c) => !c.timing.ok).length;
      rows.push(
        `round ${round}: ${N} connections, ${failed} failed | hello p50 ${fmt(hello.p50)} p99 ${fmt(hello.p99)} max ${fmt(hello.max)}` +
          ` | first answer p50 ${fmt(init.p50)} p99 ${fmt(init.p99)} max ${fmt(init.max)}`,
      );
      json.push({ round, n: N, failed, helloMs: hello, initializeMs: init });
      for (const c of clients) c.close();
      await new Promise((r) => setTimeout(r, 2000));
    }
    console.log(rows.join('\n'));
    console.log(JSON.stringify({ bench: 'hello-storm', results: json }));
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    await home.close();
  }
}

await main();
