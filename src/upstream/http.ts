// Upstreams over HTTP: Streamable HTTP and the older HTTP+SSE transport, through the SDK v2 client
// transports, which speak the era of each message: a 2025 message rides the upstream MCP session
// (initialize, Mcp-Session-Id), a 2026 one is its own POST with MCP-Protocol-Version, Mcp-Method
// and Mcp-Name derived from its body. One upstream per client session. Lines in, JSON objects to
// the SDK; JSON objects from the SDK, lines out. Only the configured upstream token and headers go
// upstream: nothing of the client's own credentials ever reaches this file.
// Back-pressure: the SDK reads its event streams as fast as they come, so while the session is
// paused the body of each event stream is gated: nothing more is read from the socket, and TCP
// slows the upstream down. The backlog is what was sent and whose POST has not completed. A
// message half read is held in memory until its end arrives, so only READING_STREAMS streams may
// go on reading in the middle of an event at once (many answers in flight, each on its own POST
// stream, would otherwise all be read in parallel, up to their whole size).
import { SdkHttpError, SSEClientTransport, StreamableHTTPClientTransport, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../protocol/log.js';
import type { Upstream } from './upstream.js';
import { UpstreamUnavailable, renderError } from '../protocol/errors.js';

/** Event streams that may read on in the middle of an event at once (each holds a partial message). */
const READING_STREAMS = 8;

/** The chunk ends an SSE event (a blank line): what was read so far is whole messages. */
function endsEvent(b: Uint8Array): boolean {
  const n = b.length;
  return n >= 2 && b[n - 1] === 0x0a && (b[n - 2] === 0x0a || (n >= 4 && b[n - 2] === 0x0d && b[n - 3] === 0x0a));
}

/** Prefix of the ids of our own liveness pings; their answers never reach the session. */
const PROBE_PREFIX = 'mcp-guard-probe-';

type Kind = 'streamable-http' | 'sse';

export class HttpUpstream implements Upstream {
  onLine: (line: Buffer) => void = () => {};
  onClose: (reason: string) => void = () => {};
  onDrain: () => void = () => {};
  /** While paused: the promise event-stream bodies wait on before each read. */
  private gate?: { promise: Promise<void>; open: () => void };
  private sending = 0;
  /** Streams reading in the middle of an event, and those waiting for their turn to. */
  private midEvent = 0;
  private readonly turnWaiters: (() => void)[] = [];
  private transport?: Transport;
  private closed = false;
  private gone = false;
  /** Until the upstream answered `initialize` (and so gave us its session id), later sends wait. */
  private initialised?: Promise<void>;
  private probeSeq = 0;
  private probing = false;
  private readonly url: URL;

  constructor(
    readonly server: string,
    private readonly kind: Kind,
    private readonly cfg: ServerConfig,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.url = new URL(cfg.url!);
  }

  /** Headers sent upstream: the configured ones, then the upstream's own bearer token. */
  private headers(): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.cfg.headers ?? {})) {
      // Hop-by-hop and framing headers are the transport's business, not the config's.
      if (/^(host|content-length|content-type|accept|connection|transfer-encoding|mcp-session-id)$/i.test(k)) continue;
      h[k] = v;
    }
    if (this.cfg.upstream_auth_token) h['Authorization'] = `Bearer ${this.cfg.upstream_auth_token}`;
    return h;
  }

  async start(): Promise<void> {
    const requestInit: RequestInit = { headers: this.headers() };
    const fetch: typeof globalThis.fetch = async (url, init) => this.gated(await retryOnReset(url, init), init?.method === 'GET');
    const t: Transport =
      this.kind === 'sse'
        ? new SSEClientTransport(this.url, { requestInit, fetch })
        : new StreamableHTTPClientTransport(this.url, {
            requestInit,
            fetch,
            // GET stream resumption (Last-Event-ID) when the server supports it; the SDK gives up
            // after maxRetries and reports an error, which ends this upstream.
            reconnectionOptions: { initialReconnectionDelay: 500, maxReconnectionDelay: 5000, reconnectionDelayGrowFactor: 1.5, maxRetries: 3 },
          });
    this.transport = t;
    t.onmessage = (m) => this.fromUpstream(m);
    t.onerror = (err) => this.transportError(err);
    t.onclose = () => this.lost('the connection was closed');
    const timeout = this.cfg.connect_timeout_ms;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Streamable HTTP start() makes no request (the first POST does); SSE start() opens the stream.
      await Promise.race([
        t.start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no connection to ${this.url.origin} within ${timeout} ms`)), timeout);
        }),
      ]);
    } catch (err) {
      this.gone = true;
      await t.close().catch(() => {});
      throw new Error(`cannot connect to ${this.url.origin}: ${describe(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  send(line: Buffer): void {
    if (this.closed || this.gone || !this.transport) return;
    let msg: any;
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch {
      return; // the session only forwards messages it parsed; nothing to do with a broken one
    }
    const isInit = msg && msg.method === 'initialize' && msg.id !== undefined;
    const bytes = line.length;
    this.sending += bytes;
    const sent = () => {
      this.sending -= bytes;
      this.onDrain();
    };
    if (isInit) {
      const p = this.post(msg, true).finally(sent);
      this.initialised = p.then(
        () => {},
        () => {},
      );
      return;
    }
    if (this.initialised) {
      void this.initialised.then(() => this.post(msg, false)).finally(sent);
    } else {
      void this.post(msg, false).finally(sent);
    }
  }

  pause(): void {
    if (this.gate) return;
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    this.gate = { promise, open };
  }

  resume(): void {
    const g = this.gate;
    this.gate = undefined;
    g?.open();
  }

  get backlog(): number {
    return this.sending;
  }

  /**
   * An event-stream response whose body is read only while the session is not paused, and, in the
   * middle of an event, only with one of READING_STREAMS turns. The standalone GET stream (one,
   * long-lived) needs no turn.
   */
  private gated(res: Response, standalone: boolean): Response {
    if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) return res;
    const reader = res.body.getReader();
    let mid = false;
    let turn = false;
    const leave = () => {
      if (!turn) return;
      turn = false;
      this.midEvent--;
      this.turnWaiters.shift()?.();
    };
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (ctrl) => {
          while (this.gate) await this.gate.promise;
          if (mid && !turn && !standalone) {
            while (this.midEvent >= READING_STREAMS) await new Promise<void>((r) => this.turnWaiters.push(r));
            this.midEvent++;
            turn = true;
          }
          let r: Awaited<ReturnType<typeof reader.read>>;
          try {
            r = await reader.read();
          } catch (err) {
            leave();
            throw err;
          }
          if (r.done) {
            leave();
            ctrl.close();
            return;
          }
          ctrl.enqueue(r.value);
          mid = !endsEvent(r.value);
          if (!mid) leave();
        },
        cancel: (reason) => {
          leave();
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  /** One POST; the connect timeout bounds the first one (the upstream's answer to `initialize`). */
  private async post(msg: any, first: boolean): Promise<void> {
    const t = this.transport;
    if (!t || this.closed || this.gone) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const sent = t.send(msg as JSONRPCMessage);
      if (first) {
        const ms = this.cfg.connect_timeout_ms;
        await Promise.race([
          sent,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer from ${this.url.origin} within ${ms} ms`)), ms);
          }),
        ]);
      } else {
        await sent;
      }
    } catch (err) {
      if (this.closed || this.gone) return;
      const status = err instanceof SdkHttpError ? err.status : undefined;
      // A 2026 server answers its own refusals with an HTTP status and a JSON-RPC error for the
      // request (404 and -32601 for a method it does not have): that is the answer, not a failure.
      const answered = status !== undefined && msg.id !== undefined ? jsonRpcErrorFor(msg.id, (err as SdkHttpError).data?.text) : undefined;
      if (answered) return this.onLine(answered);
      if (status === 404 && t instanceof StreamableHTTPClientTransport && t.sessionId) {
        return this.lost('the upstream ended the MCP session (it may have restarted)');
      }
      if (status !== undefined && status >= 400 && status < 500 && status !== 404 && msg.id !== undefined && msg.method !== undefined) {
        // The upstream refused this one request (e.g. 400, 401, 413): answer it, keep the session.
        return this.answer(msg.id, `the upstream refused the request with HTTP ${status}`);
      }
      this.lost(describe(err));
    } finally {
      clearTimeout(timer);
    }
  }

  private answer(id: string | number, why: string): void {
    this.onLine(renderError(id, new UpstreamUnavailable(this.server, why)));
  }

  private fromUpstream(m: JSONRPCMessage): void {
    if (this.closed || this.gone) return;
    const any = m as any;
    if (typeof any.id === 'string' && any.id.startsWith(PROBE_PREFIX) && any.method === undefined) return;
    if (any.result && typeof any.result.protocolVersion === 'string' && this.transport instanceof StreamableHTTPClientTransport) {
      // Later requests carry MCP-Protocol-Version, as the SDK client would set it after initialize.
      this.transport.setProtocolVersion(any.result.protocolVersion);
    }
    const line = Buffer.from(JSON.stringify(m));
    if (line.length > this.maxBytes) {
      this.log.warn('upstream sent an oversized message; dropped', { bytes: line.length, limit: this.maxBytes });
      return;
    }
    this.onLine(line);
  }

  /**
   * The SDK reports stream trouble through onerror without saying whether the session survived.
   * SSE: a lost event stream is a lost session. Streamable HTTP: the SDK retries the GET stream and
   * finally gives up; a broken POST stream is checked with a ping (a dead or restarted upstream fails it).
   */
  private transportError(err: Error): void {
    if (this.closed || this.gone) return;
    const text = describe(err);
    this.log.debug('upstream transport error', { error: text });
    if (this.kind === 'sse') return this.lost(`the event stream failed: ${text}`);
    if (/Maximum reconnection attempts|Failed to reconnect/i.test(text)) return this.lost(`the event stream could not be resumed: ${text}`);
    if (/SSE stream disconnected|terminated|fetch failed|ECONNRE/i.test(text)) this.probe();
  }

  private probe(): void {
    if (this.probing || !this.transport) return;
    this.probing = true;
    const id = PROBE_PREFIX + this.probeSeq++;
    void this.post({ jsonrpc: '2.0', id, method: 'ping' }, false).finally(() => (this.probing = false));
  }

  private lost(why: string): void {
    if (this.closed || this.gone) return;
    this.gone = true;
    this.log.warn('upstream connection lost', { url: this.url.origin, reason: why });
    void this.transport?.close().catch(() => {});
    this.onClose(why);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const t = this.transport;
    if (!t) return;
    if (t instanceof StreamableHTTPClientTransport && t.sessionId && !this.gone) {
      // End the upstream session explicitly so the server frees it (best effort, bounded).
      await Promise.race([t.terminateSession().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    }
    await t.close().catch(() => {});
  }
}

/**
 * fetch, retried once when a reused keep-alive connection turns out to have been closed by the
 * server (ECONNRESET / socket closed before any response). The server closed that socket while it
 * was idle, so it never saw the request; a second try on a fresh connection is safe.
 */
const retryOnReset: typeof fetch = async (url, init) => {
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if ((code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') && !init?.signal?.aborted) return fetch(url, init);
    throw err;
  }
};

/** The body of an HTTP error when it is a JSON-RPC error response to request `id`, as a line. */
function jsonRpcErrorFor(id: string | number, text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !text.startsWith('{')) return undefined;
  try {
    const m = JSON.parse(text);
    if (m?.jsonrpc === '2.0' && m.id === id && m.error && typeof m.error.code === 'number') return Buffer.from(text);
  } catch {
    /* not JSON */
  }
  return undefined;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${err.message} (${cause.code})`;
  return err.message;
}
