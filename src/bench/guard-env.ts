// A private mcp-guard for benches: a temp home, a generated config, bridges spawned as real
// `mcp-guard connect` processes (which auto-start the real daemon), and a clean stop afterwards.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { RpcClient, type RpcClientOptions } from './rpc-client.js';
import { control } from '../cli/control.js';
import { waitForExit } from '../daemon/lock.js';

export const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));
export const RELAY = fileURLToPath(new URL('./relay.js', import.meta.url));

export const STAGES = ['pii', 'permissions', 'ratelimit', 'audit'] as const;
export type StageName = (typeof STAGES)[number];

/** `none`, `all` or a comma list of stage names; unknown names are an error naming the valid ones. */
export function parsePipeline(spec: string): Set<StageName> {
  const s = spec.trim().toLowerCase();
  if (s === 'all') return new Set(STAGES);
  if (s === 'none' || s === '') return new Set();
  const out = new Set<StageName>();
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const name = part === 'rate-limit' || part === 'rate_limit' || part === 'ratelimits' ? 'ratelimit' : part;
    if (!(STAGES as readonly string[]).includes(name)) throw new Error(`unknown pipeline stage '${part}' (use none, all, or a comma list of ${STAGES.join(', ')})`);
    out.add(name as StageName);
  }
  return out;
}

export interface UpstreamSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * A config for one server `name` with the chosen stages on. Limits are huge so that rate limiting
 * runs its bookkeeping without ever refusing; permissions allow the bench's calls through a rule
 * that still has to be evaluated. Returned as JSON text, which is valid YAML.
 */
export function benchConfig(opts: { home: string; name: string; upstream: UpstreamSpec; stages: Set<StageName>; auditPath: string; policy?: Record<string, unknown>; extra?: Record<string, unknown>; durability?: 'buffered' | 'acknowledged' }): string {
  const policy: Record<string, unknown> = { ...(opts.policy ?? {}) };
  if (opts.stages.has('permissions') && !policy.permissions) {
    policy.permissions = { allowed_tools: ['echo', 'leak', 'sample', 'read_*', '*'], denied_tools: ['delete_*', 'drop_database'], denied_resources: ['file:///etc/**', '**/.env'] };
  }
  if (opts.stages.has('ratelimit') && !policy.rate_limit) {
    policy.rate_limit = { requests_per_minute: 1_000_000_000, requests_per_hour: 1_000_000_000 };
  }
  const server: Record<string, unknown> = { transport: 'stdio', command: opts.upstream.command, args: opts.upstream.args, policy };
  if (opts.upstream.env && Object.keys(opts.upstream.env).length) server.env = opts.upstream.env;
  if (opts.upstream.cwd) server.cwd = opts.upstream.cwd;
  const cfg: Record<string, unknown> = {
    servers: { [opts.name]: server },
    daemon: { home: opts.home, log_level: 'warn', shutdown_timeout: 2 },
    pii: { enabled: opts.stages.has('pii') },
    audit: { enabled: opts.stages.has('audit'), path: opts.auditPath, ...(opts.durability ? { durability: opts.durability } : {}) },
    ...(opts.extra ?? {}),
  };
  return JSON.stringify(cfg, null, 2) + '\n';
}

const onInterrupt = new Set<() => void>();
let hooked = false;

/**
 * Run `stop` if this process is interrupted (SIGINT, SIGTERM) before the returned function is
 * called; then exit 130 or 143. A bench's daemon runs in a session of its own, out of reach of the
 * terminal's Ctrl-C, and its relay has no stdin to lose: without this both outlive the run. Every
 * `stop` is synchronous, so nothing of the interrupted run (a suite starting its next daemon) runs
 * in between.
 */
