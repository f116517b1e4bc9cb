// The 2026-07-28 side of the HTTP front: every POST stands alone (no Mcp-Session-Id, no GET, no
// DELETE). Requests of one identity to one server share one daemon Session (one upstream, one
// policy state, one audit trail), so each request gets an id of its own there (`mg:<n>`) and the
// client's id back on its answer; a progress token likewise. The answer goes on the request's own
// response (JSON, or an SSE stream when the request can have notifications before it), and a
// closed response stream cancels the request upstream. Headers are checked against the body
// before anything else; the policy only ever reads the body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GuardError, HeaderMismatch, InvalidParams, MethodNotFound, UnsupportedProtocolVersion, UpstreamUnavailable, renderError, type JsonRpcId } from '../protocol/errors.js';
import type { Identity } from '../protocol/identity.js';
import type { Logger } from '../protocol/log.js';
import { CLIENT_CAPABILITIES_KEY, MODERN_VERSIONS, PROTOCOL_VERSION_KEY, SUBSCRIPTION_ID_KEY, declaredVersion } from '../protocol/era.js';
import { replaceValue } from '../protocol/splice.js';
import type { OutgoingMeta } from '../protocol/message.js';
import type { ClientLink } from '../session/session.js';
import type { FrontSession } from './http-session.js';
import { header, sendRefusal } from './request.js';
import { writeEvent } from './sse.js';

const LOG_LEVEL_KEY = 'io.modelcontextprotocol/logLevel';
/** Methods whose target the client mirrors into `Mcp-Name` (spec: Standard Request Headers). */
const NAMED: Record<string, 'name' | 'uri'> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/** A 2026 request is one with a `_meta` protocol version (ERAS.md): `initialize` never is. */
export function isModernRequest(msg: any): boolean {
  return msg.method !== 'initialize' && declaredVersion(msg.params) !== undefined;
}

/** The value of a header that may carry the `=?base64?…?=` sentinel (Mcp-Name, Mcp-Param-*), decoded. */
export function decodeHeaderValue(v: string): string {
  const m = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(v);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : v;
}

/** Every 2026 request carries its envelope: the protocol version and the client's capabilities (spec: basic, _meta). */
export function checkEnvelope(msg: any): void {
  if (msg.method === 'initialize') throw new MethodNotFound('initialize is not part of the 2026-07-28 protocol; send server/discover, or any request with its _meta envelope');
  const meta = msg.params?._meta;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new InvalidParams('the request has no _meta envelope (2026-07-28 requires one on every request)');
  if (typeof meta[PROTOCOL_VERSION_KEY] !== 'string') throw new InvalidParams(`_meta has no "${PROTOCOL_VERSION_KEY}"`);
  const caps = meta[CLIENT_CAPABILITIES_KEY];
  if (caps === null || typeof caps !== 'object' || Array.isArray(caps)) throw new InvalidParams(`_meta has no "${CLIENT_CAPABILITIES_KEY}" object`);
}

/** Spec "Server Validation": the mirrored headers must be there and say what the body says. */
export function checkHeaders(req: IncomingMessage, msg: any): void {
  const version = declaredVersion(msg.params)!;
  const pv = header(req, 'mcp-protocol-version');
  if (pv === undefined) throw new HeaderMismatch('the MCP-Protocol-Version header is missing');
  if (pv !== version) throw new HeaderMismatch(`MCP-Protocol-Version header '${pv}' does not match the body's '${version}'`);
  if (typeof msg.method !== 'string') return;
  const method = header(req, 'mcp-method');
  if (method === undefined) throw new HeaderMismatch('the Mcp-Method header is missing');
  if (method !== msg.method) throw new HeaderMismatch(`Mcp-Method header '${method}' does not match the body's method`);
  const field = NAMED[msg.method];
  if (!field) return;
  const raw = header(req, 'mcp-name');
  if (raw === undefined) throw new HeaderMismatch('the Mcp-Name header is missing');
  if (decodeHeaderValue(raw) !== msg.params?.[field]) throw new HeaderMismatch(`Mcp-Name header does not match params.${field}`);
}

interface InFlight {
  res: ServerResponse;
  clientId: string | number;
  /** The client's progress token, when the request carries one (ours replaced it upstream). */
  progressToken?: string | number;
  /** The request asked for log notifications. */
  logs: boolean;
  /** An SSE stream is open (headers sent). */
  sse: boolean;
  listen: boolean;
}

/** One identity's requests to one server: a daemon Session and the requests in flight on it. */
class Route {
  session!: FrontSession;
  readonly link: ClientLink;
  readonly inFlight = new Map<string, InFlight>();
  lastActive = Date.now();
  private seq = 0;
  private ended = false;

