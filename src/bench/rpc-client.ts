// A newline JSON-RPC client over a child process's stdio, used by the latency bench and the
// detection suite alike: it sends requests, matches responses by id, times each exchange, answers
// server-to-client requests through a handler, and keeps what it received for scoring.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLIENT_CAPABILITIES_KEY, MODERN_VERSIONS, PROTOCOL_VERSION_KEY } from '../protocol/era.js';
import { performance } from 'node:perf_hooks';

export interface RpcReply {
  /** The parsed response (undefined on the fast path, where only id and outcome are read). */
  msg?: any;
  ok: boolean;
  /** Round trip in microseconds, from write to the read that carried the answer. */
  us: number;
}

interface Waiter {
  sent: number;
  resolve: (r: RpcReply) => void;
}

export interface RpcClientOptions {
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Answer a server-to-client request; return the result, or throw {code,message} for an error. */
  onServerRequest?: (msg: any) => unknown;
  /** Keep every message received (detection scoring). */
  keepAll?: boolean;
  /** Parse only what is needed to match ids (latency bench). */
  fastPath?: boolean;
  /** A request unanswered this long fails with "no answer within …" (default: waits forever). */
  timeoutMs?: number;
}

// The echo server and the proxy's untouched forwarding both start a response like this.
const FAST = /^\{"jsonrpc":"2\.0","id":(\d+),"(result|error)"/;

export class RpcClient {
  readonly proc: ChildProcess;
  readonly received: any[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private carry: Buffer[] = [];
  private readonly waiting = new Map<string | number, Waiter>();
  private nextId = 1;
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;
  /** A request unanswered this long fails with "no answer within …"; may change between requests. */
  timeoutMs: number | undefined;

  constructor(private readonly opts: RpcClientOptions) {
    this.timeoutMs = opts.timeoutMs;
    this.proc = spawn(opts.command, opts.args, { env: opts.env as NodeJS.ProcessEnv, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (c: Buffer) => this.onData(c));
    this.proc.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-8192);
    });
    this.proc.stdin!.on('error', () => {});
    // 'close', not 'exit': the last answers may still be in the stdout pipe when the process exits.
    this.exited = new Promise((r) => this.proc.once('close', (code) => r(code)));
    this.exited.then(() => this.failAll(`process exited${this.stderr ? ': ' + this.stderr.trim().split('\n').slice(-3).join(' | ') : ''}`));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  /** Send a request with a fresh numeric id (or the given one) and wait for its answer. */
  request(method: string, params?: unknown, id?: string | number): Promise<RpcReply> {
    const rid = id ?? this.nextId++;
    return this.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: rid, method, params }), rid);
  }

  /** Send a pre-serialised request line (no newline) whose id is `id`. */
  sendRaw(line: string, id: string | number): Promise<RpcReply> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ ok: false, us: 0, msg: { error: { code: -1, message: 'client closed' } } });
      this.waiting.set(id, { sent: performance.now(), resolve });
      this.proc.stdin!.write(line + '\n');
      if (this.timeoutMs && !this.sweeper) this.sweeper = setInterval(this.sweep, 250).unref();
    });
  }

  notify(method: string, params?: unknown): void {
    this.proc.stdin!.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
  }

  /** Write any line (for malformed-input cases). */
  writeLine(line: string): void {
    this.proc.stdin!.write(line + '\n');
  }

  /** The MCP handshake. */
  async initialize(capabilities: Record<string, unknown> = {}): Promise<RpcReply> {
    const r = await this.request('initialize', { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'mcp-guard-bench', version: '1.0.0' } }, 'init');
    if (r.ok) this.notify('notifications/initialized');
    return r;
  }

  /** The 2026 era's opening: `server/discover` with the per-request envelope (no handshake state). */
  async discover(): Promise<RpcReply> {
    return this.request('server/discover', { _meta: modernMeta() }, 'init');
  }

  allocId(): number {
    return this.nextId++;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.proc.stdin!.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }

  /** Fails the requests older than timeoutMs: the oldest come first in the map (insertion order). */
  private readonly sweep = (): void => {
    const limit = performance.now() - (this.timeoutMs ?? Infinity);
    for (const [id, w] of this.waiting) {
      if (w.sent > limit) return;
      this.waiting.delete(id);
      w.resolve({ ok: false, us: 0, msg: { error: { code: -1, message: `no answer within ${this.timeoutMs! / 1000} s` } } });
    }
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  };

  private failAll(why: string): void {
    clearInterval(this.sweeper);
    this.closed = true;
    for (const w of this.waiting.values()) w.resolve({ ok: false, us: 0, msg: { error: { code: -1, message: why } } });
    this.waiting.clear();
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) !== -1) {
      let line = chunk.subarray(start, nl);
      if (this.carry.length) {
        line = Buffer.concat([...this.carry, line]);
        this.carry = [];
      }
      start = nl + 1;
      if (line.length) this.onLine(line, now);
    }
    if (start < chunk.length) this.carry.push(chunk.subarray(start));
  }

  private onLine(line: Buffer, now: number): void {
    if (this.opts.fastPath) {
      const m = FAST.exec(line.subarray(0, 64).toString('latin1'));
      if (m && m[2] === 'result') {
        const w = this.waiting.get(Number(m[1]));
        if (w) {
          this.waiting.delete(Number(m[1]));
          w.resolve({ ok: true, us: (now - w.sent) * 1000 });
          return;
        }
      }
    }
    let msg: any;
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch {
      if (this.opts.keepAll) this.received.push({ unparsable: line.toString('utf8') });
      return;
    }
    if (this.opts.keepAll) this.received.push(msg);
    if (msg && typeof msg.method === 'string') {
      if (msg.id !== undefined && msg.id !== null) this.answerServer(msg);
      return;
    }
    const w = msg ? this.waiting.get(msg.id) : undefined;
    if (!w) return;
    this.waiting.delete(msg.id);
    w.resolve({ msg, ok: msg.error === undefined, us: (now - w.sent) * 1000 });
  }

  private answerServer(msg: any): void {
    let out: unknown;
    try {
      const result = this.opts.onServerRequest ? this.opts.onServerRequest(msg) : undefined;
      if (result === undefined) out = { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'not supported by the bench client' } };
      else out = { jsonrpc: '2.0', id: msg.id, result };
    } catch (err) {
      const e = err as { code?: number; message?: string };
      out = { jsonrpc: '2.0', id: msg.id, error: { code: e.code ?? -32603, message: e.message ?? 'error' } };
    }
    this.proc.stdin!.write(JSON.stringify(out) + '\n');
  }
}

/** The `_meta` envelope every 2026-era request carries (ERAS.md). */
export function modernMeta(): Record<string, unknown> {
  return {
    [PROTOCOL_VERSION_KEY]: MODERN_VERSIONS[0],
    [CLIENT_CAPABILITIES_KEY]: {},
    'io.modelcontextprotocol/clientInfo': { name: 'mcp-guard-bench', version: '1.0.0' },
  };
}
