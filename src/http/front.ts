// The Streamable HTTP front (MCP spec 2025-06-18, "Streamable HTTP"): remote clients reach a
// configured server at /mcp/<server>. Each Mcp-Session-Id maps onto one daemon Session, so HTTP
// clients go through the same inspection path as bridge clients. Owns: Host/Origin checks against
// DNS rebinding, bearer authentication, session table with limits and idle reaping, and routing of
// the session's output: a response to the POST that carried its request, everything else to the
// GET stream (buffered, bounded, until the client opens one).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OsAuthenticator } from '../identity/os.js';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import type { Logger } from '../protocol/log.js';
import type { Identity } from '../protocol/identity.js';
import type { Credentials } from '../protocol/hello.js';
import type { ClientLink } from '../session/session.js';
import { idKey } from '../protocol/message.js';
import {
  BadTransport,
  DuplicateId,
  GuardError,
  InternalError,
  InvalidRequest,
  MessageTooLarge,
  NotAuthenticated,
  ParseError,
  SessionNotFound,
  UnknownServer,
  UpstreamUnavailable,
  renderError,
  type JsonRpcId,
} from '../protocol/errors.js';
import { bearerOf, sameSecret } from './token.js';

/** What the front needs of a daemon session. */
export interface FrontSession {
  readonly info: { id: string };
  fromClientLine(line: Buffer): void;
  start(): Promise<void>;
  close(reason: string): Promise<void>;
}

/** What the front needs of the daemon: Daemon.openSession. */
export interface SessionOpener {
  openSession(server: string, identity: Identity, link: ClientLink, front: 'http'): FrontSession;
}

/** Turns a bearer credential into an identity; throws (message for the client) when it is not valid. */
export type FrontAuthenticator = (req: { credentials: Credentials; server: string; remoteAddress?: string }) => Promise<Identity>;

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
/** Messages held for a client that has no GET stream open yet. */
const BACKLOG_MAX_MESSAGES = 1000;
const BACKLOG_MAX_BYTES = 8 * 1024 * 1024;
/** GET stream events kept for resumption with Last-Event-ID. */
const HISTORY_MAX = 256;
const PING_INTERVAL_MS = 25_000;

// ---- helpers shared with the daemon wiring ------------------------------------------------

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new Error(`daemon.http.listen '${listen}' is not host:port (e.g. 127.0.0.1:8080)`);
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`daemon.http.listen '${listen}': port out of range`);
  return { host: host || '0.0.0.0', port };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * The default authenticator for the front. In `os` mode a TCP peer cannot be identified by the
 * kernel, so the caller proves it is the daemon's user by presenting the dashboard token (0600,
 * readable by that user only). In `api_key` and `oauth` modes the identity module decides.
 */
export function frontAuthenticator(opts: {
  config: () => Config;
  dashboardToken: string;
  identity?: (req: { credentials: Credentials; server: string }) => Promise<Identity>;
}): FrontAuthenticator {
  return async ({ credentials, server }) => {
    const auth = opts.config().auth;
    const presented = credentials.apiKey ?? credentials.token;
    if (auth.mode === 'os') {
      if (!sameSecret(presented, opts.dashboardToken)) throw new Error('invalid token (in auth mode os the HTTP front takes the dashboard token)');
      // The token proves the caller is the daemon's own user: it gets exactly the roles the bridge
      // would give that user (users by name or uid, and groups), never fewer.
      const uid = process.getuid?.() ?? -1;
      const gid = process.getgid?.() ?? -1;
      return new OsAuthenticator(auth, uid).identify({ uid, gid });
    }
    if (!opts.identity) throw new Error(`auth mode '${auth.mode}' is not available in this build`);
    return opts.identity({ credentials, server });
  };
}

/** Credentials for the identity module from a bearer value, by auth mode. */
export function credentialsFor(mode: Config['auth']['mode'], bearer: string): Credentials {
  return mode === 'oauth' ? { token: bearer } : { apiKey: bearer };
}

// ---- the front ----------------------------------------------------------------------------

export async function startHttpFront(opts: HttpFrontOptions): Promise<HttpFront> {
  const front = new Front(opts);
  await front.listen();
  return front;
}