  constructor(
    readonly key: string,
    readonly server: string,
    readonly identity: Identity,
    private readonly owner: StatelessRoutes,
  ) {
    const inFlight = this.inFlight;
    this.link = {
      send: (line, meta) => this.toClient(line, meta),
      close: () => void this.owner.end(this, 'session closed'),
      // Back-pressure: what the open response streams hold unsent (see session.ts).
      get backlog() {
        let n = 0;
        for (const f of inFlight.values()) if (f.sse) n += f.res.writableLength;
        return n;
      },
    };
  }

  nextId(): string {
    return `mg:${++this.seq}`;
  }

  /** A request of this route's client: its own id and token become ours, then it enters the session. */
  request(res: ServerResponse, msg: any, body: Buffer, wantsSse: boolean): void {
    const ours = this.nextId();
    let line = replaceValue(body, ['id'], JSON.stringify(ours))!;
    const meta = msg.params?._meta;
    const token = meta?.progressToken;
    const hasToken = typeof token === 'string' || typeof token === 'number';
    if (hasToken) line = replaceValue(line, ['params', '_meta', 'progressToken'], JSON.stringify(ours)) ?? line;
    const listen = msg.method === 'subscriptions/listen';
    const logs = typeof meta?.[LOG_LEVEL_KEY] === 'string';
    // A stream only where something can come before the answer; a plain JSON answer otherwise.
    const sse = wantsSse && (listen || hasToken || logs);
    const f: InFlight = { res, clientId: msg.id, progressToken: hasToken ? token : undefined, logs, sse, listen };
    this.inFlight.set(ours, f);
    if (sse) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
      res.flushHeaders();
      res.on('drain', () => this.link.onDrain?.());
    }
    res.on('close', () => {
      if (sse) this.link.onDrain?.(); // its unsent events are gone with it
      if (this.inFlight.get(ours) !== f) return;
      // The client closed the response stream before the answer: that is the cancellation (spec).
      this.inFlight.delete(ours);
      this.lastActive = Date.now();
      const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: ours, reason: 'the client closed the response stream' } };
      if (!this.ended) this.session.fromClientLine(Buffer.from(JSON.stringify(cancel)));
    });
    this.lastActive = Date.now();
    this.session.fromClientLine(line);
  }

  /** The session's output for this route's client, routed by what the session knew of it (never parsed here). */
  private toClient(line: Buffer, meta: OutgoingMeta): void {
    if (meta.kind === 'response') {
      if (typeof meta.id === 'string' || typeof meta.id === 'number') this.answer(String(meta.id), line);
      return;
    }
    if (meta.kind === 'request') {
      // A server request has no place in the 2026 era (input requests ride in results).
      this.owner.log.warn('2026 session: a server request was dropped', { method: meta.method });
      return;
    }
    const sub = meta.params?._meta?.[SUBSCRIPTION_ID_KEY];
    if (typeof sub === 'string' && this.inFlight.has(sub)) {
      const f = this.inFlight.get(sub)!;
      return this.event(f, replaceValue(line, ['params', '_meta', SUBSCRIPTION_ID_KEY], JSON.stringify(f.clientId)) ?? line);
    }
    const tok = meta.params?.progressToken;
    if (typeof tok === 'string' && this.inFlight.has(tok)) {
      const f = this.inFlight.get(tok)!;
      if (f.progressToken !== undefined) return this.event(f, replaceValue(line, ['params', 'progressToken'], JSON.stringify(f.progressToken)) ?? line);
      return;
    }
    if (meta.method === 'notifications/message') {
      // Request-scoped, with nothing that names its request: it goes to the latest request that
      // asked for logs (all of them this identity's own).
      let to: InFlight | undefined;
      for (const f of this.inFlight.values()) if (f.logs && f.sse) to = f;
      if (to) return this.event(to, line);
    }
  }

  private answer(ours: string, line: Buffer): void {
    const f = this.inFlight.get(ours);
    if (!f) return; // its client went away, or it was never ours
    this.inFlight.delete(ours);
    this.lastActive = Date.now();
    const out = replaceValue(line, ['id'], JSON.stringify(f.clientId)) ?? line;
    if (f.sse) {
      writeEvent(f.res, out);
      f.res.end();
      return;
    }
    if (f.res.headersSent || f.res.destroyed) return;
    f.res.writeHead(statusOf(out), { 'Content-Type': 'application/json' });
    f.res.end(out);
  }

  private event(f: InFlight, line: Buffer): void {
    if (f.sse) writeEvent(f.res, line);
  }

  ping(): void {
    for (const f of this.inFlight.values()) if (f.listen && !f.res.destroyed) f.res.write(': ping\n\n');
  }

  idleSince(now: number): number {
    return this.inFlight.size ? 0 : now - this.lastActive;
  }

  async end(reason: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    for (const f of this.inFlight.values()) {
      const err = new UpstreamUnavailable(this.server, reason);
      if (f.sse) {
        writeEvent(f.res, renderError(f.clientId, err));
        f.res.end();
      } else sendRefusal(f.res, f.clientId, err);
    }
    this.inFlight.clear();
    await this.session?.close(reason);
  }
}

