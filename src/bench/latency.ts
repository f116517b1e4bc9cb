// The latency bench: one upstream measured three ways in the same run, batches interleaved so that
// machine drift cancels — DIRECT (the upstream's own stdio), PROXIED (real bridge + real daemon with
// the chosen stages) and FLOOR (a bare byte relay over the same process and socket path).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { loadConfig } from '../config/loader.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../config/schema.js';
import { control } from '../cli/control.js';
import { RpcClient, modernMeta } from './rpc-client.js';
import type { Era } from '../protocol/era.js';
import { BenchHome, ECHO_SERVER, RELAY, STAGES, benchConfig, cpuMicros, parsePipeline, stopOnInterrupt, type UpstreamSpec } from './guard-env.js';
import { percentile, summarize, type LatencySummary } from './stats.js';

export const TARGETS = ['direct', 'proxied', 'floor'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface LatencyOptions {
  requests: number;
  warmup: number;
  sizes: number[];
  concurrency: number[];
  pipeline: string;
  server?: string;
  config?: string;
  /** Tool to call on a --server upstream (default: tools/list, size ignored). */
  tool?: string;
  /** Argument that carries the payload when calling --tool. */
  arg?: string;
  progress?: (line: string) => void;
  /** A request unanswered this long counts as an error instead of stalling the run (default 60 s). */
  timeoutMs?: number;
  /** Protocol eras to measure, each with its own connections (default: both for the built-in echo server, 2025 for --server). */
  eras?: Era[];
}

export interface TargetResult {
  latency: LatencySummary;
  /** Latency in µs at percentiles 0..100 step 1, then 99.5, 99.9 (for charts). */
  quantiles: number[];
  throughput: number;
  errors: number;
  firstError?: string;
  /** CPU µs per request of the process that relays on the far side (daemon, relay daemon). */
  daemonCpuUsPerReq?: number;
  /** CPU µs per request of the bridge-side process. */
  bridgeCpuUsPerReq?: number;
}

export interface CellResult {
  era: Era;
  size: number;
  concurrency: number;
  method: string;
  targets: Record<TargetName, TargetResult>;
  overhead: { p50: number; p99: number };
  floorOverhead: { p50: number; p99: number };
  /** Overhead divided by the floor's overhead (1 = as good as a bare relay). */
  ratio: { p50: number; p99: number };
  /** Median over rounds of (proxied p50 − direct p50) per round: robust to one slow round. */
  overheadP50RoundMedian: number;
}

export interface LatencyReport {
  kind: 'mcp-guard-latency';
  when: string;
  machine: { cpus: number; node: string; platform: string; loadavg: number[] };
  options: Omit<LatencyOptions, 'progress'> & { serviceWarmup?: number };
  /** First connect in ms, from spawning the client's process to the answer to initialize: direct,
   * through mcp-guard with the daemon starting, through mcp-guard to the running daemon, the relay. */
  startup?: { direct: number; proxied: number; proxiedWarm: number; floor: number };
  pipeline: string[];
  eras: Era[];
  upstream: string;
  /** What the running daemon said about itself (status), to show which stages it had. */
  daemonStatus?: Record<string, unknown>;
  cells: CellResult[];
  /** This run against mcp-guard's own performance targets (GOALS). */
  goals: GoalCheck[];
}

/** mcp-guard's performance targets, for messages of 1 KB or less (README, "Performance"). */
export const GOALS = { maxBytes: 1024, p50Us: 150, ratio: 1.5, p99Us: 3000, reqPerS: 15_000, inFlight: 64 } as const;

export interface GoalCheck {
  era: Era;
  goal: string;
  /** What this run measured, formatted; '-' when it did not measure it. */
  value: string;
  /** undefined: this run did not measure it (see note). */
  met?: boolean;
  note?: string;
}

/**
 * One run against GOALS. Latency goals are read at one request in flight (the largest size of 1 KB
 * or less), the throughput goal at the best cell of 1 KB or less with 64 or more in flight, and
 * only with every stage on.
 * A cell with errors measures nothing.
 */
export function goalChecks(r: Pick<LatencyReport, 'cells' | 'pipeline'>): GoalCheck[] {
  const eras = [...new Set(r.cells.map((c) => c.era))];
  return (eras.length ? eras : (['2025'] as Era[])).flatMap((era) => eraGoals(era, { cells: r.cells.filter((c) => c.era === era), pipeline: r.pipeline }));
}

function eraGoals(era: Era, r: Pick<LatencyReport, 'cells' | 'pipeline'>): GoalCheck[] {
  const small = r.cells.filter((c) => c.size <= GOALS.maxBytes);
  const clean = (c: CellResult) => TARGETS.every((t) => c.targets[t].errors === 0);
  const latencyGoals = [`p50 overhead <= ${GOALS.p50Us} µs`, `p50 overhead <= ${GOALS.ratio}x the relay's`, `p99 overhead <= ${GOALS.p99Us / 1000} ms`];
  const tputGoal = `>= ${GOALS.reqPerS.toLocaleString('en-US')} req/s, every stage on`;
  const none = (goal: string, note: string): GoalCheck => ({ era, goal, value: '-', note });
  const out: GoalCheck[] = [];
  const c1 = small.filter((c) => c.concurrency === 1).sort((a, b) => b.size - a.size)[0];
  if (!c1) {
    out.push(...latencyGoals.map((g) => none(g, `not measured: no cell of ${fmtSize(GOALS.maxBytes)} or less at 1 in flight`)));
  } else if (!clean(c1)) {
    out.push(...latencyGoals.map((g) => none(g, `not measured: requests failed at ${fmtSize(c1.size)}, 1 in flight`)));
  } else {
    // Each verdict is read off the figure as shown, so a figure never reads as met and missed at once.
    const at = `${fmtSize(c1.size)}, 1 in flight`;
    const p50 = Math.round(c1.overhead.p50);
    out.push({ era, goal: latencyGoals[0]!, value: `${p50} µs`, met: p50 <= GOALS.p50Us, note: `${at}; the bare relay's overhead: ${Math.round(c1.floorOverhead.p50)} µs` });
    out.push(
      Number.isFinite(c1.ratio.p50)
        ? { era, goal: latencyGoals[1]!, value: `${c1.ratio.p50.toFixed(2)}x`, met: c1.ratio.p50 <= GOALS.ratio, note: at }
        : none(latencyGoals[1]!, `not measured: mcp-guard or the relay was no slower than direct at ${at}`),
    );
    const p99ms = Math.round(c1.overhead.p99 / 10) / 100;
    out.push({ era, goal: latencyGoals[2]!, value: `${p99ms.toFixed(2)} ms`, met: p99ms <= GOALS.p99Us / 1000, note: at });
  }
  if (!STAGES.every((s) => r.pipeline.includes(s))) {
    out.push(none(tputGoal, 'not measured: the pipeline is not every stage (--pipeline all)'));
  } else {
    // Sustained throughput needs enough requests in flight to keep every process busy.
    const busy = small.filter((c) => c.concurrency >= GOALS.inFlight);
    const best = busy.filter(clean).sort((a, b) => b.targets.proxied.throughput - a.targets.proxied.throughput)[0];
    if (!best) {
      const why = busy.length ? 'requests failed' : `no cell of ${fmtSize(GOALS.maxBytes)} or less with ${GOALS.inFlight} or more in flight`;
      out.push(none(tputGoal, `not measured: ${why}`));
    } else {
      const tp = best.targets.proxied.throughput;
      out.push({ era, goal: tputGoal, value: tp.toLocaleString('en-US'), met: tp >= GOALS.reqPerS, note: `${fmtSize(best.size)}, ${best.concurrency} in flight; the relay: ${best.targets.floor.throughput.toLocaleString('en-US')}` });
    }
  }
  return out;
}

export function payloadText(bytes: number): string {
  const words = 'the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches near river banks'.split(' ');
  let s = '';
  let i = 0;
  while (s.length < bytes) s += words[i++ % words.length] + (i % 13 === 0 ? '. ' : ' ');
  return s.slice(0, bytes);
}

interface Target {
  name: TargetName;
  client: RpcClient;
  farPid?: number;
  nearPid?: number;
}

export async function runLatency(opts: LatencyOptions): Promise<LatencyReport> {
  const say = opts.progress ?? (() => {});
  const stages = parsePipeline(opts.pipeline);
  let upstream: UpstreamSpec = { command: process.execPath, args: [ECHO_SERVER] };
  let upstreamName = 'built-in echo server';
  if (opts.server) {
    const loaded = await loadConfig(opts.config);
    const s = loaded.config.servers[opts.server];
    if (!s) throw new Error(`no server '${opts.server}' in ${loaded.path} (configured: ${Object.keys(loaded.config.servers).join(', ') || 'none'})`);
    if (s.transport !== 'stdio' || !s.command) throw new Error(`server '${opts.server}' is not a stdio server; the bench measures stdio upstreams`);
    upstream = { command: s.command, args: s.args, env: s.env, cwd: s.cwd };
    upstreamName = `${opts.server} (${[s.command, ...s.args].join(' ')})`;
  }
  const method = opts.server && !opts.tool ? 'tools/list' : 'tools/call';
  const sizes = method === 'tools/list' ? [0] : opts.sizes;
  const eras: Era[] = opts.eras ?? (opts.server ? ['2025'] : ['2025', '2026']);
  // A 2026 request carries its era in a `_meta` envelope; a 2025 one only after initialize.
  const paramsFor = (size: number, era: Era = '2025') => {
    const meta = era === '2026' ? { _meta: modernMeta() } : {};
    return method === 'tools/list' ? JSON.stringify(meta) : JSON.stringify({ name: opts.tool ?? 'echo', arguments: { [opts.arg ?? 'text']: payloadText(size) }, ...meta });
  };
  // The bench's daemon keeps the default message limit, and discards a larger line unread (its id
  // unknown, it is answered on a null id): every proxied call would fail, so refuse before starting.
  // The echo's response carries the payload plus an envelope of under 100 bytes.
  const largest = Buffer.byteLength(paramsFor(Math.max(...sizes), '2026')) + 200;
  if (largest > DEFAULT_MAX_MESSAGE_BYTES) {
    throw new Error(`--size ${fmtSize(Math.max(...sizes))}: its messages would be over mcp-guard's limit of ${DEFAULT_MAX_MESSAGE_BYTES.toLocaleString('en-US')} bytes (daemon.max_message_bytes), and the daemon would refuse every one; use sizes up to ${fmtSize(DEFAULT_MAX_MESSAGE_BYTES - 1024 * 1024)}`);
  }
  // Measured requests fail after timeoutMs; a first connect may start the daemon and the upstream
  // (an npx download), so `initialize` gets at least two minutes.
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const initTimeoutMs = Math.max(timeoutMs, 120_000);
  const home = new BenchHome();
  home.writeConfig(benchConfig({ home: home.home, name: 'bench', upstream, stages, auditPath: join(home.dir, 'audit.db') }));
  const relayDaemon = spawn(process.execPath, [RELAY, 'daemon', join(home.dir, 'floor.sock'), '--', upstream.command, ...upstream.args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(upstream.env ?? {}) },
    cwd: upstream.cwd,
  });
  const targetsOf = new Map<Era, Target[]>();
  // The clients opened so far but the bridges (a bridge goes away with its daemon).
  const opened: RpcClient[] = [];
  const unhook = stopOnInterrupt(() => {
    for (const p of [relayDaemon, ...opened.map((c) => c.proc)]) p.kill('SIGKILL');
  });
  try {
    await once(relayDaemon.stdout!, 'data');
    say('starting the daemon and the upstreams');
    // Each client is started and initialised alone, so each first connect is timed on its own:
    // from spawning the client's process to the answer to `initialize`. Through mcp-guard the
    // first one starts the daemon too; a second bridge then finds it running.
    const startup: Record<'direct' | 'proxied' | 'proxiedWarm' | 'floor', number> = { direct: 0, proxied: 0, proxiedWarm: 0, floor: 0 };
    // First connects are timed for the first era only (its opening: initialize, or server/discover).
    const connect = async (era: Era, name: keyof typeof startup, make: () => RpcClient): Promise<RpcClient> => {
      const t0 = performance.now();
      const c = make();
      if (!name.startsWith('proxied')) opened.push(c);
      const r = era === '2026' ? await c.discover() : await c.initialize();
      if (!r.ok) throw new Error(`${name} (${era} era): ${era === '2026' ? 'server/discover' : 'initialize'} failed: ${JSON.stringify(r.msg?.error ?? r.msg)}${c.stderr ? '\n' + c.stderr : ''}${name.startsWith('proxied') ? '\n' + home.daemonLog().slice(-2000) : ''}`);
      if (era === eras[0]) startup[name] = Math.round(performance.now() - t0);
      return c;
    };
    for (const era of eras) {
      const direct = await connect(era, 'direct', () => new RpcClient({ command: upstream.command, args: upstream.args, env: { ...process.env, ...(upstream.env ?? {}) }, cwd: upstream.cwd, fastPath: true, timeoutMs: initTimeoutMs }));
      const proxied = await connect(era, 'proxied', () => home.bridge('bench', { fastPath: true, timeoutMs: initTimeoutMs }));
      if (era === eras[0]) await (await connect(era, 'proxiedWarm', () => home.bridge('bench', { fastPath: true, timeoutMs: initTimeoutMs }))).close();
      const floor = await connect(era, 'floor', () => new RpcClient({ command: process.execPath, args: [RELAY, 'bridge', join(home.dir, 'floor.sock')], fastPath: true, timeoutMs: initTimeoutMs }));
      const daemonPid = home.daemonPid();
      const targets: Target[] = [
        { name: 'direct', client: direct, farPid: direct.pid },
        { name: 'proxied', client: proxied, farPid: daemonPid, nearPid: proxied.pid },
        { name: 'floor', client: floor, farPid: relayDaemon.pid, nearPid: floor.pid },
      ];
      for (const t of targets) t.client.timeoutMs = timeoutMs;
      targetsOf.set(era, targets);
    }
    let daemonStatus: Record<string, unknown> | undefined;
    try {
      const st = (await control(join(home.home, 'daemon.sock'), 'status')) as Record<string, unknown>;
      daemonStatus = st;
    } catch {
      /* older daemons without status: fine */
    }

    // A daemon in service is warm. One just started runs unoptimised code for its first few thousand
    // requests (1 KB at 64 in flight: 9,400 req/s after 300 warm-up requests, 12,500 after 3,000),
    // so before the first cell every target serves ten times the per-cell warm-up, half of it one at
    // a time and half at the highest concurrency asked for.
    const serviceWarmup = Math.min(opts.warmup * 10, 5000);
    if (serviceWarmup > 0) {
      say(`warming up (${serviceWarmup} requests per target)`);
      for (const era of eras) {
        const make = requestMaker(method, paramsFor(sizes[0]!, era));
        for (const t of targetsOf.get(era)!) {
          await batch(t.client, serviceWarmup >> 1, 1, make);
          await batch(t.client, serviceWarmup - (serviceWarmup >> 1), Math.max(...opts.concurrency), make);
        }
      }
    }
    const cells: CellResult[] = [];
    const total = eras.length * sizes.length * opts.concurrency.length;
    let cellNo = 0;
    for (const era of eras) {
      for (const size of sizes) {
        const params = paramsFor(size, era);
        for (const conc of opts.concurrency) {
          cellNo++;
          const label = `[${cellNo}/${total}] ${eras.length > 1 ? `${era} ` : ''}${fmtSize(size)} × c${conc}`;
          cells.push({ era, ...(await runCell(targetsOf.get(era)!, method, params, size, conc, opts, (m) => say(`${label} ${m}`))) });
        }
      }
    }
    return {
      kind: 'mcp-guard-latency',
      when: new Date().toISOString(),
      machine: await machine(),
      options: { requests: opts.requests, warmup: opts.warmup, serviceWarmup, sizes: opts.sizes, concurrency: opts.concurrency, pipeline: opts.pipeline, server: opts.server, config: opts.config, tool: opts.tool, eras },
      pipeline: [...stages],
      eras,
      upstream: upstreamName,
      daemonStatus,
      startup,
      cells,
      goals: goalChecks({ cells, pipeline: [...stages] }),
    };
  } finally {
    await Promise.allSettled(opened.map((c) => c.close()));
    relayDaemon.kill('SIGTERM');
    unhook();
    await home.close();
  }
}

