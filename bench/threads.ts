// Where the CPU goes, thread by thread: the same tools/call requests through mcp-guard (bridge +
// daemon) and through the bare byte relay, and for every thread of those processes its run time
// and context switches per request over the measured requests (from /proc/<pid>/task/<tid>).
// The daemon's main thread, its audit writer and V8's helper threads (GC, compiler) show apart.
//   node dist/bench/threads.js [-n 5000] [-c 1] [--size 1024] [--warmup 3000] [--pipeline all]
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { BenchHome, ECHO_SERVER, RELAY, benchConfig, parsePipeline, scriptOption, stopOnInterrupt } from '../src/bench/guard-env.js';
import { payloadText } from '../src/bench/latency.js';
import { RpcClient } from '../src/bench/rpc-client.js';

const value = scriptOption;
const N = Number(value('-n', '5000'));
const C = Number(value('-c', '1'));
const SIZE = Number(value('--size', '1024'));
const WARMUP = Number(value('--warmup', '3000'));
const pipeline = value('--pipeline', 'all');

interface ThreadStat {
  name: string;
  runNs: number;
  voluntary: number;
  involuntary: number;
}

/** Every thread of a process: run time (schedstat) and context switches (status). */
function threads(pid: number): Map<string, ThreadStat> {
  const out = new Map<string, ThreadStat>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${tid}`;
      const status = readFileSync(`${dir}/status`, 'utf8');
      out.set(tid, {
        name: readFileSync(`${dir}/comm`, 'utf8').trim(),
        runNs: Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0]),
        voluntary: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
        involuntary: Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      });
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

async function measure(label: string, client: RpcClient, pids: [string, number][]): Promise<string[]> {
  await client.initialize();
  const params = { name: 'echo', arguments: { text: payloadText(SIZE) } };
  const run = async (n: number) => {
    let i = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (i++ < n) {
          const r = await client.request('tools/call', params);
          if (!r.ok) throw new Error(`${label}: request failed: ${JSON.stringify(r.msg)}`);
        }
      }),
    );
  };
  await run(WARMUP);
  const before = pids.map(([, pid]) => threads(pid));
  const t0 = process.hrtime.bigint();
  await run(N);
  const wall = Number(process.hrtime.bigint() - t0) / 1000 / N;
  const after = pids.map(([, pid]) => threads(pid));
  await client.close();
  const rows: string[] = [];
  pids.forEach(([proc, pid], k) => {
    let total = 0;
    for (const [tid, b] of after[k]!) {
      const a = before[k]!.get(tid);
      if (!a) continue;
      const us = (b.runNs - a.runNs) / 1000 / N;
      total += us;
      if (us < 0.5) continue;
      const main = Number(tid) === pid ? ' (main)' : '';
      rows.push(`${label.padEnd(10)}${`${proc} ${tid}${main}`.padEnd(28)}${us.toFixed(1).padStart(9)}${((b.voluntary - a.voluntary) / N).toFixed(2).padStart(10)}${((b.involuntary - a.involuntary) / N).toFixed(2).padStart(10)}`);
    }
    rows.push(`${label.padEnd(10)}${`${proc} all threads`.padEnd(28)}${total.toFixed(1).padStart(9)}`);
  });
  rows.push(`${label.padEnd(10)}${'wall per request'.padEnd(28)}${wall.toFixed(1).padStart(9)}`);
  return rows;
}

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('needs Linux (/proc/<pid>/task)');
  const home = new BenchHome('mgt-');
  const upstream = { command: process.execPath, args: [ECHO_SERVER] };
  home.writeConfig(benchConfig({ home: home.home, name: 'bench', upstream, stages: parsePipeline(pipeline), auditPath: join(home.dir, 'audit.db') }));
  try {
    const guard = home.bridge('bench', { fastPath: true });
    await guard.initialize();
    const rows = await measure('mcp-guard', guard, [
      ['daemon', home.daemonPid()!],
      ['bridge', guard.pid],
    ]);
    await home.close(true);
    const sock = join(home.dir, 'floor.sock');
    const relay = spawn(process.execPath, [RELAY, 'daemon', sock, '--', upstream.command, ...upstream.args], { stdio: ['ignore', 'pipe', 'inherit'] });
    stopOnInterrupt(() => relay.kill('SIGTERM'));
    await new Promise((r) => relay.stdout!.once('data', r));
    const floor = new RpcClient({ command: process.execPath, args: [RELAY, 'bridge', sock], fastPath: true });
    rows.push(
      ...(await measure('relay', floor, [
        ['daemon', relay.pid!],
        ['bridge', floor.pid],
      ])),
    );
    relay.kill('SIGTERM');
    process.stdout.write(`${N} tools/call of ${SIZE} bytes, ${C} in flight, pipeline ${pipeline}, after ${WARMUP} warm-up requests\n`);
    process.stdout.write(`${''.padEnd(10)}${'thread'.padEnd(28)}${'µs/req'.padStart(9)}${'vol/req'.padStart(10)}${'invol/req'.padStart(10)}\n`);
    for (const r of rows) process.stdout.write(r + '\n');
  } finally {
    rmSync(home.dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`threads: ${(err as Error).message}\n`);
  process.exit(1);
});