class Front implements HttpFront {
  private server!: Server;
  private readonly table = new Map<string, HttpSession>();
  private reaper?: NodeJS.Timeout;
  private pinger?: NodeJS.Timeout;
  private closing = false;
  private loopback = true;
  private tls = false;
  address = { host: '', port: 0 };

  constructor(readonly opts: HttpFrontOptions) {}

  get http() {
    const h = this.opts.config().daemon.http;
    if (!h) throw new Error('daemon.http is not configured');
    return h;
  }

  get sessions(): number {
    return this.table.size;
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
    await Promise.allSettled(ending);
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
  }

  async end(s: HttpSession, reason: string): Promise<void> {
    if (this.table.get(s.id) === s) this.table.delete(s.id);
    await s.end(reason);
  }

  // ---- request handling -------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front');
    try {
      this.checkHost(req);
      const origin = this.checkOrigin(req);
      if (origin) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Vary', 'Origin');
        res.setHeader('Access-Control-Expose-Headers', 'Mcp-Session-Id, WWW-Authenticate');
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
      const path = url.pathname;
      const wk = '/.well-known/oauth-protected-resource';
      if (path === wk || path.startsWith(wk + '/')) return this.resourceMetadata(req, res, path.slice(wk.length));
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

  /** DNS rebinding: on a loopback listener, a request must name a loopback host (or an allowed one). */
  private checkHost(req: IncomingMessage): void {
    if (!this.loopback) return;
    const host = req.headers.host;
    if (!host) throw new BadTransport(400, 'missing Host header');
    let hostname: string;
    try {
      hostname = new URL(`http://${host}`).hostname;
    } catch {
      throw new BadTransport(400, 'bad Host header');
    }
    if (isLoopbackHost(hostname)) return;
    for (const o of this.http.allowed_origins) {
      try {
        if (new URL(o).host === host) return;
      } catch {
        /* not a URL: ignore */
      }
    }
    throw new BadTransport(403, `Host '${host}' is not allowed on a loopback listener (DNS rebinding protection); add its origin to daemon.http.allowed_origins`);
  }

  /** Returns the origin to echo for CORS when it is allowed and cross-origin; throws 403 otherwise. */
  private checkOrigin(req: IncomingMessage): string | undefined {
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    if (this.http.allowed_origins.includes(origin)) return origin;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      throw new BadTransport(403, `Origin '${origin}' is not allowed`);
    }
    if (u.host === req.headers.host) return undefined; // same origin
    if (isLoopbackHost(u.hostname)) return origin;
    throw new BadTransport(403, `Origin '${origin}' is not allowed; add it to daemon.http.allowed_origins`);
  }

  private baseUrl(req: IncomingMessage): string {
    return `${this.tls ? 'https' : 'http'}://${req.headers.host ?? `${this.address.host}:${this.address.port}`}`;
  }

  /** RFC 9728 protected-resource metadata, published when OAuth is on. */
  private resourceMetadata(req: IncomingMessage, res: ServerResponse, suffix: string): void {
    const cfg = this.opts.config();
    if (cfg.auth.mode !== 'oauth' || !cfg.auth.oauth) throw new BadTransport(404, 'OAuth is not enabled on this mcp-guard');
    if (req.method !== 'GET') throw new BadTransport(405, 'use GET', { Allow: 'GET' });
    const m = /^\/mcp\/([^/]+)\/?$/.exec(suffix);
    // The same answer for every server name: metadata is public, and must not tell which servers exist.
    if (suffix && suffix !== '/' && !m) throw new BadTransport(404, 'no such resource');
    const base = this.baseUrl(req);
    const body = {
      resource: m ? `${base}/mcp/${m[1]}` : base,
      authorization_servers: [cfg.auth.oauth.issuer],
      scopes_supported: cfg.auth.oauth.scopes,
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-guard',
    };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    res.end(JSON.stringify(body));
  }