async function machine() {
  const os = await import('node:os');
  return { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) };
}

export function fmtSize(n: number): string {
  if (n === 0) return '-';
  if (n % (1024 * 1024) === 0) return `${n / 1024 / 1024}m`;
  if (n % 1024 === 0) return `${n / 1024}k`;
  return `${n}b`;
}

/** Builds each request's line with the client's next id. */
function requestMaker(method: string, params: string) {
  return (c: RpcClient) => {
    const id = c.allocId();
    return { id, line: `{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}` };
  };
}

async function runCell(targets: Target[], method: string, params: string, size: number, conc: number, opts: LatencyOptions, say: (m: string) => void): Promise<Omit<CellResult, 'era'>> {
  const make = requestMaker(method, params);
  // Warm-up: every target, at this concurrency, not recorded.
  for (const t of targets) await batch(t.client, opts.warmup, conc, make);
  const batchSize = Math.max(conc * 2, Math.ceil(opts.requests / 20));
  const rounds = Math.max(1, Math.ceil(opts.requests / batchSize));
  const acc = new Map<TargetName, { samples: number[]; wall: number; n: number; errors: number; firstError?: string; far: number; near: number; cpuOk: boolean }>();
  for (const t of targets) acc.set(t.name, { samples: [], wall: 0, n: 0, errors: 0, far: 0, near: 0, cpuOk: true });
  const roundOverheads: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const n = Math.min(batchSize, opts.requests - r * batchSize);
    const roundP50: Partial<Record<TargetName, number>> = {};
    // Rotate the order each round so no target always runs first (or right after another).
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(r + k) % targets.length]!;
      say(`round ${r + 1}/${rounds} ${t.name}`);
      const a = acc.get(t.name)!;
      const far0 = cpuMicros(t.farPid);
      const near0 = cpuMicros(t.nearPid);
      const b = await batch(t.client, n, conc, make);
      const far1 = cpuMicros(t.farPid);
      const near1 = cpuMicros(t.nearPid);
      if (far0 !== undefined && far1 !== undefined) a.far += far1 - far0;
      else a.cpuOk = false;
      if (near0 !== undefined && near1 !== undefined) a.near += near1 - near0;
      for (const s of b.samples) a.samples.push(s);
      a.wall += b.wallMs;
      a.n += n;
      a.errors += b.errors;
      a.firstError ??= b.firstError;
      roundP50[t.name] = percentile(Float64Array.from(b.samples).sort(), 50);
    }
    roundOverheads.push(roundP50.proxied! - roundP50.direct!);
  }
  const res = {} as Record<TargetName, TargetResult>;
  for (const t of targets) {
    const a = acc.get(t.name)!;
    const sorted = Float64Array.from(a.samples).sort();
    const quantiles: number[] = [];
    for (let p = 0; p <= 100; p++) quantiles.push(round1(percentile(sorted, p)));
    quantiles.push(round1(percentile(sorted, 99.5)), round1(percentile(sorted, 99.9)));
    const lat = summarize(sorted);
    res[t.name] = {
      latency: roundSummary(lat),
      quantiles,
      throughput: Math.round((a.n / a.wall) * 1000),
      errors: a.errors,
      firstError: a.firstError,
      daemonCpuUsPerReq: t.name !== 'direct' && a.cpuOk ? round1(a.far / a.n) : undefined,
      bridgeCpuUsPerReq: t.nearPid ? round1(a.near / a.n) : undefined,
    };
  }
  const d = res.direct.latency;
  const p = res.proxied.latency;
  const f = res.floor.latency;
  const overhead = { p50: round1(p.p50 - d.p50), p99: round1(p.p99 - d.p99) };
  const floorOverhead = { p50: round1(f.p50 - d.p50), p99: round1(f.p99 - d.p99) };
  return {
    size,
    concurrency: conc,
    method,
    targets: res,
    overhead,
    floorOverhead,
    ratio: { p50: overheadRatio(overhead.p50, floorOverhead.p50), p99: overheadRatio(overhead.p99, floorOverhead.p99) },
    overheadP50RoundMedian: round1([...roundOverheads].sort((a, b) => a - b)[Math.floor(roundOverheads.length / 2)]!),
  };
}