export function stopOnInterrupt(stop: () => void): () => void {
  if (!hooked) {
    hooked = true;
    const interrupted = (sig: NodeJS.Signals) => {
      for (const f of onInterrupt) {
        try {
          f();
        } catch {
          /* stop the others all the same */
        }
      }
      process.exit(sig === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  }
  onInterrupt.add(stop);
  return () => onInterrupt.delete(stop);
}

/** SIGKILL every process whose command line holds `text` (Linux /proc; elsewhere nothing). */
function killProcessesWith(text: string): void {
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone, or not ours */
    }
  }
}

export class BenchHome {
  readonly dir: string;
  readonly home: string;
  readonly configPath: string;
  private clients: RpcClient[] = [];
  private readonly unhook: () => void;

  constructor(prefix = 'mgb-') {
    // Short paths: a Unix socket path must stay under ~100 bytes.
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.home = join(this.dir, 'home');
    this.configPath = join(this.dir, 'mcp-guard.yaml');
    this.unhook = stopOnInterrupt(() => this.closeNow());
  }

  writeConfig(text: string, path = this.configPath): void {
    writeFileSync(path, text);
  }

  get env(): Record<string, string> {
    return { ...(process.env as Record<string, string>), MCP_GUARD_HOME: this.home };
  }

  /** A real bridge (`mcp-guard connect`) as a JSON-RPC client. */
  bridge(server: string, opts: Partial<RpcClientOptions> & { config?: string; extraEnv?: Record<string, string> } = {}): RpcClient {
    const c = new RpcClient({
      ...opts,
      command: process.execPath,
      args: [MAIN, 'connect', '--server', server, '--config', opts.config ?? this.configPath],
      env: { ...this.env, ...(opts.extraEnv ?? {}) },
    });
    this.clients.push(c);
    return c;
  }

  cli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [MAIN, ...args], { env: { ...this.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  daemonPid(): number | undefined {
    try {
      const n = Number(readFileSync(join(this.home, 'daemon.pid'), 'utf8').trim());
      return Number.isFinite(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  daemonLog(): string {
    const p = join(this.home, 'daemon.log');
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }

  /**
   * Interrupted: kill at once its bridges and its daemon (also one a bridge is starting this very
   * moment: every process of this home has its config path in its command line), remove its files.
   */
  closeNow(): void {
    this.unhook();
    for (const c of this.clients) c.proc.kill('SIGKILL');
    killProcessesWith(this.configPath);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the daemon; removes the files unless `keep` (a kept home may be used again). */
  async close(keep = false): Promise<void> {
    // Still stopped on an interrupt until this is done: closing takes seconds (bridges exit, the daemon stops).
    await Promise.allSettled(this.clients.map((c) => c.close()));
    // The daemon's own stop, without blocking this process: a suite closes several homes at once.
    const pid = this.daemonPid();
    if (pid) {
      await control(join(this.home, 'daemon.sock'), 'stop').catch(() => {});
      // Only a daemon still there is killed: a pid gone a while may already be another process's.
      try {
        if (!(await waitForExit(pid, 2000))) process.kill(pid, 'SIGKILL');
      } catch {
        /* gone in between */
      }
    }
    if (!keep) {
      rmSync(this.dir, { recursive: true, force: true });
      this.unhook();
    }
  }
}

/**
 * CPU time of a process in microseconds, from /proc; undefined where unavailable. The run time of
 * each of its threads (schedstat, in ns) where the kernel keeps it, else user + system time in
 * clock ticks (10 ms each: too coarse for a short batch of requests).
 */
export function cpuMicros(pid: number | undefined): number | undefined {
  if (!pid || pid < 0) return undefined;
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // a thread that just ended
      }
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1000;
  } catch {
    /* no schedstat: fall back to ticks */
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1_000_000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

const CLK_TCK = (() => {
  try {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout.trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** The options of a bench script (`--name value` pairs and bare flags), for bench/*.ts. */
export function scriptOption(name: string, fallback: string): string {
  const i = process.argv.indexOf(name, 2);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
export function scriptFlag(name: string): boolean {
  return process.argv.includes(name, 2);
}
