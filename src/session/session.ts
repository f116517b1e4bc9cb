// One client session: routes every message between one client and its own upstream through the
// inspection stages, in order, per direction. Tracks request ids in flight both ways (the client's
// requests and the server's requests such as sampling), answers refusals on the request's own id,
// never replies to a notification, and records every exchange in the audit log.
// It also keeps one session from hurting the others: past a high-water mark of bytes its client or
// its upstream has not taken, it stops reading both of them (back-pressure end to end); it reads at
// most a turn's budget from each side per event-loop turn; it holds at most its share of the audit
// queue (a flood of notifications is slowed, and dropped and counted past twice the share); and
// with audit.durability: acknowledged nothing reaches the client before the rows written so far
// are committed.
import { isAscii } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import {
  ApprovalDenied,
  ApprovalExpired,
  ContentBlocked,
  DuplicateId,
  GuardError,
  InvalidRequest,
  MessageTooLarge,
  NotAuthenticated,
  ParseError,
  RateLimited,
  UpstreamUnavailable,
  renderError,
  type JsonRpcId,
} from '../protocol/errors.js';
import type { Logger } from '../protocol/log.js';
import type { Upstream } from '../upstream/upstream.js';
import { summariseFindings, type AuditRecord, type AuditSink } from '../audit/record.js';
import type { Identity } from '../protocol/identity.js';
import { runStages, type Outcome } from './pipeline.js';
import { hasDuplicateKeys } from '../protocol/duplicates.js';
import type { AuditNote, MessageContext, SessionInfo, Stage } from '../protocol/stage.js';
import { idKey, parseIdKey, type Direction, type JsonRpcMessage, type Kind, type OutgoingMeta } from '../protocol/message.js';
import { eraOf, type Era } from '../protocol/era.js';
import type { ApprovalDesk, ApprovalOutcome } from '../protocol/approval.js';
import { InFlight, type Hold, type Pending } from './in-flight.js';

/** Where the session sends messages for the client (a bridge socket, an HTTP stream). */
export interface ClientLink {
  /** One message, without its newline, and what the session knows of it (a front need not parse it again). */
  send(line: Buffer, meta: OutgoingMeta): void;
  close(): void;
  /** Bytes sent that the client has not taken yet (absent: the link cannot tell, never pushes back). */
  readonly backlog?: number;
  /** Stop and go on reading the client's messages (absent: the link cannot). */
  pause?(): void;
  resume?(): void;
  /** Set by the session: the client took what was sent (the backlog drained). */
  onDrain?: () => void;
}

/** Bytes a client or an upstream may leave untaken before the session stops reading both. */
export const SESSION_HIGH_WATER_BYTES = 1024 * 1024;
/** What one side of a session may have read per event-loop turn before the others get theirs. */
export const TURN_MESSAGES = 512;
export const TURN_BYTES = 1024 * 1024;
/** Messages (or bytes) of one direction waiting for inspection before that side is paused. */
export const MAX_INSPECTING = 256;

/** Why a side is not being read (bits). */
const Hold = { ClientBacklog: 1, UpstreamBacklog: 2, AuditShare: 4, Turn: 8, Inspecting: 16 } as const;

// The event-loop turn: counted by one setImmediate per turn while messages flow, shared by sessions.
let turn = 0;
let turnCounting = false;
const nextTurn = (): void => {
  turn++;
  turnCounting = false;
};
function currentTurn(): number {
  if (!turnCounting) {
    turnCounting = true;
    setImmediate(nextTurn);
  }
  return turn;
}

interface Slot {
  ready: boolean;
  run: () => void;
  bytes: number;
}

export interface SessionOptions {
  id: string;
  server: string;
  identity: Identity;
  upstream: Upstream;
  client: ClientLink;
  /** The current stages; read per message so that a config reload reaches live sessions. */
  stages: () => readonly Stage[];
  audit?: AuditSink;
  log: Logger;
  requestTimeoutMs?: number;
  onClosed?: (s: Session) => void;
  /** Redacts PII and secrets from text that goes into audit rows (targets, reasons). */
  scrub?: (s: string) => string;
  /** Where calls that an approval rule holds wait for a person; without it they are refused. */
  approvals?: ApprovalDesk;
}

/** A held call whose client asked for progress hears from mcp-guard this often (ms). */
export const APPROVAL_PROGRESS_MS = 5000;

export class Session {
  readonly info: SessionInfo;
  readonly started = Date.now();
  private readonly upstream: Upstream;
  private readonly client: ClientLink;
  private readonly stages: () => readonly Stage[];
  private readonly log: Logger;
  /** Requests awaiting their answer, both ways (held calls included). */
  private readonly requests = new InFlight();
  /** Per direction, messages whose inspection finished out of order wait here. */
  private readonly queues: Record<Direction, Slot[]> = { c2s: [], s2c: [] };
  private upstreamReady = false;
  private upstreamDown?: string;
  private readonly early: Buffer[] = [];
  private closed = false;
  private draining = false;
  /** Set when the caller's credential was revoked or expired: new requests are refused. */
  private revoked?: string;
  /** Per side (c2s: the client, s2c: the upstream), why it is not being read; 0: it is. */
  private readonly holds: Record<Direction, number> = { c2s: 0, s2c: 0 };
  /** Bytes of each direction waiting for (async) inspection. */
  private readonly inspecting: Record<Direction, number> = { c2s: 0, s2c: 0 };
  private readonly budget: Record<Direction, { turn: number; n: number; bytes: number }> = {
    c2s: { turn: -1, n: 0, bytes: 0 },
    s2c: { turn: -1, n: 0, bytes: 0 },
  };
  /** Notifications dropped because the audit log (or this session's share of it) had no room. */
  private droppedCount = 0;
  /** audit.durability: acknowledged: messages for the client, waiting for the commit of their rows. */
  private readonly durable: boolean;
  private awaiting: { line: Buffer; meta: OutgoingMeta; group: number }[] = [];
  private groups = 0;
  private stamping = false;
  /** The protocol era of this connection, pinned by its first successful exchange (ERAS.md). */
  private era?: Era;
  /** The client declared elicitation in its initialize (before the policy's rewrite): it can be asked to approve. */
  private clientElicits = false;

