// Soak: many sessions one after another (a few at a time) and many calls through one daemon, with
// the daemon's resident memory, open file descriptors and child processes sampled as it goes. What
// must hold: memory levels off, descriptors and children come back to their idle values when the
// sessions are gone, and no call fails.
//   npm run bench:soak                       scaled run: 1,000 sessions, 100,000 calls
//   npm run bench:soak -- --full             the full run: 10,000 sessions, 1,000,000 calls
//   node dist/bench/soak.js --sessions N --calls M [--concurrency 16] [--pipeline all]
// Clients are sockets of this process speaking the bridge's wire (hello line, then JSON-RPC), so
// that the run measures the daemon and not the start-up of 10,000 bridge processes. Each session
// has its own upstream (the bench echo server), started and stopped with it. Linux only (/proc).
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { BenchHome, ECHO_SERVER, MAIN, benchConfig, parsePipeline, scriptFlag, scriptOption } from '../src/bench/guard-env.js';
import { WIRE_VERSION } from '../src/protocol/hello.js';

const FULL = scriptFlag('--full');
const SESSIONS = Number(scriptOption('--sessions', FULL ? '10000' : '1000'));
const CALLS = Number(scriptOption('--calls', FULL ? '1000000' : '100000'));
const CONCURRENCY = Number(scriptOption('--concurrency', '16'));
const PIPELINE = scriptOption('--pipeline', 'all');
const SAMPLE_MS = Number(scriptOption('--sample-ms', '5000'));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Sample {
  t: number;
  sessionsDone: number;
  callsDone: number;
  rssMb: number;
  fds: number;
  children: number;
}

function procSample(pid: number): { rssMb: number; fds: number; children: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  let children = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const f = `/proc/${pid}/task/${t}/children`;
    if (existsSync(f)) children += readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean).length;
  }
  return { rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length, children };
}

/** One session over the daemon's socket: hello, initialize, `calls` sequential tools/call echo, close. */
class SocketSession {
  private sock!: Socket;
  private buf = '';
  private waiting = new Map<number, (m: any) => void>();
  private helloDone?: (m: any) => void;
  private nextId = 1;

  open(socketPath: string, server: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock = createConnection(socketPath);
      this.sock.on('error', reject);
      this.sock.on('close', () => {
        for (const w of this.waiting.values()) w({ error: { message: 'connection closed' } });
        this.waiting.clear();
      });
      this.helloDone = (m) => (m.ok ? resolve() : reject(new Error(m.error)));
      this.sock.on('data', (c: Buffer) => this.onData(c));
      this.sock.write(JSON.stringify({ mcpGuard: WIRE_VERSION, type: 'connect', server }) + '\n');
    });
  }

  private onData(c: Buffer): void {
    this.buf += c.toString('utf8');
    let nl;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const m = JSON.parse(this.buf.slice(0, nl));
      this.buf = this.buf.slice(nl + 1);
      if (this.helloDone) {
        const h = this.helloDone;
        this.helloDone = undefined;
        h(m);
        continue;
      }
      const w = this.waiting.get(m.id);
      if (w) {
        this.waiting.delete(m.id);
        w(m);
      }
    }
  }

  request(method: string, params: unknown): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.sock.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  notify(method: string): void {
    this.sock.write(JSON.stringify({ jsonrpc: '2.0', method }) + '\n');
  }

  close(): void {
    this.sock.end();
  }
}

