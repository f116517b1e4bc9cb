// A stdio upstream: one child process per session, newline-delimited JSON-RPC on its stdin/stdout,
// its stderr copied to the daemon log tagged with the server name.
import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter, LineWriter } from '../protocol/framing.js';
import { hop } from '../protocol/hops.js';
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../protocol/log.js';
import type { Upstream } from './upstream.js';

/** Environment for an upstream: the daemon's, minus anything of mcp-guard's own (keys, tokens). */
export function upstreamEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('MCP_GUARD_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Why a spawn failed, for the client's error pane: out of descriptors is the daemon's limit, not the server's fault. */
function spawnFailure(command: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'EMFILE' || err.code === 'ENFILE') {
    return `mcp-guard is out of file descriptors (${err.code}) and could not start '${command}'; close other sessions, or raise the daemon's open-file limit (ulimit -n) and lower daemon.max_sessions`;
  }
  if (err.code === 'EAGAIN') return `mcp-guard could not start '${command}': too many processes (EAGAIN)`;
  return `cannot start '${command}': ${err.code ?? err.message}`;
}

export class StdioUpstream implements Upstream {
  onLine: (line: Buffer) => void = () => {};
  onClose: (reason: string) => void = () => {};
  onDrain: () => void = () => {};
  private child?: ChildProcess;
  private paused = false;
  private out?: LineWriter;
  private closed = false;
  private exited?: Promise<void>;

  constructor(
    readonly server: string,
    private readonly cfg: ServerConfig,
    private readonly maxBytes: number,
    private readonly log: Logger,
    /** Cleans a stderr line before it is logged (PII redaction); identity when absent. */
    private readonly cleanLog: (s: string) => string = (s) => s,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      let started = false;
      const refuse = (err: NodeJS.ErrnoException) => reject(new Error(spawnFailure(this.cfg.command!, err)));
      let child: ChildProcess;
      try {
        child = spawn(this.cfg.command!, this.cfg.args, {
          env: upstreamEnv(this.cfg.env),
          cwd: this.cfg.cwd,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch (err) {
        return refuse(err as NodeJS.ErrnoException);
      }
      // The 'error' listener comes first and stays: out of file descriptors (EMFILE), Node emits
      // 'error' on the next tick and may leave the stdio streams null; an unheard 'error' is fatal.
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (!started) refuse(err);
        else this.log.warn('upstream process error', { error: err.code ?? err.message });
      });
      this.child = child;
      if (!child.stdin || !child.stdout || !child.stderr) return; // 'error' follows and refuses
      this.out = new LineWriter(child.stdin, 'daemon-to-upstream');
      this.out.onDrain = () => this.onDrain();
      this.exited = new Promise((res) => child.once('close', () => res()));
      const splitter = new LineSplitter(this.maxBytes, {
        line: (l) => this.onLine(l),
        oversize: (n) => this.log.warn('upstream sent an oversized message; dropped', { bytes: n, limit: this.maxBytes }),
      });
      child.stdout.on('data', (c: Buffer) => {
        hop('daemon-from-upstream');
        splitter.push(c);
      });
      if (this.paused) child.stdout!.pause();
      const errSplitter = new LineSplitter(64 * 1024, {
        line: (l) => this.log.info(this.cleanLog(l.toString('utf8')), { stream: 'upstream-stderr' }),
        oversize: () => {},
      });
      child.stderr.on('data', (c: Buffer) => errSplitter.push(c));
      child.stdin.on('error', () => {}); // EPIPE after exit: reported through 'close'
      child.once('spawn', () => {
        started = true;
        resolve();
      });
      child.once('close', (code, signal) => {
        if (!started) return;
        const why = signal ? `it was killed by ${signal}` : `it exited with code ${code}`;
        if (!this.closed) this.log.warn('upstream exited', { code, signal });
        this.closed = true;
        this.onClose(why);
      });
    });
  }

  send(line: Buffer): void {
    if (this.closed || !this.out) return;
    this.out.push(line);
  }

  pause(): void {
    this.paused = true;
    this.child?.stdout?.pause();
  }

  resume(): void {
    this.paused = false;
    this.child?.stdout?.resume();
  }

  get backlog(): number {
    return this.out?.backlog ?? 0;
  }

  async close(): Promise<void> {
    const child = this.child;
    this.closed = true;
    // Never started (the spawn failed), or already gone.
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    // The MCP stdio shutdown sequence: close stdin, then SIGTERM, then SIGKILL.
    child.stdin?.end();
    const timer1 = setTimeout(() => child.kill('SIGTERM'), 2000);
    const timer2 = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer1);
    clearTimeout(timer2);
  }
}
