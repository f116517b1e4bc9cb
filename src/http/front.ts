// The Streamable HTTP front (MCP spec 2025-06-18, "Streamable HTTP"): remote clients reach a
// configured server at /mcp/<server>. Each Mcp-Session-Id maps onto one daemon Session, so HTTP
// clients go through the same inspection path as bridge clients. This file owns the listener, the
// routing of a request (checks in origin.ts, the caller in front-auth.ts), the session table with
// its limits and idle reaping; one session's streams are http-session.ts.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import type { Logger } from '../protocol/log.js';
import type { Identity } from '../protocol/identity.js';
import type { ClientLink } from '../session/session.js';
import {
  BadTransport,
  GuardError,
  InternalError,
  InvalidRequest,
  MessageTooLarge,
  ParseError,
  SessionNotFound,
  UnknownServer,
  UpstreamUnavailable,
} from '../protocol/errors.js';
import { FrontAuth, type FrontAuthenticator } from './front-auth.js';
import { HttpSession, type FrontSession, type SessionOwner } from './http-session.js';
import { checkHost, checkOrigin, isLoopbackHost, parseListen } from './origin.js';
import { accepts, header, readBody, sendRefusal } from './request.js';
import { StatelessRoutes, isModernRequest } from './stateless.js';
import { MODERN_VERSIONS } from '../protocol/era.js';



/** What the front needs of the daemon: Daemon.openSession. */
export interface SessionOpener {
  openSession(server: string, identity: Identity, link: ClientLink, front: 'http'): FrontSession;
}


export interface HttpFrontOptions {
  daemon: SessionOpener;
  /** The current config (a getter, so that reloads apply to new requests). */
  config: () => Config;
  authenticate: FrontAuthenticator;
  log: Logger;
}

export interface HttpFront {
  readonly address: { host: string; port: number };
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Open HTTP sessions. */
  readonly sessions: number;
  close(): Promise<void>;
}

export const SUPPORTED_PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
const SESSION_HEADER = 'mcp-session-id';
const PING_INTERVAL_MS = 25_000;

// ---- the front ----------------------------------------------------------------------------

export async function startHttpFront(opts: HttpFrontOptions): Promise<HttpFront> {
  const front = new Front(opts);
  await front.listen();
  return front;
}

class Front implements HttpFront, SessionOwner {
  private server!: Server;
  private readonly table = new Map<string, HttpSession>();
  private reaper?: NodeJS.Timeout;
  private pinger?: NodeJS.Timeout;
  private closing = false;
  private loopback = true;
  private tls = false;
  address = { host: '', port: 0 };

  private readonly auth: FrontAuth;
  /** 2026-era requests: stateless, one route per caller and server. */
  private readonly modern: StatelessRoutes;

  constructor(readonly opts: HttpFrontOptions) {
    this.auth = new FrontAuth({ config: opts.config, authenticate: opts.authenticate, log: opts.log, baseUrl: (req) => this.baseUrl(req) });
    this.modern = new StatelessRoutes({ openSession: (server, identity, link) => opts.daemon.openSession(server, identity, link, 'http'), log: opts.log });
  }

  get log(): Logger {
    return this.opts.log;
  }

  get http() {
    const h = this.opts.config().daemon.http;
    if (!h) throw new Error('daemon.http is not configured');
    return h;
  }

  get sessions(): number {
    return this.table.size + this.modern.size;
  }

  get url(): string {
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `${this.tls ? 'https' : 'http'}://${host}:${this.address.port}`;
  }