  constructor(private readonly opts: SessionOptions) {
    this.info = { id: opts.id, server: opts.server, identity: opts.identity };
    this.upstream = opts.upstream;
    this.client = opts.client;
    this.stages = opts.stages;
    this.log = opts.log;
    this.upstream.onLine = (line) => this.receive('s2c', line);
    this.upstream.onClose = (why) => this.upstreamGone(why);
    // An upstream that does not take its input stops the client's reading only: pausing its own
    // output too would deadlock an upstream that blocks on a full stdout and so never reads.
    this.upstream.onDrain = () => {
      if (this.upstream.backlog <= SESSION_HIGH_WATER_BYTES) this.release(Hold.UpstreamBacklog, 'c2s');
    };
    this.client.onDrain = () => {
      if ((this.client.backlog ?? 0) <= SESSION_HIGH_WATER_BYTES) this.release(Hold.ClientBacklog);
    };
    this.durable = opts.audit?.acknowledged === true && typeof opts.audit.afterCommit === 'function';
  }

  /** False once the upstream is gone or the session closed: every new request would be refused. */
  get available(): boolean {
    return !this.closed && this.upstreamDown === undefined;
  }

  /** Requests in flight in either direction, and answers waiting for the commit of their rows. */
  get inFlight(): number {
    return this.requests.size + this.awaiting.length;
  }