  private challenge(req: IncomingMessage, server: string, error?: string): Record<string, string> {
    const cfg = this.opts.config();
    const parts = ['Bearer realm="mcp-guard"'];
    if (error) parts.push(`error="${error}"`);
    if (cfg.auth.mode === 'oauth') {
      parts.push(`resource_metadata="${this.baseUrl(req)}/.well-known/oauth-protected-resource/mcp/${encodeURIComponent(server)}"`);
      if (cfg.auth.oauth?.scopes.length) parts.push(`scope="${cfg.auth.oauth.scopes.join(' ')}"`);
    }
    return { 'WWW-Authenticate': parts.join(', ') };
  }

  private async identify(req: IncomingMessage, server: string, existing?: HttpSession): Promise<{ identity: Identity; tokenHash: string }> {
    const bearer = bearerOf(req.headers.authorization);
    if (!bearer) throw new NotAuthenticated('authentication required: send Authorization: Bearer <token>', { headers: this.challenge(req, server) });
    const tokenHash = createHash('sha256').update(bearer).digest('hex');
    // The token that opened a session is not re-verified on every request of that session.
    if (existing && existing.tokenHash === tokenHash) return { identity: existing.identity, tokenHash };
    const mode = this.opts.config().auth.mode;
    let identity: Identity;
    try {
      identity = await this.opts.authenticate({ credentials: credentialsFor(mode, bearer), server, remoteAddress: req.socket.remoteAddress });
    } catch (err) {
      const e = err as { status?: number; message: string };
      if (e.status === 403) throw new NotAuthenticated(`not authorised for server '${server}': ${e.message}`, { forbidden: true });
      this.opts.log.warn('http front: authentication failed', { server, remote: req.socket.remoteAddress, reason: e.message });
      throw new NotAuthenticated(`authentication failed: ${e.message}`, { headers: this.challenge(req, server, 'invalid_token') });
    }
    if (existing && existing.identity.id !== identity.id) throw new SessionNotFound();
    return { identity, tokenHash };
  }