  async listen(): Promise<void> {
    const cfg = this.opts.config();
    const http = this.http;
    const { host, port } = parseListen(http.listen);
    this.loopback = isLoopbackHost(host);
    if (!this.loopback && cfg.auth.mode === 'os') {
      throw new Error(
        `daemon.http.listen is ${http.listen}, beyond loopback, but auth.mode is 'os': remote callers cannot be identified. ` +
          `Set auth.mode to api_key or oauth, or listen on 127.0.0.1.`,
      );
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err) => {
        this.opts.log.error('http front: request failed', { error: (err as Error).message });
        if (!res.headersSent) sendRefusal(res, null, new InternalError());
        else res.destroy();
      });
    };
    // Slowloris bounds: a request (headers and body) must arrive in full within request_timeout_s,
    // or Node answers 408 and closes the connection. It bounds receiving the request only: a long
    // SSE response is not cut. Node checks every connectionsCheckingInterval, so keep that short.
    const requestMs = http.request_timeout_s * 1000;
    const limits = { requestTimeout: requestMs, headersTimeout: Math.min(20_000, requestMs), connectionsCheckingInterval: Math.max(250, Math.min(1000, requestMs / 4)) };
    if (http.tls) {
      this.tls = true;
      this.server = createHttpsServer({ cert: readFileSync(http.tls.cert), key: readFileSync(http.tls.key), ...limits }, handler);
    } else {
      if (!this.loopback) this.opts.log.warn('http front listens beyond loopback without TLS; put it behind a TLS terminator', { listen: http.listen });
      this.server = createHttpServer(limits, handler);
    }
    // Longer than any client's idle keep-alive (undici: 4 s), so the client always closes an idle
    // connection first and never sends a request onto a socket we are closing (ECONNRESET).
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.opts.log.error('http front error', { error: err.message }));
    const a = this.server.address() as AddressInfo;
    this.address = { host: a.address, port: a.port };
    const idleMs = http.idle_timeout_s * 1000;
    this.reaper = setInterval(() => this.reap(), Math.max(100, Math.min(idleMs / 4, 30_000)));
    this.reaper.unref();
    this.pinger = setInterval(() => {
      for (const s of this.table.values()) s.ping();
      this.modern.ping();
    }, PING_INTERVAL_MS);
    this.pinger.unref();
    this.opts.log.info('http front listening', { url: this.url, auth: cfg.auth.mode });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.reaper);
    clearInterval(this.pinger);
    const ending = [...this.table.values()].map((s) => this.end(s, 'daemon stopping'));
    await Promise.allSettled([...ending, this.modern.closeAll('daemon stopping')]);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private reap(): void {
    // idle_timeout_s is in seconds, the ages below in milliseconds.
    const idleMs = (this.opts.config().daemon.http?.idle_timeout_s ?? 600) * 1000;
    const now = Date.now();
    for (const s of this.table.values()) {
      if (s.idleSince(now) > idleMs) {
        this.opts.log.info('http session reaped after idle timeout', { session: s.id, idleS: idleMs / 1000 });
        void this.end(s, `idle for more than ${idleMs / 1000} s`);
      }
    }
    this.modern.reap(now, idleMs);
  }

  async end(s: HttpSession, reason: string): Promise<void> {
    if (this.table.get(s.id) === s) this.table.delete(s.id);
    await s.end(reason);
  }

  // ---- request handling -------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front');
    try {
      checkHost(req, this.loopback, this.http.allowed_origins);
      const origin = checkOrigin(req, this.http.allowed_origins);
      if (origin) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Vary', 'Origin');
        res.setHeader('Access-Control-Expose-Headers', 'Mcp-Session-Id, WWW-Authenticate');
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
      const path = url.pathname;
      const wk = '/.well-known/oauth-protected-resource';
      if (path === wk || path.startsWith(wk + '/')) return this.auth.resourceMetadata(req, res, path.slice(wk.length));
      const m = /^\/mcp\/([^/]+)\/?$/.exec(path);
      if (!m) throw new BadTransport(404, 'no such endpoint; MCP servers are at /mcp/<server>');
      let server: string;
      try {
        server = decodeURIComponent(m[1]!);
      } catch {
        throw new BadTransport(404, 'bad server name');
      }
      await this.mcp(req, res, server);
    } catch (err) {
      if (err instanceof GuardError) {
        if (res.headersSent) return void res.destroy();
        return sendRefusal(res, null, err);
      }
      throw err;
    }
  }

  private baseUrl(req: IncomingMessage): string {
    return `${this.tls ? 'https' : 'http'}://${req.headers.host ?? `${this.address.host}:${this.address.port}`}`;
  }

  private async mcp(req: IncomingMessage, res: ServerResponse, server: string): Promise<void> {
    const cfg = this.opts.config();
    const sid = header(req, SESSION_HEADER);
    const existing = sid ? this.table.get(sid) : undefined;
    // Authenticate first: a caller without a credential learns nothing of which servers exist.
    const { identity, tokenHash } = await this.auth.identify(req, server, existing);
    if (!cfg.servers[server]) throw new UnknownServer(server);
    if (sid && (!existing || existing.server !== server)) throw new SessionNotFound();
    const pv = header(req, 'mcp-protocol-version');
    const modernHeader = pv !== undefined && MODERN_VERSIONS.includes(pv);
    if (!existing && modernHeader && req.method !== 'POST') {
      // 2026-07-28 has no GET stream and no DELETE: every request is its own POST.
      throw new BadTransport(405, `the ${pv} protocol takes only POST`, { Allow: 'POST' });
    }
    if (req.method === 'POST') {
      const got = await this.readMessage(req, res);
      if (!got) return;
      // A 2026 request says so in its body, or in its MCP-Protocol-Version header (then the body must agree).
      if (!existing && (modernHeader || isModernRequest(got.msg))) {
        if (this.closing) throw new UpstreamUnavailable(server, 'mcp-guard is shutting down; retry in a moment');
        if (this.modern.needsRoute(server, identity, tokenHash)) this.checkSessionLimit(server);
        return this.modern.post(req, res, server, identity, tokenHash, got.msg, got.body, got.wantsSse);
      }
      if (pv && !SUPPORTED_PROTOCOL_VERSIONS.includes(pv)) {
        throw new BadTransport(400, `unsupported MCP-Protocol-Version '${pv}' for a session (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}; ${MODERN_VERSIONS.join(', ')} without a session)`);
      }
      return this.post(res, server, identity, tokenHash, got, existing);
    }
    if (pv && !SUPPORTED_PROTOCOL_VERSIONS.includes(pv)) {
      throw new BadTransport(400, `unsupported MCP-Protocol-Version '${pv}' (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
    }
    switch (req.method) {
      case 'GET':
        if (!existing) throw new BadTransport(400, 'GET needs an Mcp-Session-Id; initialize first');
        if (!accepts(req, 'text/event-stream')) throw new BadTransport(406, 'GET must accept text/event-stream');
        return existing.openGet(req, res);
      case 'DELETE':
        if (!existing) throw new BadTransport(400, 'DELETE needs an Mcp-Session-Id');
        await this.end(existing, 'client ended the session');
        res.writeHead(200).end();
        return;
      default:
        throw new BadTransport(405, 'use POST, GET or DELETE', { Allow: 'GET, POST, DELETE' });
    }
  }

  /**
   * A POST body as one JSON-RPC message; a refusal is thrown (answered without an id). Undefined when
   * the connection closed before the body was in: the client left, or request_timeout_s passed and
   * Node answered 408.
   */
  private async readMessage(req: IncomingMessage, res: ServerResponse): Promise<{ msg: any; body: Buffer; wantsSse: boolean } | undefined> {
    const cfg = this.opts.config();
    const limit = Math.min(this.http.max_body_bytes, cfg.daemon.max_message_bytes);
    const ct = (req.headers['content-type'] ?? '').toLowerCase();
    if (!ct.startsWith('application/json')) throw new BadTransport(415, 'Content-Type must be application/json');
    const wantsSse = accepts(req, 'text/event-stream');
    if (!wantsSse && !accepts(req, 'application/json')) throw new BadTransport(406, 'Accept must include application/json and text/event-stream');
    const body = await readBody(req, limit);
    if (body === 'gone') return undefined;
    if (body === 'too-large') {
      res.setHeader('Connection', 'close');
      throw new MessageTooLarge(`message exceeds the ${limit}-byte limit of mcp-guard`, limit);
    }
    let msg: any;
    try {
      msg = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ParseError('Parse error: the body is not valid JSON.');
    }
    if (Array.isArray(msg)) throw new InvalidRequest('JSON-RPC batches are not supported (MCP 2025-06-18).');
    if (msg === null || typeof msg !== 'object') throw new InvalidRequest('not a JSON-RPC message.');
    if (msg.id !== undefined && msg.id !== null && typeof msg.id !== 'string' && typeof msg.id !== 'number') {
      throw new InvalidRequest('id must be a string or a number.');
    }
    return { msg, body, wantsSse };
  }

  private checkSessionLimit(server: string): void {
    if (this.sessions >= this.http.max_sessions) {
      this.opts.log.warn('http front: session limit reached', { max: this.http.max_sessions });
      throw new UpstreamUnavailable(server, `too many HTTP sessions (limit ${this.http.max_sessions}); retry in a moment`);
    }
  }

  private post(res: ServerResponse, server: string, identity: Identity, tokenHash: string, got: { msg: any; body: Buffer; wantsSse: boolean }, existing?: HttpSession): void {
    const { msg, body, wantsSse } = got;
    const id = msg.id;
    const isRequest = typeof msg.method === 'string' && id !== undefined && id !== null;
    const isInit = isRequest && msg.method === 'initialize';
    let s = existing;
    if (!s) {
      if (!isInit) return sendRefusal(res, isRequest ? id : null, new BadTransport(400, 'no Mcp-Session-Id header; send initialize first'));
      if (this.closing) throw new UpstreamUnavailable(server, 'mcp-guard is shutting down; reconnect in a moment');
      this.checkSessionLimit(server);
      s = new HttpSession(randomBytes(24).toString('base64url'), server, identity, tokenHash, this);
      try {
        s.attach(this.opts.daemon.openSession(server, identity, s.link, 'http'));
      } catch (err) {
        if (err instanceof GuardError) throw err;
        this.opts.log.error('http front: session could not open', { server, error: (err as Error).message });
        throw new UpstreamUnavailable(server, 'the session could not be opened; see the daemon log');
      }
      this.table.set(s.id, s);
      this.opts.log.info('http session opened', { session: s.id, server, identity: identity.id });
      const session = s.session;
      void session.start().catch((err) => this.opts.log.error('session start failed', { error: (err as Error).message }));
    } else if (isInit) {
      return sendRefusal(res, id, new InvalidRequest('this session is already initialized.'));
    }
    s.touch();
    res.setHeader('Mcp-Session-Id', s.id);
    if (isRequest) {
      if (!s.openPost(res, id, wantsSse, msg.params?._meta?.progressToken)) return;
    } else {
      res.writeHead(202).end();
    }
    s.session.fromClientLine(body);
  }
}