/** The HTTP status of a 2026 answer sent as JSON: the spec gives some errors their own. */
function statusOf(line: Buffer): number {
  const head = line.subarray(0, 200).toString('latin1');
  if (!head.includes('"error"')) return 200;
  const m = /"code"\s*:\s*(-?\d+)/.exec(line.toString('latin1'));
  const code = m ? Number(m[1]) : 0;
  // As the spec's servers answer their own pre-dispatch refusals; anything else stays in-band on 200.
  if (code === -32601) return 404;
  if (code === -32700 || code === -32600 || code === -32020 || code === -32021 || code === -32022) return 400;
  return 200;
}

export interface StatelessOwner {
  openSession(server: string, identity: Identity, link: ClientLink): FrontSession;
  readonly log: Logger;
}

/** The front's 2026 routes, one per (server, identity). */
export class StatelessRoutes {
  private readonly routes = new Map<string, Route>();

  constructor(private readonly owner: StatelessOwner) {}

  get log(): Logger {
    return this.owner.log;
  }

  get size(): number {
    return this.routes.size;
  }

  /** Whether this caller's requests would need a new route (the front counts routes against its session limit). */
  needsRoute(server: string, identity: Identity, tokenHash: string): boolean {
    const r = this.routes.get(routeKey(server, identity, tokenHash));
    return !r || !r.session.available;
  }

  /** One 2026 POST whose body is `msg` (already parsed) and `body` (its bytes). */
  post(req: IncomingMessage, res: ServerResponse, server: string, identity: Identity, tokenHash: string, msg: any, body: Buffer, wantsSse: boolean): void {
    const id: JsonRpcId = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : null;
    try {
      if (typeof msg.method === 'string' && id !== null) checkEnvelope(msg);
      else if (declaredVersion(msg.params) === undefined) throw new InvalidParams('a 2026-07-28 message without its _meta envelope');
      checkHeaders(req, msg);
      const version = declaredVersion(msg.params)!;
      if (!MODERN_VERSIONS.includes(version)) throw new UnsupportedProtocolVersion(version, MODERN_VERSIONS);
    } catch (err) {
      if (err instanceof GuardError) return sendRefusal(res, id, err);
      throw err;
    }
    if (typeof msg.method !== 'string' || id === null) {
      // The 2026 core defines no client notification over HTTP; one is accepted and not passed on
      // (a cancellation is the closing of its request's stream).
      res.writeHead(202).end();
      return;
    }
    const route = this.route(server, identity, tokenHash);
    route.request(res, msg, body, wantsSse);
  }

  private route(server: string, identity: Identity, tokenHash: string): Route {
    const key = routeKey(server, identity, tokenHash);
    const had = this.routes.get(key);
    if (had?.session.available) return had;
    // Its upstream went away (crashed, timed out starting): the next request gets a fresh one.
    if (had) void this.end(had, 'upstream unavailable; replaced');
    const r = new Route(key, server, identity, this);
    r.session = this.owner.openSession(server, identity, r.link);
    this.routes.set(key, r);
    this.owner.log.info('http 2026 route opened', { server, identity: identity.id, session: r.session.info.id });
    void r.session.start().catch((err) => this.owner.log.error('session start failed', { error: (err as Error).message }));
    return r;
  }

  async end(r: Route, reason: string): Promise<void> {
    if (this.routes.get(r.key) === r) this.routes.delete(r.key);
    await r.end(reason);
  }

  reap(now: number, idleMs: number): void {
    for (const r of this.routes.values()) {
      if (r.idleSince(now) > idleMs) void this.end(r, `idle for more than ${idleMs / 1000} s`);
    }
  }

  ping(): void {
    for (const r of this.routes.values()) r.ping();
  }

  async closeAll(reason: string): Promise<void> {
    await Promise.allSettled([...this.routes.values()].map((r) => this.end(r, reason)));
  }
}

// Per credential too: a refreshed token gets a route of its own (with its own expiry), and the
// old one is reaped when idle.
function routeKey(server: string, identity: Identity, tokenHash: string): string {
  return `${server}\u0000${identity.id}\u0000${tokenHash}`;
}
