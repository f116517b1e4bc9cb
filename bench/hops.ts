// Where the time of one request goes, hop by hop: the same sequential tools/call requests through
// mcp-guard (bridge + daemon) and through the bare byte relay, each process noting the monotonic
// time at each hop (src/protocol/hops.ts), then the median of every segment side by side.
//   node dist/bench/hops.js [--pipeline all] [-n 3000] [--warmup 1000] [--size 1024]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { BenchHome, ECHO_SERVER, RELAY, benchConfig, parsePipeline, scriptOption, stopOnInterrupt } from '../src/bench/guard-env.js';
import { payloadText } from '../src/bench/latency.js';
import { RpcClient } from '../src/bench/rpc-client.js';

const value = scriptOption;
const N = Number(value('-n', '3000'));
const WARMUP = Number(value('--warmup', '1000'));
const SIZE = Number(value('--size', '1024'));
const pipeline = value('--pipeline', 'all');

/** Hops in the order one request and its response pass them. */
const PATH = [
  'client-send',
  'bridge-from-client',
  'daemon-from-client',
  'daemon-to-upstream',
  'daemon-from-upstream',
  'daemon-to-client',
  'bridge-from-daemon',
  'client-receive',
];

/** Runs the requests; this process notes the client's own two hops (send, and the answer back). */
async function drive(client: RpcClient): Promise<Map<string, bigint[]>> {
  await client.initialize();
  const text = payloadText(SIZE);
  // Warm up first (a daemon just started runs unoptimised code); only the last N stamps are kept.
  for (let i = 0; i < WARMUP; i++) await client.request('tools/call', { name: 'echo', arguments: { text } });
  const sent: bigint[] = [];
  const received: bigint[] = [];
  for (let i = 0; i < N; i++) {
    sent.push(process.hrtime.bigint());
    const r = await client.request('tools/call', { name: 'echo', arguments: { text } });
    received.push(process.hrtime.bigint());
    if (!r.ok) throw new Error(`request failed: ${JSON.stringify(r.msg)}`);
  }
  await client.close();
  await new Promise((r) => setTimeout(r, 600)); // the other processes flush their stamps every 250 ms
  return new Map([
    ['client-send', sent],
    ['client-receive', received],
  ]);
}

/** Per hop, the stamps of the last N messages (the handshake and warm-up before them are left out). */
function load(dir: string, own: Map<string, bigint[]>): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>(own);
  for (const f of readdirSync(dir)) {
    const name = f.slice(f.indexOf('-') + 1);
    const stamps = readFileSync(join(dir, f), 'utf8').trim().split('\n').map(BigInt);
    out.set(name, [...(out.get(name) ?? []), ...stamps]);
  }
  for (const [k, v] of out) out.set(k, v.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(-N));
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
}

function segments(hops: Map<string, bigint[]>): number[] {
  const out: number[] = [];
  for (let i = 1; i < PATH.length; i++) {
    const a = hops.get(PATH[i - 1]!);
    const b = hops.get(PATH[i]!);
    if (!a || !b || a.length !== N || b.length !== N) throw new Error(`hop ${PATH[i - 1]} or ${PATH[i]}: expected ${N} stamps`);
    out.push(median(b.map((t, k) => Number(t - a[k]!) / 1000)));
  }
  const first = hops.get(PATH[0]!)!;
  out.push(median(hops.get(PATH.at(-1)!)!.map((t, k) => Number(t - first[k]!) / 1000)));
  return out;
}

async function main(): Promise<void> {
  const home = new BenchHome('mgh-');
  const upstream = { command: process.execPath, args: [ECHO_SERVER] };
  home.writeConfig(benchConfig({ home: home.home, name: 'bench', upstream, stages: parsePipeline(pipeline), auditPath: join(home.dir, 'audit.db') }));
  const guardDir = mkdtempSync(join(tmpdir(), 'mgh-guard-'));
  const relayDir = mkdtempSync(join(tmpdir(), 'mgh-relay-'));
  try {
    // Through mcp-guard: the bridge starts the daemon, both inherit the hops directory.
    const guardOwn = await drive(home.bridge('bench', { extraEnv: { MCP_GUARD_HOPS_DIR: guardDir } }));
    await home.close(true);
    // Through the bare relay.
    const sock = join(home.dir, 'floor.sock');
    const env = { ...process.env, MCP_GUARD_HOPS_DIR: relayDir };
    const relay = spawn(process.execPath, [RELAY, 'daemon', sock, '--', upstream.command, ...upstream.args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    stopOnInterrupt(() => relay.kill('SIGTERM'));
    await new Promise((r) => relay.stdout!.once('data', r));
    const relayOwn = await drive(new RpcClient({ command: process.execPath, args: [RELAY, 'bridge', sock], env }));
    relay.kill('SIGTERM');
    await new Promise((r) => relay.once('exit', r));
    const g = segments(load(guardDir, guardOwn));
    const r = segments(load(relayDir, relayOwn));
    const rows: [string, number, number][] = PATH.slice(1).map((to, i) => [`${PATH[i]} → ${to}`, g[i]!, r[i]!]);
    rows.push(['whole round trip', g.at(-1)!, r.at(-1)!]);
    process.stdout.write(`${N} sequential tools/call of ${SIZE} bytes, pipeline ${pipeline}: median µs per segment\n`);
    process.stdout.write(`${'segment'.padEnd(48)}${'mcp-guard'.padStart(10)}${'relay'.padStart(10)}\n`);
    for (const [name, a, b] of rows) process.stdout.write(`${name.padEnd(48)}${a.toFixed(1).padStart(10)}${b.toFixed(1).padStart(10)}\n`);
  } finally {
    rmSync(guardDir, { recursive: true, force: true });
    rmSync(relayDir, { recursive: true, force: true });
    rmSync(home.dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`hops: ${(err as Error).message}\n`);
  process.exit(1);
});