async function main(): Promise<void> {
  if (!existsSync('/proc/self/status')) throw new Error('the soak reads /proc: Linux only');
  const home = new BenchHome('mgk-');
  home.writeConfig(
    benchConfig({
      home: home.home,
      name: 'echo',
      upstream: { command: process.execPath, args: [ECHO_SERVER] },
      stages: parsePipeline(PIPELINE),
      auditPath: join(home.dir, 'audit.db'),
      extra: { daemon: { home: home.home, log_level: 'warn', shutdown_timeout: 2, dashboard_port: 0 } },
    }),
  );
  const daemon = spawn(process.execPath, [MAIN, 'start', '--config', home.configPath], { env: home.env, stdio: ['ignore', 'ignore', 'inherit'] });
  const socketPath = join(home.home, 'daemon.sock');
  for (let i = 0; i < 400 && home.cli(['health', '--config', home.configPath]).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  const pid = home.daemonPid()!;
  const t0 = performance.now();
  const samples: Sample[] = [];
  let sessionsDone = 0;
  let callsDone = 0;
  let failedCalls = 0;
  let failedSessions = 0;
  const sample = () => samples.push({ t: (performance.now() - t0) / 1000, sessionsDone, callsDone, ...procSample(pid) });
  const print = (s: Sample) =>
    process.stdout.write(
      `${s.t.toFixed(0).padStart(6)} s ${String(s.sessionsDone).padStart(7)} sessions ${String(s.callsDone).padStart(9)} calls` +
        `   rss ${s.rssMb.toFixed(0).padStart(5)} MB   fds ${String(s.fds).padStart(5)}   children ${String(s.children).padStart(4)}\n`,
    );
  try {
    process.stdout.write(`soak: ${SESSIONS} sessions, ${CALLS} calls, ${CONCURRENCY} sessions at a time, pipeline ${PIPELINE}${FULL ? ' (full run)' : ''}\n`);
    sample();
    print(samples[0]!);
    const idle = samples[0]!;
    const timer = setInterval(() => {
      sample();
      print(samples[samples.length - 1]!);
    }, SAMPLE_MS);
    let nextSession = 0;
    const perSession = (i: number) => Math.floor(CALLS / SESSIONS) + (i < CALLS % SESSIONS ? 1 : 0);
    const worker = async () => {
      for (;;) {
        const i = nextSession++;
        if (i >= SESSIONS) return;
        const s = new SocketSession();
        try {
          await s.open(socketPath, 'echo');
          const init = await s.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'soak', version: '1' } });
          if (init.error) throw new Error(init.error.message);
          s.notify('notifications/initialized');
          for (let k = perSession(i); k > 0; k--) {
            const r = await s.request('tools/call', { name: 'echo', arguments: { text: `session ${i} call ${k}` } });
            if (r.error) failedCalls++;
            callsDone++;
          }
        } catch (err) {
          failedSessions++;
          if (failedSessions <= 5) process.stderr.write(`session ${i} failed: ${(err as Error).message}\n`);
        } finally {
          s.close();
          sessionsDone++;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const busySeconds = (performance.now() - t0) / 1000;
    // Every session is gone: the daemon must come back to where it started.
    const settleFrom = performance.now();
    for (;;) {
      const now = procSample(pid);
      if ((now.children === 0 && now.fds <= idle.fds + 2) || performance.now() - settleFrom > 30_000) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    clearInterval(timer);
    sample();
    const last = samples[samples.length - 1]!;
    print(last);
    const peak = samples.reduce((a, s) => (s.rssMb > a.rssMb ? s : a));
    const summary = {
      bench: 'soak',
      full: FULL,
      sessions: SESSIONS,
      calls: CALLS,
      concurrency: CONCURRENCY,
      pipeline: PIPELINE,
      seconds: busySeconds,
      callsPerSecond: callsDone / busySeconds,
      sessionsPerSecond: sessionsDone / busySeconds,
      failedCalls,
      failedSessions,
      rssMb: { idle: idle.rssMb, peak: peak.rssMb, end: last.rssMb },
      fds: { idle: idle.fds, peak: Math.max(...samples.map((s) => s.fds)), end: last.fds },
      children: { peak: Math.max(...samples.map((s) => s.children)), end: last.children },
      samples,
    };
    process.stdout.write(
      `\n${sessionsDone} sessions and ${callsDone} calls in ${busySeconds.toFixed(0)} s (${summary.callsPerSecond.toFixed(0)} calls/s, ${summary.sessionsPerSecond.toFixed(1)} sessions/s); ` +
        `${failedSessions} sessions and ${failedCalls} calls failed\n` +
        `rss ${idle.rssMb.toFixed(0)} MB idle -> ${peak.rssMb.toFixed(0)} MB peak -> ${last.rssMb.toFixed(0)} MB after; ` +
        `fds ${idle.fds} idle -> ${summary.fds.peak} peak -> ${last.fds} after; children ${summary.children.peak} peak -> ${last.children} after\n`,
    );
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `soak-${FULL ? 'full' : `${SESSIONS}x${CALLS}`}.json`);
    writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
    process.stderr.write(`results: ${file}\n`);
    if (failedCalls || failedSessions || last.children !== 0) process.exitCode = 1;
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    await home.close();
  }
}

await main();