  /** Notifications dropped for want of room in the audit log. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Why a side of this session is not being read now (status): client-backlog, audit-share... */
  get pausedFor(): string[] {
    const bits = this.holds.c2s | this.holds.s2c;
    return Object.entries(Hold)
      .filter(([, b]) => bits & b)
      .map(([name]) => name.replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase()));
  }

  async start(): Promise<void> {
    try {
      await this.upstream.start();
    } catch (err) {
      this.upstreamGone((err as Error).message);
      return;
    }
    this.upstreamReady = true;
    for (const l of this.early.splice(0)) this.toUpstream(l);
  }

  /** A line from the client. */
  fromClientLine(line: Buffer): void {
    this.receive('c2s', line);
  }

  /**
   * The client sent a line over the size limit; it was discarded without being buffered. `id` is
   * what its head or tail said (SDKs write the id last), so the client's request gets its answer;
   * null when neither edge told.
   */
  clientOversize(bytes: number, limit: number, id: JsonRpcId = null): void {
    this.emitRefusal(id, new MessageTooLarge(`Message of ${bytes} bytes exceeds the ${limit}-byte limit of mcp-guard; it was discarded.`, limit), '');
    this.audit({ direction: 'c2s', kind: 'request', method: '', note: { decision: 'block', stage: 'framing', reason: 'oversize' }, bytesIn: bytes });
  }

  /** The caller's credential no longer holds: refuse everything from now on. */
  revoke(reason: string): void {
    if (this.revoked) return;
    this.revoked = reason;
    this.log.warn('session credential revoked', { reason });
    // A held call is not forwarded for a caller who no longer holds a credential.
    this.refuseHeld(() => new NotAuthenticated(reason), 'credential revoked while held');
  }

  /** Refuse new client requests from now on; in-flight ones complete, held calls are refused. */
  drain(): void {
    this.draining = true;
    this.refuseHeld((id) => new ApprovalExpired(id, 'mcp-guard is stopping; the call was not forwarded'), 'mcp-guard stopping');
  }

  /** A notification of mcp-guard's own to the client (a list that changed under its policy), audited as the stage's. */
  notifyClient(method: string, params: Record<string, unknown> | undefined, stage: string): void {
    if (this.closed) return;
    const line = Buffer.from(JSON.stringify(params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method }));
    this.toClient(line, { kind: 'notification', method, params }, false);
    this.audit({ direction: 's2c', kind: 'notification', method, note: { decision: 'allow', stage }, bytesIn: 0, bytesOut: line.length });
  }

  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.requests.clear()) {
      // Nobody is left to answer: a held call is withdrawn, never forwarded.
      if (p.held) {
        p.held.withdraw('the session closed');
        this.auditHeld(p, 'block', `approval ${p.held.id} withdrawn: the session closed`);
      }
    }
    this.log.info('session closed', { reason });
    try {
      await this.upstream.close();
    } finally {
      this.opts.onClosed?.(this);
    }
  }

  // ---- routing ----------------------------------------------------------------------------

  private receive(direction: Direction, line: Buffer): void {
    if (this.closed) return;
    this.charge(direction, line.length);
    const arrived = performance.now();
    let msg: JsonRpcMessage;
    try {
      // Most messages are ASCII, and for those latin1 is the same text and decodes in half the time.
      msg = JSON.parse(isAscii(line) ? line.toString('latin1') : line.toString('utf8'));
    } catch {
      return this.malformed(direction, line, null, new ParseError());
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      return this.malformed(direction, line, null, new InvalidRequest('JSON-RPC batches and non-object messages are not supported.'));
    }
    // What the policy checks (the parsed form) must be what the upstream reads (the bytes).
    if (direction === 'c2s' && hasDuplicateKeys(line)) {
      const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : null;
      return this.malformed(direction, line, id, new InvalidRequest('an object has the same key twice, which parsers read differently; refused.'));
    }
    const hasId = msg.id !== undefined && msg.id !== null;
    if (hasId && typeof msg.id !== 'string' && typeof msg.id !== 'number') {
      return this.malformed(direction, line, null, new InvalidRequest('id must be a string or a number.'));
    }
    if (direction === 'c2s') {
      // An upstream drops what is not JSON-RPC 2.0, and its sender would wait forever: answer here.
      // A notification gets no reply, even a refusal: it is dropped and audited.
      const id = hasId ? msg.id! : typeof msg.method === 'string' ? undefined : null;
      if (msg.jsonrpc !== '2.0') return this.malformed(direction, line, id, new InvalidRequest('"jsonrpc" must be "2.0".'));
      if ('params' in msg && (msg.params === null || typeof msg.params !== 'object' || Array.isArray(msg.params))) {
        return this.malformed(direction, line, id, new InvalidRequest('"params" must be an object.'));
      }
    }
    let kind: Kind;
    let method: string;
    let pending: Pending | undefined;
    if (typeof msg.method === 'string') {
      kind = hasId ? 'request' : 'notification';
      method = msg.method;
    } else if (hasId && ('result' in msg || 'error' in msg)) {
      kind = 'response';
      const asked: Direction = direction === 'c2s' ? 's2c' : 'c2s';
      const key = idKey(msg.id!);
      // A held call was never forwarded: an "answer" to it is not one.
      pending = this.requests.get(asked, key)?.held ? undefined : this.requests.take(asked, key);
      if (!pending) {
        // A late answer to a request that timed out or was refused: nobody waits for it.
        this.log.debug('response to an unknown request id dropped', { direction });
        return;
      }
      if (pending.own) return pending.own(msg);
      method = pending.method;
      if (this.era === undefined && pending.era !== undefined && direction === 's2c' && 'result' in msg) this.era = pending.era;
    } else {
      return this.malformed(direction, line, hasId ? msg.id! : null, new InvalidRequest('not a JSON-RPC request, notification or response.'));
    }

    if (kind === 'request' && direction === 'c2s') {
      if (method === 'initialize') this.clientElicits = !!(msg.params as any)?.capabilities?.elicitation;
      const refusal = this.admission();
      if (refusal) {
        const note: AuditNote = { decision: 'block', stage: 'admission', reason: refusal.message };
        this.emitRefusal(msg.id!, refusal, method);
        this.audit({ direction, kind, method, note, bytesIn: line.length, target: targetOf(method, msg.params), errorCode: refusal.code });
        return;
      }
    }

    const ctx: MessageContext = {
      session: this.info,
      direction,
      kind,
      method,
      id: hasId ? msg.id : undefined,
      line,
      msg,
      now: arrived,
      requestParams: pending?.params,
      requestNote: pending?.note,
      era: (direction === 'c2s' && kind !== 'response' ? eraOf(method, msg.params) : undefined) ?? pending?.era ?? this.era,
      audit: { decision: 'allow' },
    };
    let stages: readonly Stage[];
    try {
      stages = this.stages();
    } catch (err) {
      // The server left the config: nothing more passes in this session.
      return this.malformed(direction, line, hasId ? msg.id! : null, new UpstreamUnavailable(this.info.server, 'it is no longer configured in mcp-guard'));
    }
    const out = runStages(stages, ctx);
    const queue = this.queues[direction];
    if (typeof (out as Promise<Outcome>).then !== 'function') {
      if (queue.length === 0) return this.deliver(ctx, out as Outcome, arrived, pending);
      queue.push({ ready: true, run: () => this.deliver(ctx, out as Outcome, arrived, pending), bytes: 0 });
      return;
    }
    // Async inspection: keep this direction's order by holding later messages behind this one.
    const slot: Slot = { ready: false, run: () => {}, bytes: line.length };
    queue.push(slot);
    this.inspecting[direction] += line.length;
    if (queue.length > MAX_INSPECTING || this.inspecting[direction] > SESSION_HIGH_WATER_BYTES) this.hold(Hold.Inspecting, direction);
    (out as Promise<Outcome>).then((o) => {
      slot.run = () => this.deliver(ctx, o, arrived, pending);
      slot.ready = true;
      this.flushQueue(queue, direction);
    });
  }

  private flushQueue(queue: Slot[], direction: Direction): void {
    while (queue.length && queue[0]!.ready) {
      const slot = queue.shift()!;
      this.inspecting[direction] -= slot.bytes;
      slot.run();
    }
    if (queue.length <= MAX_INSPECTING >> 1 && this.inspecting[direction] <= SESSION_HIGH_WATER_BYTES >> 1) this.release(Hold.Inspecting, direction);
  }

  // ---- fairness and back-pressure ------------------------------------------------------------

  /** One side read a message: past its budget for this turn, it waits for the next one. */
  private charge(direction: Direction, bytes: number): void {
    const b = this.budget[direction];
    const t = currentTurn();
    if (b.turn !== t) {
      b.turn = t;
      b.n = 0;
      b.bytes = 0;
    }
    b.bytes += bytes;
    if (++b.n > TURN_MESSAGES || b.bytes > TURN_BYTES) {
      if (this.holds[direction] & Hold.Turn) return;
      this.hold(Hold.Turn, direction);
      setImmediate(() => this.release(Hold.Turn, direction));
    }
  }

  /** Stop reading a side (or both) for `why`; the first reason pauses it. */
  private hold(why: number, only?: Direction): void {
    for (const d of only ? [only] : (['c2s', 's2c'] as const)) {
      const was = this.holds[d];
      this.holds[d] |= why;
      if (was === 0 && !this.closed) {
        if (d === 's2c') this.upstream.pause();
        else this.client.pause?.();
      }
    }
  }

  /** Clear a reason; a side with none left is read again. */
  private release(why: number, only?: Direction): void {
    for (const d of only ? [only] : (['c2s', 's2c'] as const)) {
      if (!(this.holds[d] & why)) continue;
      this.holds[d] &= ~why;
      if (this.holds[d] === 0 && !this.closed) {
        if (d === 's2c') this.upstream.resume();
        else this.client.resume?.();
      }
    }
  }

  /** After a message to the client: past the high-water mark, neither side is read until it drains. */
  private checkClientBacklog(): void {
    const b = this.client.backlog;
    if (b !== undefined && b > SESSION_HIGH_WATER_BYTES) this.hold(Hold.ClientBacklog);
  }

  /** A notification was recorded: a session over its share of the audit queue stops reading that side. */
  private checkShare(direction: Direction): void {
    const sink = this.opts.audit;
    if (!sink?.overShare?.(this.info.id) || this.holds[direction] & Hold.AuditShare) return;
    this.hold(Hold.AuditShare, direction);
    sink.whenUnderShare!(this.info.id, () => this.release(Hold.AuditShare, direction));
  }

  /** Refusals that need no inspection: shutting down, upstream gone, audit log full. */
  private admission(): GuardError | undefined {
    const id = this.info.identity;
    if (this.revoked || (id.expiresAt !== undefined && Date.now() >= id.expiresAt)) {
      return new NotAuthenticated(this.revoked ?? 'the access token expired; reconnect to present a fresh one');
    }
    if (this.upstreamDown) return new UpstreamUnavailable(this.info.server, this.upstreamDown);
    if (this.draining) return new UpstreamUnavailable(this.info.server, 'mcp-guard is shutting down; reconnect in a moment');
    const sink = this.opts.audit;
    if (sink?.full) return new RateLimited(1000, sink.stalled !== undefined ? 'the audit log cannot be written' : 'audit log queue is full');
    if (sink?.overShare?.(this.info.id)) return new RateLimited(1000, "this session's share of the audit log queue is full");
    return undefined;
  }

  private deliver(ctx: MessageContext, out: Outcome, arrived: number, pending: Pending | undefined): void {
    if (this.closed) return;
    const { direction, kind, method, msg } = ctx;
    const spent = performance.now() - arrived;
    const toClient = direction === 's2c';
    if (out.block) {
      const err = out.block;
      if (kind === 'request') {
        // Refused request: answer its sender on its own id.
        if (toClient) this.toUpstream(renderError(msg.id!, err));
        else this.emitRefusal(msg.id!, err, method);
        this.audit({ direction, kind, method, note: ctx.audit, bytesIn: ctx.line.length, target: targetOf(method, msg.params), errorCode: err.code, overheadMs: spent, era: ctx.era });
      } else if (kind === 'response') {
        // Refused response: the requester gets the error instead of the result.
        if (toClient) this.emitRefusal(msg.id!, err, method);
        else this.toUpstream(renderError(msg.id!, err));
        this.auditExchange(direction, pending!, ctx, arrived, spent, err.code);
      } else {
        // A notification never gets a reply: it is dropped and audited.
        this.audit({ direction, kind, method, note: ctx.audit, bytesIn: ctx.line.length, errorCode: err.code, overheadMs: spent });
      }
      return;
    }
    if (!out.modified && toClient && ctx.inspected && hasDuplicateKeys(ctx.line)) {
      // An upstream message with a duplicate key: the client might read the value inspection did not see.
      this.log.warn('upstream message with duplicate keys blocked', { method });
      const err = new ContentBlocked([], 'response', 'Blocked by mcp-guard: the upstream sent an ambiguous message (an object with the same key twice), so it was withheld.');
      ctx.audit = { ...ctx.audit, decision: 'block', stage: 'framing', reason: 'duplicate keys' };
      if (kind === 'response') {
        this.emitRefusal(msg.id!, err, method);
        this.auditExchange(direction, pending!, ctx, arrived, spent, err.code);
      } else {
        if (kind === 'request') this.toUpstream(renderError(msg.id!, err));
        this.audit({ direction, kind, method, note: ctx.audit, bytesIn: ctx.line.length, errorCode: err.code });
      }
      return;
    }
    const line = out.modified ? Buffer.from(JSON.stringify(ctx.msg)) : ctx.line;
    if (kind === 'request') {
      const p: Pending = {
        method,
        params: msg.params,
        arrived,
        spent,
        forwarded: performance.now(),
        target: targetOf(method, ctx.msg.params),
        note: ctx.audit,
        bytesIn: ctx.line.length,
        era: ctx.era,
      };
      const key = idKey(msg.id!);
      if (toClient) {
        this.requests.add('s2c', key, p);
      } else {
        if (this.requests.has('c2s', key)) {
          // Duplicate id while the first is in flight: the answers could not be told apart.
          this.emitRefusal(msg.id!, new DuplicateId(msg.id!), method);
          return;
        }
        this.requests.add('c2s', key, p);
        if (ctx.hold) return this.holdCall(ctx, key, p, line);
        this.startTimer(key, p, msg.id!);
      }
    } else if (kind === 'notification') {
      if (method === 'notifications/cancelled') {
        // The sender gave up on its request; per the spec no response follows, so stop waiting.
        const rid = ctx.msg.params?.requestId;
        if (typeof rid === 'string' || typeof rid === 'number') {
          const p = this.requests.take(toClient ? 's2c' : 'c2s', idKey(rid));
          if (p?.held) {
            // The client gave up on a held call: it leaves the approvals list and is never forwarded.
            p.held.withdraw('the client cancelled it');
            this.auditHeld(p, 'block', `approval ${p.held.id} withdrawn: the client cancelled the call`);
            return;
          }
        }
      }
      if (!this.auditAccepting() || this.overHardShare()) {
        // Nothing passes unaudited: with no room in the audit log (or past twice this session's
        // share of it) the notification is dropped, and counted; the log summarises repeats.
        this.droppedCount++;
        this.log.warn('audit log has no room: notification dropped', { method, dropped: this.droppedCount });
        return;
      }
    } else if (!this.auditAccepting()) {
      const err = new RateLimited(1000, 'audit log queue is full');
      if (toClient) this.emitRefusal(msg.id!, err, method);
      else this.toUpstream(renderError(msg.id!, err));
      return;
    }
    // Forward first (the write leaves at once), then record: the audit log has room (checked just
    // above) and the record is written before anything else can run.
    // What goes to the client is described from ctx.msg, which the bytes are (or were parsed from).
    if (toClient) this.toClient(line, { kind, id: ctx.msg.id, method, params: kind === 'response' ? undefined : ctx.msg.params }, method === 'notifications/progress');
    else this.toUpstream(line);
    if (kind === 'notification') {
      this.audit({ direction, kind, method, note: ctx.audit, bytesIn: ctx.line.length, bytesOut: line.length, overheadMs: spent, target: targetOf(method, ctx.msg.params), era: ctx.era });
      this.checkShare(direction);
    } else if (kind === 'response') {
      this.auditExchange(direction, pending!, ctx, arrived, spent, ctx.msg.error?.code, line.length);
    }
  }

  private auditAccepting(): boolean {
    return this.opts.audit?.accepting ?? true;
  }

  private overHardShare(): boolean {
    const sink = this.opts.audit;
    return sink?.heldBy !== undefined && sink.heldBy(this.info.id) >= 2 * sink.share!;
  }

  /**
   * The SDK client handles a notification a microtask later than a response in the same read, and
   * drops progress for a request already answered. Direct connections rarely put both in one read;
   * a proxy's writes would. So after a progress notification, later messages wait one macrotask each.
   */
  private toClient(line: Buffer, meta: OutgoingMeta, progress: boolean): void {
    if (this.held) {
      this.held.push({ line, meta });
      return;
    }
    this.emit(line, meta);
    if (progress) {
      this.held = [];
      setImmediate(() => this.releaseHeld());
    }
  }

  private held?: { line: Buffer; meta: OutgoingMeta }[];
  private releaseHeld(): void {
    const next = this.held?.shift();
    if (next === undefined || this.closed) {
      this.held = undefined;
      return;
    }
    this.emit(next.line, next.meta);
    setImmediate(() => this.releaseHeld());
  }

  /**
   * Every message for the client leaves here. With audit.durability: acknowledged it first waits
   * for the commit of every row written so far (its own is written in the same synchronous run,
   * right after this call, so the rows are counted a microtask later); order is kept.
   */
  private emit(line: Buffer, meta: OutgoingMeta): void {
    if (this.durable) {
      this.awaiting.push({ line, meta, group: -1 });
      if (!this.stamping) {
        this.stamping = true;
        queueMicrotask(this.stamp);
      }
      return;
    }
    this.client.send(line, meta);
    this.checkClientBacklog();
  }

  /**
   * A refusal or error of mcp-guard's own for the client: the answer on `id` to a request of
   * `method`. It waits like any answer, except while the audit log cannot commit: then nothing
   * would ever release it, and the client must hear that its request was refused (it reached no
   * upstream, or its answer was withheld).
   */
  private emitRefusal(id: JsonRpcId, err: GuardError, method: string): void {
    const line = renderError(id, err);
    const meta: OutgoingMeta = { kind: 'response', id, method };
    if (this.durable && this.opts.audit?.stalled !== undefined) {
      this.client.send(line, meta);
      this.checkClientBacklog();
      return;
    }
    this.emit(line, meta);
  }

  private readonly stamp = (): void => {
    this.stamping = false;
    const group = ++this.groups;
    for (let i = this.awaiting.length - 1; i >= 0 && this.awaiting[i]!.group === -1; i--) this.awaiting[i]!.group = group;
    this.opts.audit!.afterCommit!(() => this.committed(group));
  };

  private committed(group: number): void {
    if (this.closed) return;
    let i = 0;
    while (i < this.awaiting.length && this.awaiting[i]!.group !== -1 && this.awaiting[i]!.group <= group) {
      const a = this.awaiting[i++]!;
      this.client.send(a.line, a.meta);
    }
    if (i > 0) this.awaiting.splice(0, i);
    this.checkClientBacklog();
  }

  private toUpstream(line: Buffer): void {
    if (!this.upstreamReady) {
      if (!this.upstreamDown) this.early.push(line);
      return;
    }
    this.upstream.send(line);
    if (this.upstream.backlog > SESSION_HIGH_WATER_BYTES) this.hold(Hold.UpstreamBacklog, 'c2s');
  }

  /** daemon: request_timeout_ms counts from when a request leaves for the upstream. */
  private startTimer(key: string, p: Pending, id: JsonRpcId): void {
    // A subscriptions/listen stream stays open until either side ends it: no request timeout.
    const timeout = p.method === 'subscriptions/listen' ? 0 : (this.opts.requestTimeoutMs ?? 0);
    if (timeout > 0) p.timer = setTimeout(() => this.timedOut(key, id, timeout), timeout);
  }

  private timedOut(key: string, id: JsonRpcId, ms: number): void {
    const p = this.requests.take('c2s', key);
    if (!p) return;
    const err = new UpstreamUnavailable(this.info.server, `no answer within ${ms} ms`);
    this.emitRefusal(id, err, p.method);
    this.toUpstream(Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'timed out in mcp-guard' } })));
    this.audit({ direction: 'c2s', kind: 'request', method: p.method, target: p.target, note: { decision: 'error', stage: 'upstream', reason: 'timeout' }, bytesIn: p.bytesIn, errorCode: err.code });
  }

  private upstreamGone(why: string): void {
    if (this.upstreamDown || this.closed) return;
    this.upstreamDown = why;
    this.upstreamReady = false;
    this.early.length = 0;
    this.log.warn('upstream unavailable', { reason: why, pending: this.requests.clientRequests });
    for (const [key, p] of this.requests.clear()) {
      p.held?.withdraw(`the upstream is unavailable: ${why}`);
      const err = new UpstreamUnavailable(this.info.server, why);
      this.emitRefusal(parseIdKey(key), err, p.method);
      this.audit({ direction: 'c2s', kind: 'request', method: p.method, target: p.target, note: { decision: 'error', stage: p.held ? 'approval' : 'upstream', reason: why }, bytesIn: p.bytesIn, errorCode: err.code });
    }
  }

  // ---- calls held for approval ----------------------------------------------------------------

  /**
   * A call an approval rule holds: it stays in the table (a duplicate id is still refused, a
   * cancel still finds it) but is not forwarded, and nothing else of the session waits for it.
   * The desk calls back once with the decision; a client that asked for progress hears from
   * mcp-guard meanwhile, so that one which extends its timeout on progress does not give up first.
   */
  private holdCall(ctx: MessageContext, key: string, p: Pending, line: Buffer): void {
    const req = ctx.hold!;
    const id = ctx.msg.id!;
    const params = ctx.msg.params;
    const desk = this.opts.approvals;
    if (!desk) {
      this.requests.take('c2s', key);
      const err = new ApprovalDenied('', 'no approver is available for this call');
      this.emitRefusal(id, err, p.method);
      this.audit({ direction: 'c2s', kind: 'request', method: p.method, target: p.target, note: { ...ctx.audit, decision: 'block', stage: 'approval', reason: err.message }, bytesIn: p.bytesIn, errorCode: err.code, era: p.era });
      return;
    }
    const tool = typeof params?.name === 'string' ? params.name : String(params?.name);
    const identity = this.info.identity;
    const call = ctx.audit.call ?? { id: String(id), round: 1 };
    const hold: Hold = { id: '', withdraw: () => {} };
    p.held = hold;
    const ticket = desk.hold(
      {
        session: this.info.id,
        identity,
        server: this.info.server,
        tool,
        arguments: params?.arguments,
        call: call.id,
        round: call.round,
        rule: req.rule,
        reason: req.reason,
        timeoutMs: req.timeoutMs,
        era: ctx.era,
      },
      (o) => this.decided(key, hold, line, o),
    );
    // An approved earlier round of the same call decided at once: the call went on already.
    if (p.held !== hold) return;
    hold.id = ticket.id;
    hold.withdraw = ticket.withdraw;
    this.audit({ direction: 'c2s', kind: 'request', method: p.method, target: p.target, note: { decision: 'warn', stage: 'approval', reason: `held for approval ${ticket.id} (${req.rule}: ${req.reason})`, call: ctx.audit.call }, bytesIn: p.bytesIn, requestId: id, era: p.era });
    // approval.via: client asks the client too, where it can be asked (2025, elicitation declared);
    // elsewhere the call waits for a person at the CLI, which is the stricter approver.
    if (req.via === 'client' && ctx.era !== '2026' && this.clientElicits) this.askClient(hold, tool, params?.arguments, req.reason, desk);
    const token = params?._meta?.progressToken;
    if (typeof token === 'string' || typeof token === 'number') {
      let n = 0;
      const tick = () => this.notifyClient('notifications/progress', { progressToken: token, progress: ++n, message: `waiting for a person to approve this call (mcp-guard approvals approve ${ticket.id})` }, 'approval');
      tick();
      hold.progress = setInterval(tick, APPROVAL_PROGRESS_MS);
    }
  }

  /**
   * approval.via: client: an elicitation of mcp-guard's own asks the person at the client. Its
   * answer decides the held call like a CLI decision (the call also stays on `approvals list`).
   */
  private askClient(hold: Hold, tool: string, args: unknown, reason: string, desk: ApprovalDesk): void {
    const rid = `mcp-guard-approval-${hold.id}`;
    let shown = this.clean(JSON.stringify(args ?? {}) ?? '{}');
    if (shown.length > 1000) shown = `${shown.slice(0, 1000)}…`;
    const params = {
      message: `mcp-guard holds a call of tool "${tool}" for approval (${reason}). Arguments: ${shown}`,
      requestedSchema: {
        type: 'object',
        properties: { approve: { type: 'boolean', title: 'Approve this call', description: 'Forward this call once to the server' } },
        required: ['approve'],
      },
    };
    const now = performance.now();
    hold.asked = rid;
    this.requests.add('s2c', idKey(rid), {
      method: 'elicitation/create',
      params,
      arrived: now,
      spent: 0,
      forwarded: now,
      note: { decision: 'allow', stage: 'approval' },
      bytesIn: 0,
      own: (answer) => {
        const r = answer.result;
        const yes = r?.action === 'accept' && r?.content?.approve === true;
        const action = typeof r?.action === 'string' ? r.action.slice(0, 16) : 'error';
        desk.decide(hold.id, yes, 'the person at the client (elicitation)', yes ? undefined : `declined at the client (${action})`);
      },
    });
    const line = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: rid, method: 'elicitation/create', params }));
    this.toClient(line, { kind: 'request', id: rid, method: 'elicitation/create', params }, false);
    this.audit({ direction: 's2c', kind: 'request', method: 'elicitation/create', note: { decision: 'allow', stage: 'approval', reason: `asked the client to approve ${hold.id}` }, bytesIn: 0, bytesOut: line.length, requestId: rid });
  }

  private decided(key: string, hold: Hold, line: Buffer, o: ApprovalOutcome): void {
    const p = this.requests.get('c2s', key);
    if (this.closed || !p || p.held !== hold) return;
    if (hold.progress) clearInterval(hold.progress);
    p.held = undefined;
    if (hold.asked && this.requests.take('s2c', idKey(hold.asked))) {
      // Decided elsewhere (the CLI, the timeout): the client's question is withdrawn.
      const cancelled = { requestId: hold.asked, reason: 'decided in mcp-guard' };
      this.toClient(Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: cancelled })), { kind: 'notification', method: 'notifications/cancelled', params: cancelled }, false);
    }
    const id = parseIdKey(key);
    const by = this.clean(o.by ?? 'mcp-guard');
    const words = o.reason ? `: ${this.clean(o.reason)}` : '';
    const label = hold.id ? `approval ${hold.id}` : 'approval';
    const row = (decision: AuditNote['decision'], reason: string, errorCode?: number) => this.auditHeld(p, decision, reason, errorCode, id);
    if (!o.approved) {
      this.requests.take('c2s', key);
      const err = o.why === 'denied' ? new ApprovalDenied(hold.id, o.reason ? this.clean(o.reason) : `denied by ${by}`) : new ApprovalExpired(hold.id, o.reason ? this.clean(o.reason) : 'no decision in time');
      this.emitRefusal(id, err, p.method);
      row('block', o.why === 'denied' ? `${label} denied by ${by}${words}` : `${label} expired${words}`, err.code);
      return;
    }
    // Approved: what held for the call when it arrived must still hold now.
    const refusal = this.admission();
    if (refusal) {
      this.requests.take('c2s', key);
      this.emitRefusal(id, refusal, p.method);
      row('block', `${label} approved by ${by}, but not forwarded: ${refusal.message}`, refusal.code);
      return;
    }
    p.forwarded = performance.now();
    this.startTimer(key, p, id);
    this.toUpstream(line);
    row('allow', `${label} approved by ${by}${words}`);
  }

  /** Refuses every held call with the error `why` makes (revoked credential, shutdown). */
  private refuseHeld(why: (approval: string) => GuardError, reason: string): void {
    for (const [key, p] of this.requests.clientEntries()) {
      const hold = p.held;
      if (!hold) continue;
      this.requests.take('c2s', key);
      hold.withdraw(reason);
      const err = why(hold.id);
      this.emitRefusal(parseIdKey(key), err, p.method);
      this.auditHeld(p, 'block', `approval ${hold.id} withdrawn: ${reason}`, err.code);
    }
  }

  /** A row of the approval stage about a held call (held, decided, withdrawn). */
  private auditHeld(p: Pending, decision: AuditNote['decision'], reason: string, errorCode?: number, requestId?: JsonRpcId): void {
    this.audit({ direction: 'c2s', kind: 'request', method: p.method, target: p.target, note: { decision, stage: 'approval', reason, call: p.note.call }, bytesIn: p.bytesIn, requestId, errorCode, era: p.era });
  }

  private clean(s: string): string {
    return this.opts.scrub ? this.opts.scrub(s) : s;
  }

  /** `id` undefined: the message was a notification, which gets no reply. */
  private malformed(direction: Direction, line: Buffer, id: JsonRpcId | undefined, err: GuardError): void {
    const note: AuditNote = { decision: 'block', stage: 'framing', reason: err.message };
    this.audit({ direction, kind: id === undefined ? 'notification' : 'request', method: '', note, bytesIn: line.length, errorCode: err.code });
    if (direction === 'c2s') {
      if (id !== undefined) this.emitRefusal(id, err, '');
    } else {
      // The upstream broke the protocol; the client is not told about a message it never asked for.
      this.log.warn('upstream sent an invalid message; dropped', { reason: err.message, bytes: line.length });
    }
  }

  // ---- audit ------------------------------------------------------------------------------

  private auditExchange(direction: Direction, p: Pending, ctx: MessageContext, arrived: number, spent: number, errorCode?: number, bytesOut?: number): boolean {
    // The exchange's verdict is the stricter of the request's and the response's; each finding
    // says which of the two it was in, since the row carries the request's direction.
    let note = stricter(p.note, ctx.audit);
    const inRequest = summariseFindings(p.note.findings, 'request') ?? [];
    const inResponse = summariseFindings(ctx.audit.findings, 'response') ?? [];
    const findings = inRequest.length || inResponse.length ? [...inRequest, ...inResponse] : undefined;
    const call = p.note.call ?? ctx.audit.call;
    if (call && note.call !== call) note = { ...note, call };
    // A 2026 input_required result: each embedded request gets the row its 2025 form would have
    // (a server-to-client request), linked to the call; refused with the result if it was refused.
    for (const e of ctx.audit.embedded ?? []) {
      const withheld = e.decision === 'allow' && (ctx.audit.decision === 'block' || ctx.audit.decision === 'error');
      this.audit({
        direction: 's2c',
        kind: 'request',
        method: e.method,
        note: withheld ? { decision: ctx.audit.decision, stage: ctx.audit.stage, reason: ctx.audit.reason, findings: e.findings, call } : { ...e, call },
        bytesIn: 0,
        era: p.era,
        requestId: this.opts.scrub ? this.opts.scrub(e.key) : e.key,
      });
    }
    return this.audit({
      // An exchange is recorded under the direction of its request.
      direction: direction === 's2c' ? 'c2s' : 's2c',
      kind: 'request',
      method: p.method,
      target: p.target,
      note,
      bytesIn: p.bytesIn,
      bytesOut: bytesOut ?? ctx.line.length,
      upstreamMs: arrived - p.forwarded,
      overheadMs: p.spent + spent,
      errorCode,
      requestId: ctx.id,
      findings,
      era: p.era,
    });
  }

  private audit(a: {
    direction: Direction;
    kind: Kind;
    method: string;
    note: AuditNote;
    bytesIn: number;
    bytesOut?: number;
    target?: string;
    errorCode?: number;
    upstreamMs?: number;
    overheadMs?: number;
    requestId?: JsonRpcId;
    /** Already summarised (an exchange's); otherwise those of the note, in this message. */
    findings?: AuditRecord['findings'];
    era?: Era;
  }): boolean {
    const sink = this.opts.audit;
    if (!sink) return true;
    const id = this.info.identity;
    const rec: AuditRecord = {
      ts: Date.now(),
      session: this.info.id,
      identity: id.id,
      user: id.name,
      roles: id.roles,
      server: this.info.server,
      direction: a.direction,
      kind: a.kind,
      method: a.method,
      // A tool name or URI can carry PII, and refusal reasons quote them: both are scrubbed.
      target: a.target === undefined || !this.opts.scrub ? a.target : this.opts.scrub(a.target),
      decision: a.note.decision,
      stage: a.note.stage,
      reason: a.note.reason === undefined || !this.opts.scrub ? a.note.reason : this.opts.scrub(a.note.reason),
      findings: a.findings ?? summariseFindings(a.note.findings, a.kind),
      error_code: a.errorCode,
      bytes_in: a.bytesIn,
      bytes_out: a.bytesOut,
      upstream_ms: a.upstreamMs === undefined ? undefined : round3(a.upstreamMs),
      overhead_us: a.overheadMs === undefined ? undefined : Math.round(a.overheadMs * 1000),
      request_id: a.requestId === undefined || a.requestId === null ? undefined : String(a.requestId),
      era: a.era ?? this.era,
      call: a.note.call?.id,
      round: a.note.call?.round,
    };
    return sink.write(rec);
  }
}

const order = { allow: 0, warn: 1, redact: 2, error: 3, block: 4 } as const;
function stricter(a: AuditNote, b: AuditNote): AuditNote {
  return order[b.decision] > order[a.decision] ? b : a;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The tool, resource or prompt a message is about, for audit rows. */
export function targetOf(method: string, params: any): string | undefined {
  if (!params || typeof params !== 'object') return undefined;
  switch (method) {
    case 'tools/call':
    case 'prompts/get':
      return typeof params.name === 'string' ? params.name : undefined;
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
    case 'notifications/resources/updated':
      return typeof params.uri === 'string' ? params.uri : undefined;
    case 'completion/complete':
      return typeof params.ref?.name === 'string' ? params.ref.name : typeof params.ref?.uri === 'string' ? params.ref.uri : undefined;
    default:
      return undefined;
  }
}