/** Overhead over the floor's overhead; none when either is below zero or the floor's is zero (noise, not a ratio). */
export function overheadRatio(a: number, b: number): number {
  if (!(a >= 0) || !(b > 0)) return NaN;
  return Math.round((a / b) * 100) / 100;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function roundSummary(s: LatencySummary): LatencySummary {
  return { n: s.n, p50: round1(s.p50), p90: round1(s.p90), p99: round1(s.p99), p999: round1(s.p999), max: round1(s.max), mean: round1(s.mean) };
}

/** n requests keeping `conc` in flight on one connection; latencies in µs. */
async function batch(client: RpcClient, n: number, conc: number, make: (c: RpcClient) => { id: number; line: string }) {
  const samples: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  if (n <= 0) return { samples, wallMs: 0, errors, firstError };
  let sent = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let done = 0;
    const fire = () => {
      const { id, line } = make(client);
      sent++;
      client.sendRaw(line, id).then((r) => {
        done++;
        if (r.ok) samples.push(r.us);
        else {
          errors++;
          firstError ??= JSON.stringify(r.msg?.error ?? 'error (fast path)').slice(0, 300);
        }
        if (sent < n) fire();
        else if (done === n) resolve();
      });
    };
    for (let i = 0; i < Math.min(conc, n); i++) fire();
  });
  return { samples, wallMs: performance.now() - t0, errors, firstError };
}