  private async mcp(req: IncomingMessage, res: ServerResponse, server: string): Promise<void> {
    const cfg = this.opts.config();
    const sid = header(req, SESSION_HEADER);
    const existing = sid ? this.table.get(sid) : undefined;
    // Authenticate first: a caller without a credential learns nothing of which servers exist.
    const { identity, tokenHash } = await this.identify(req, server, existing);
    if (!cfg.servers[server]) throw new UnknownServer(server);
    if (sid && (!existing || existing.server !== server)) throw new SessionNotFound();
    const pv = header(req, 'mcp-protocol-version');
    if (pv && !SUPPORTED_PROTOCOL_VERSIONS.includes(pv)) {
      throw new BadTransport(400, `unsupported MCP-Protocol-Version '${pv}' (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
    }
    switch (req.method) {
      case 'POST':
        return this.post(req, res, server, identity, tokenHash, existing);
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

  private async post(req: IncomingMessage, res: ServerResponse, server: string, identity: Identity, tokenHash: string, existing?: HttpSession): Promise<void> {
    const cfg = this.opts.config();
    const limit = Math.min(this.http.max_body_bytes, cfg.daemon.max_message_bytes);
    const ct = (req.headers['content-type'] ?? '').toLowerCase();
    if (!ct.startsWith('application/json')) throw new BadTransport(415, 'Content-Type must be application/json');
    const wantsSse = accepts(req, 'text/event-stream');
    if (!wantsSse && !accepts(req, 'application/json')) throw new BadTransport(406, 'Accept must include application/json and text/event-stream');
    const body = await readBody(req, limit);
    if (body === 'gone') return; // the client went away, or took longer than request_timeout_s (Node answered 408)
    if (body === 'too-large') {
      res.setHeader('Connection', 'close');
      return sendRefusal(res, null, new MessageTooLarge(`message exceeds the ${limit}-byte limit of mcp-guard`, limit));
    }
    let msg: any;
    try {
      msg = JSON.parse(body.toString('utf8'));
    } catch {
      return sendRefusal(res, null, new ParseError('Parse error: the body is not valid JSON.'));
    }
    if (Array.isArray(msg)) return sendRefusal(res, null, new InvalidRequest('JSON-RPC batches are not supported (MCP 2025-06-18).'));
    if (msg === null || typeof msg !== 'object') return sendRefusal(res, null, new InvalidRequest('not a JSON-RPC message.'));
    const id = msg.id;
    if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') {
      return sendRefusal(res, null, new InvalidRequest('id must be a string or a number.'));
    }
    const isRequest = typeof msg.method === 'string' && id !== undefined && id !== null;
    const isInit = isRequest && msg.method === 'initialize';
    let s = existing;
    if (!s) {
      if (!isInit) return sendRefusal(res, isRequest ? id : null, new BadTransport(400, 'no Mcp-Session-Id header; send initialize first'));
      if (this.closing) throw new UpstreamUnavailable(server, 'mcp-guard is shutting down; reconnect in a moment');
      if (this.table.size >= this.http.max_sessions) {
        this.opts.log.warn('http front: session limit reached', { max: this.http.max_sessions });
        throw new UpstreamUnavailable(server, `too many HTTP sessions (limit ${this.http.max_sessions}); retry in a moment`);
      }
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

// ---- one HTTP session -----------------------------------------------------------------------

interface PostStream {
  res: ServerResponse;
  key: string;
  sse: boolean;
  progressToken?: string | number;
}

class HttpSession {
  session!: FrontSession;
  readonly link: ClientLink;
  private readonly posts = new Map<string, PostStream>();
  /** Request ids whose POST went away: their responses are dropped (never broadcast elsewhere). */
  private readonly abandoned = new Set<string>();
  private get?: ServerResponse;
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private droppedWarned = false;
  private history: { seq: number; line: Buffer }[] = [];
  private seq = 0;
  private lastActive = Date.now();
  private ended = false;

  constructor(
    readonly id: string,
    readonly server: string,
    readonly identity: Identity,
    readonly tokenHash: string,
    private readonly front: Front,
  ) {
    this.link = {
      send: (line) => this.toClient(line),
      close: () => void this.front.end(this, 'session closed'),
    };
  }

  attach(session: FrontSession): void {
    this.session = session;
  }

  touch(): void {
    this.lastActive = Date.now();
  }

  /** Time since the client last showed any sign of life; 0 while one of its streams is open. */
  idleSince(now: number): number {
    if (this.get || this.posts.size) return 0;
    return now - this.lastActive;
  }

  /** False when the id is already in flight: this POST was refused and the message must not go on. */
  openPost(res: ServerResponse, id: string | number, sse: boolean, progressToken?: string | number): boolean {
    const key = idKey(id);
    if (this.posts.has(key)) {
      sendRefusal(res, id, new DuplicateId(id));
      return false;
    }
    const p: PostStream = { res, key, sse, progressToken };
    this.posts.set(key, p);
    if (sse) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive' });
      res.flushHeaders();
    }
    res.on('close', () => {
      if (this.posts.get(key) === p) {
        this.posts.delete(key);
        if (!res.writableFinished) this.abandoned.add(key);
      }
      this.touch();
    });
    return true;
  }

  openGet(req: IncomingMessage, res: ServerResponse): void {
    if (this.get) {
      sendRefusal(res, null, new BadTransport(409, 'this session already has a GET stream open'));
      return;
    }
    this.touch();
    this.get = res;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'Mcp-Session-Id': this.id });
    res.flushHeaders();
    res.on('close', () => {
      if (this.get === res) this.get = undefined;
      this.touch();
    });
    const last = Number(header(req, 'last-event-id'));
    if (Number.isFinite(last)) {
      for (const e of this.history) if (e.seq > last) writeEvent(res, e.line, e.seq);
    }
    const held = this.backlog;
    this.backlog = [];
    this.backlogBytes = 0;
    for (const l of held) this.toGet(res, l);
  }

  ping(): void {
    if (this.get && !this.get.destroyed) this.get.write(': ping\n\n');
  }

  /** The session's output: a response goes to its POST; anything else to the GET stream. */
  private toClient(line: Buffer): void {
    if (this.ended) return;
    if (this.posts.size || this.abandoned.size) {
      let m: any;
      try {
        m = JSON.parse(line.toString('utf8'));
      } catch {
        m = undefined;
      }
      if (m && m.method === undefined && (typeof m.id === 'string' || typeof m.id === 'number')) {
        const key = idKey(m.id);
        const p = this.posts.get(key);
        if (p) return this.answer(p, line);
        if (this.abandoned.delete(key)) return; // its requester is gone
      } else if (m && typeof m.method === 'string' && m.id === undefined) {
        // Progress for a request goes on that request's stream, as a direct connection would do.
        const tok = m.params?.progressToken;
        if (tok !== undefined) {
          for (const p of this.posts.values()) if (p.sse && p.progressToken === tok) return writeEvent(p.res, line);
        }
      }
    }
    if (this.get && !this.get.destroyed) return this.toGet(this.get, line);
    // No GET stream: a server request or notification may ride on an open POST stream of this session.
    let latest: PostStream | undefined;
    for (const p of this.posts.values()) if (p.sse) latest = p;
    if (latest) return writeEvent(latest.res, line);
    this.hold(line);
  }

  private answer(p: PostStream, line: Buffer): void {
    this.posts.delete(p.key);
    if (p.sse) {
      writeEvent(p.res, line);
      p.res.end();
    } else {
      p.res.writeHead(200, { 'Content-Type': 'application/json' });
      p.res.end(line);
    }
    this.touch();
  }

  private toGet(res: ServerResponse, line: Buffer): void {
    const seq = ++this.seq;
    this.history.push({ seq, line });
    if (this.history.length > HISTORY_MAX) this.history.shift();
    writeEvent(res, line, seq);
  }

  private hold(line: Buffer): void {
    this.backlog.push(line);
    this.backlogBytes += line.length;
    while (this.backlog.length > BACKLOG_MAX_MESSAGES || this.backlogBytes > BACKLOG_MAX_BYTES) {
      const dropped = this.backlog.shift()!;
      this.backlogBytes -= dropped.length;
      if (!this.droppedWarned) {
        this.droppedWarned = true;
        this.front.opts.log.warn('http session: client opened no GET stream; oldest server messages dropped', { session: this.id });
      }
    }
  }

  async end(reason: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    for (const p of this.posts.values()) {
      if (p.sse) p.res.end();
      else if (!p.res.headersSent) sendRefusal(p.res, null, new SessionNotFound(`session ended: ${reason}`));
    }
    this.posts.clear();
    this.get?.end();
    this.get = undefined;
    this.backlog = [];
    this.front.opts.log.info('http session closed', { session: this.id, reason });
    await this.session?.close(reason);
  }
}

// ---- small HTTP pieces ------------------------------------------------------------------------

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function accepts(req: IncomingMessage, type: string): boolean {
  const a = (req.headers.accept ?? '').toLowerCase();
  return a.includes(type) || a.includes('*/*');
}

const EVENT_HEAD = Buffer.from('event: message\ndata: ');
const EVENT_TAIL = Buffer.from('\n\n');

function writeEvent(res: ServerResponse, line: Buffer, seq?: number): void {
  if (res.destroyed || res.writableEnded) return;
  // SSE data must not contain a bare CR or LF; JSON only has them as insignificant whitespace.
  if (line.includes(0x0a) || line.includes(0x0d)) line = Buffer.from(JSON.stringify(JSON.parse(line.toString('utf8'))));
  res.cork();
  if (seq !== undefined) res.write(`id: ${seq}\n`);
  res.write(EVENT_HEAD);
  res.write(line);
  res.write(EVENT_TAIL);
  process.nextTick(() => res.uncork());
}

/** A refusal the front answers itself: the one renderer's body, with the status and headers of its class. */
function sendRefusal(res: ServerResponse, id: JsonRpcId, err: GuardError): void {
  if (res.headersSent) return void res.end();
  res.writeHead(err.status, { ...err.headers, 'Content-Type': 'application/json' });
  res.end(renderError(id, err));
}

/**
 * The request body, or 'too-large' as soon as it passes `limit` (the rest is not read), or 'gone'
 * when the connection closed first (the client left, or the request timed out).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'gone'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      n += c.length;
      if (n > limit) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    // After 'end' this is a no-op (the promise is settled); before it, nothing more will come.
    req.on('close', () => resolve('gone'));
    req.on('error', reject);
  });
}
