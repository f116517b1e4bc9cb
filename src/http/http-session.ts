// One 2025-era HTTP session (Mcp-Session-Id) of the Streamable HTTP front, mapped onto one daemon
// Session: a response goes back on the POST that carried its request (JSON or an SSE stream),
// progress on that request's stream, anything else on the GET stream, held (bounded) until the
// client opens one, and replayed from a short history on Last-Event-ID. Back-pressure: what the
// open streams hold unsent is the link's backlog, so a client that stops reading its streams
// makes the daemon session stop reading its upstream instead of buffering without limit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadTransport, DuplicateId, SessionNotFound } from '../protocol/errors.js';
import type { Identity } from '../protocol/identity.js';
import type { Logger } from '../protocol/log.js';
import { idKey, type OutgoingMeta } from '../protocol/message.js';
import type { ClientLink } from '../session/session.js';
import { header, sendRefusal } from './request.js';
import { writeEvent } from './sse.js';

/** Messages held for a client that has no GET stream open yet. */
const BACKLOG_MAX_MESSAGES = 1000;
const BACKLOG_MAX_BYTES = 8 * 1024 * 1024;
/** GET stream events kept for resumption with Last-Event-ID. */
const HISTORY_MAX = 256;

/** What the front needs of a daemon session. */
export interface FrontSession {
  readonly info: { id: string };
  /** False once the upstream is gone or the session closed: nothing more can pass. */
  readonly available: boolean;
  fromClientLine(line: Buffer): void;
  start(): Promise<void>;
  close(reason: string): Promise<void>;
}

/** The front, as its sessions see it. */
export interface SessionOwner {
  end(s: HttpSession, reason: string): Promise<void>;
  readonly log: Logger;
}

interface PostStream {
  res: ServerResponse;
  key: string;
  sse: boolean;
  progressToken?: string | number;
}

export class HttpSession {
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
    private readonly owner: SessionOwner,
  ) {
    const streams = () => this.streams();
    this.link = {
      send: (line, meta) => this.toClient(line, meta),
      close: () => void this.owner.end(this, 'session closed'),
      get backlog() {
        let n = 0;
        for (const res of streams()) n += res.writableLength;
        return n;
      },
    };
  }

  /** The open responses this session writes events to. */
  private *streams(): Iterable<ServerResponse> {
    if (this.get) yield this.get;
    for (const p of this.posts.values()) if (p.sse) yield p.res;
  }

  /** A stream's 'drain' tells the daemon session its client is reading again. */
  private watchDrain(res: ServerResponse): void {
    res.on('drain', () => this.link.onDrain?.());
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
      this.watchDrain(res);
    }
    res.on('close', () => {
      if (this.posts.get(key) === p) {
        this.posts.delete(key);
        if (!res.writableFinished) this.abandoned.add(key);
      }
      this.touch();
      if (sse) this.link.onDrain?.(); // no longer part of the backlog
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
    this.watchDrain(res);
    res.on('close', () => {
      if (this.get === res) this.get = undefined;
      this.touch();
      this.link.onDrain?.(); // its unsent events are gone with it
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

  /**
   * The session's output: a response goes to its POST; anything else to the GET stream. Routed by
   * what the session knew of the message (never parsed here).
   */
  private toClient(line: Buffer, meta: OutgoingMeta): void {
    if (this.ended) return;
    if (this.posts.size || this.abandoned.size) {
      if (meta.kind === 'response' && (typeof meta.id === 'string' || typeof meta.id === 'number')) {
        const key = idKey(meta.id);
        const p = this.posts.get(key);
        if (p) return this.answer(p, line);
        if (this.abandoned.delete(key)) return; // its requester is gone
      } else if (meta.kind === 'notification') {
        // Progress for a request goes on that request's stream, as a direct connection would do.
        const tok = meta.params?.progressToken;
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
        this.owner.log.warn('http session: client opened no GET stream; oldest server messages dropped', { session: this.id });
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
    this.owner.log.info('http session closed', { session: this.id, reason });
    await this.session?.close(reason);
  }
}
