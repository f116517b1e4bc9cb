// The daemon's lifecycle: single-instance lock, the Unix socket server with its hello handshake,
// one session per bridge connection, status/health/stop over the same socket, drain and shutdown.
import { chmodSync, existsSync, mkdirSync, statSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LineSplitter, LineWriter } from '../protocol/framing.js';
import { hop } from '../protocol/hops.js';
import { encodeReply, MAX_HELLO_BYTES, readHello, refusalReply, type ApprovalsRequest, type Hello, type HelloLineError, type HelloReply } from '../protocol/hello.js';
import { nativeAccounts, peerCredentials } from '../identity/peercred.js';
import { GuardError, InternalError, InvalidRequest, MessageTooLarge, NotAuthenticated, UnknownServer, UpstreamUnavailable } from '../protocol/errors.js';
import { peekOversizeId } from '../protocol/id.js';
import type { LoadedConfig } from '../config/loader.js';
import type { Logger } from './log.js';
import { acquireLock, AlreadyRunning } from './lock.js';
import { Session, type ClientLink } from '../session/session.js';
import { createUpstream } from '../upstream/create.js';
import type { Identity } from '../protocol/identity.js';
import { Guard } from './guard.js';
import { startHttpFront, type HttpFront } from '../http/front.js';
import { frontAuthenticator } from '../http/front-auth.js';
import { startHealthServer, upstreamReachable, type HealthServer, type ReadyCheck } from '../http/health.js';
import { Metrics } from '../http/metrics.js';
import { ensureDashboardToken } from '../http/token.js';
import { openFileLimit, sessionsFor, type OpenFileLimit } from './fdlimit.js';

const HELLO_TIMEOUT_MS = 10_000;

export class Daemon {
  private server?: Server;
  private releaseLock?: () => void;
  private readonly sessions = new Set<Session>();
  private readonly started = Date.now();
  private stopping?: Promise<void>;
  private guard!: Guard;
  private readonly watchers: FSWatcher[] = [];
  private credentialSweep?: NodeJS.Timeout;
  private front?: HttpFront;
  private dashboard?: HealthServer;
  readonly metrics = new Metrics();
  /** Notifications dropped by sessions that have closed since the start. */
  private droppedByClosed = 0;
  /** RLIMIT_NOFILE as the daemon runs with it, and the session ceiling it allows (daemon.max_sessions's default). */
  private readonly fdLimit: OpenFileLimit | undefined = openFileLimit();
  private readonly fdSessions = sessionsFor(this.fdLimit?.soft ?? 1024);

  constructor(
    private loaded: LoadedConfig,
    private readonly log: Logger,
  ) {}

  /** The running config: the latest snapshot once started (it changes on reload). */
  get config() {
    return this.guard ? this.guard.snapshot().config : this.loaded.config;
  }

  async start(): Promise<void> {
    const { home, socketPath } = this.loaded;
    ensurePrivateDir(home);
    const sockDir = dirname(socketPath);
    mkdirSync(sockDir, { recursive: true, mode: 0o700 });
    if ((statSync(sockDir).mode & 0o077) !== 0) {
      // The socket itself is 0600, so others still cannot connect; say so rather than chmod a shared dir.
      this.log.warn('the socket directory is accessible to other users; prefer a private directory', { dir: sockDir });
    }
    this.releaseLock = acquireLock(home);
    try {
      if (existsSync(socketPath)) {
        if (await answers(socketPath)) throw new AlreadyRunning(-1);
        unlinkSync(socketPath); // stale socket of a daemon that died
      }
      this.guard = await Guard.create(this.loaded, this.log);
      this.server = createServer((sock) => this.accept(sock));
      const old = process.umask(0o177);
      try {
        await new Promise<void>((resolve, reject) => {
          this.server!.once('error', reject);
          this.server!.listen(socketPath, () => resolve());
        });
      } finally {
        process.umask(old);
      }
      chmodSync(socketPath, 0o600);
      this.server.on('error', (err) => this.log.error('socket server error', { error: err.message }));
      await this.startHttp();
    } catch (err) {
      this.server?.close();
      await this.front?.close().catch(() => {});
      await this.guard?.close().catch(() => {});
      this.releaseLock();
      throw err;
    }
    this.watchConfig();
    // Revocations and expiries reach live sessions too, not only new connections.
    this.credentialSweep = setInterval(() => {
      const seen = new Map<string, boolean>();
      for (const s of this.sessions) {
        const id = s.info.identity;
        const key = `${id.id}\0${id.credentialId ?? ''}\0${id.expiresAt ?? ''}`;
        let ok = seen.get(key);
        if (ok === undefined) seen.set(key, (ok = this.guard.stillValid(id)));
        if (!ok) s.revoke(`the credential of '${id.name}' was revoked or expired`);
      }
    }, 500);
    this.credentialSweep.unref();
    // prom-client (process and GC metrics) loads once the first connections have been served.
    setTimeout(() => void this.metrics.prepare(), 1500).unref();
    this.log.info('daemon started', { pid: process.pid, socket: socketPath, config: this.loaded.path, servers: Object.keys(this.config.servers) });
    this.log.info('session limit', { maxSessions: this.maxSessions, openFiles: this.fdLimit?.soft, openFilesHard: this.fdLimit?.hard });
    if (this.maxSessions > this.fdSessions) {
      this.log.warn('daemon.max_sessions is above what the open-file limit allows; sessions past it may fail with EMFILE', {
        maxSessions: this.maxSessions,
        allowed: this.fdSessions,
        openFiles: this.fdLimit?.soft,
      });
    }
  }

  /** The Streamable HTTP front (daemon.http) and the dashboard port (health, metrics). */
  private async startHttp(): Promise<void> {
    const token = ensureDashboardToken(this.loaded.home);
    const config = () => this.guard.snapshot().config;
    if (this.config.daemon.http) {
      this.front = await startHttpFront({
        daemon: this,
        config,
        authenticate: frontAuthenticator({ config, dashboardToken: token, identity: ({ credentials, server }) => this.guard.authenticate(undefined, credentials, server) }),
        log: this.log.child({ component: 'http-front' }),
      });
    }
    const port = this.config.daemon.dashboard_port;
    if (port > 0) {
      const checks: Record<string, ReadyCheck> = {
        daemon: () => (this.stopping ? 'shutting down' : true),
        audit: () => this.guard.auditProblem() ?? true,
      };
      for (const [name, s] of Object.entries(this.config.servers)) {
        if (s.transport !== 'stdio' && s.url) checks[`upstream:${name}`] = () => upstreamReachable(s.url!);
      }
      try {
        this.dashboard = await startHealthServer({ port, token, metrics: this.metrics, checks, log: this.log.child({ component: 'dashboard' }) });
      } catch (err) {
        // The proxy works without its dashboard; a busy port must not take MCP down with it.
        this.log.error('dashboard port unavailable; running without /healthz and /metrics', { port, error: (err as Error).message });
      }
    }
  }

  /**
   * Hot reload: watch the directories of the config and of local base configs (editors save by
   * renaming a temp file over the original, so the file itself cannot be watched), debounce,
   * then validate and swap. An invalid edit keeps the running config and logs the error.
   */
  private watchConfig(): void {
    const files = new Set(this.guard.snapshot().layers.map((l) => l.file).filter((f) => f.startsWith('/')));
    const dirs = new Set([...files].map((f) => dirname(f)));
    let timer: NodeJS.Timeout | undefined;
    const onChange = (dir: string, name: string | null) => {
      if (name && ![...files].some((f) => f === join(dir, name))) return;
      clearTimeout(timer);
      timer = setTimeout(() => void this.guard.reload(), 150);
    };
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, (_ev, name) => onChange(dir, name ? String(name) : null));
        w.on('error', (err) => this.log.warn('config watch failed', { dir, error: err.message }));
        this.watchers.push(w);
      } catch (err) {
        this.log.warn('cannot watch the config directory; use `mcp-guard reload`', { dir, error: (err as Error).message });
      }
    }
  }

  /** Drain in-flight requests (up to daemon.shutdown_timeout), close everything, release the lock. */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    this.log.info('daemon stopping', { reason, sessions: this.sessions.size });
    for (const w of this.watchers) w.close();
    clearInterval(this.credentialSweep);
    this.server?.close();
    await this.front?.close().catch((err) => this.log.error('closing the http front failed', { error: (err as Error).message }));
    for (const s of this.sessions) s.drain();
    const deadline = Date.now() + this.config.daemon.shutdown_timeout * 1000;
    // An audit log that cannot commit holds acknowledged answers for good: no use waiting on them.
    while (Date.now() < deadline && [...this.sessions].some((s) => s.inFlight > 0) && this.guard.audit?.stalled === undefined) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.allSettled([...this.sessions].map((s) => s.close('daemon stopping')));
    this.guard.approvals.close();
    // The audit writer gets what is left of the shutdown timeout (at least 5 s) to commit; one that
    // cannot (a full disk) must not keep the process, and its lock, alive.
    const auditDeadline = Math.max(5000, deadline - Date.now());
    await this.guard?.close(auditDeadline).catch((err) => this.log.error('closing failed', { error: (err as Error).message }));
    try {
      unlinkSync(this.loaded.socketPath);
    } catch {
      /* gone */
    }
    await this.dashboard?.close();
    this.releaseLock?.();
    this.log.info('daemon stopped');
  }

  /** daemon.max_sessions, or what the open-file limit allows (read live: a reload may change it). */
  get maxSessions(): number {
    return this.config.daemon.max_sessions ?? this.fdSessions;
  }

  /** A refusal when one more session would pass daemon.max_sessions. */
  private atCapacity(server: string): GuardError | undefined {
    const max = this.maxSessions;
    if (this.sessions.size < max) return undefined;
    const why =
      this.config.daemon.max_sessions === undefined
        ? `mcp-guard has ${max} sessions open, all that its open-file limit of ${this.fdLimit?.soft ?? '?'} allows (daemon.max_sessions); close a session, or raise the limit (ulimit -n) and restart the daemon`
        : `mcp-guard has ${max} sessions open, its daemon.max_sessions; close a session or raise the setting`;
    this.log.warn('session refused: daemon.max_sessions reached', { server, maxSessions: max });
    return new UpstreamUnavailable(server, why);
  }

  private async status() {
    const perServer: Record<string, number> = {};
    for (const s of this.sessions) perServer[s.info.server] = (perServer[s.info.server] ?? 0) + 1;
    // Back-pressure and fairness: sessions not being read now, by reason; notifications dropped.
    const paused: Record<string, number> = {};
    let dropped = this.droppedByClosed;
    for (const s of this.sessions) {
      for (const why of s.pausedFor) paused[why] = (paused[why] ?? 0) + 1;
      dropped += s.dropped;
    }
    return {
      pid: process.pid,
      uptimeS: Math.round((Date.now() - this.started) / 1000),
      config: this.guard.snapshot().path,
      socket: this.loaded.socketPath,
      home: this.loaded.home,
      servers: Object.entries(this.config.servers).map(([name, s]) => ({ name, transport: s.transport, sessions: perServer[name] ?? 0 })),
      sessions: this.sessions.size,
      paused,
      droppedNotifications: dropped,
      approvalsHeld: this.guard.approvals.size,
      limits: { maxSessions: this.maxSessions, openFiles: this.fdLimit },
      http: this.front ? { url: this.front.url, sessions: this.front.sessions } : undefined,
      dashboard: this.dashboard?.url,
      ...(await this.guard.status()),
    };
  }

  /** `mcp-guard approvals`: the held calls, or a person's decision on one (who decided is the kernel's word). */
  private approvals(sock: Socket, req: ApprovalsRequest): HelloReply {
    const desk = this.guard.approvals;
    if (req.action === 'list') return { ok: true, pid: process.pid, approvals: desk.list() };
    let by: string;
    try {
      const peer = peerCredentials(sock);
      const name = nativeAccounts().user(peer.uid)?.name;
      by = `uid:${peer.uid}${name ? ` (${name})` : ''}`;
    } catch (err) {
      return refusalReply(new NotAuthenticated(`cannot tell who decides: ${(err as Error).message}`));
    }
    const r = desk.decide(req.id!, req.action === 'approve', by, req.reason, req.hash);
    return r.ok ? { ok: true, pid: process.pid, decided: r.id, tool: r.tool, server: r.server, by } : refusalReply(new InvalidRequest(r.error));
  }

  // ---- connections ------------------------------------------------------------------------

  private accept(sock: Socket): void {
    sock.on('error', () => {});
    readHello(sock, HELLO_TIMEOUT_MS).then(
      // What follows the hello is held (the socket is paused) until the session listens:
      // authentication can take a while (a JWKS fetch).
      ({ hello, rest }) =>
        this.onHello(sock, hello, rest).catch((err) => {
          this.log.error('hello handling failed', { error: (err as Error).message });
          this.refuse(sock, new InternalError());
        }),
      (err: HelloLineError) => {
        if (err.reason === 'closed') return sock.destroy();
        this.refuse(
          sock,
          err.reason === 'timeout' ? new NotAuthenticated('no hello within 10 s') : err.reason === 'too_large' ? new MessageTooLarge('hello too large', MAX_HELLO_BYTES) : new InvalidRequest(err.message),
        );
      },
    );
  }

  /** Answer a control hello or a refusal, and end the connection (reading on, so that it closes). */
  private answer(sock: Socket, r: HelloReply): void {
    sock.end(encodeReply(r));
    sock.resume();
  }

  private refuse(sock: Socket, err: GuardError): void {
    this.answer(sock, refusalReply(err));
  }

  private async onHello(sock: Socket, hello: Hello, rest: Buffer): Promise<void> {
    switch (hello.type) {
      case 'health': {
        const problem = this.guard.auditProblem();
        const warnings = this.guard.warnings();
        return this.answer(sock, { ok: true, pid: process.pid, stopping: !!this.stopping, ...(problem ? { degraded: [problem] } : {}), ...(warnings.length ? { warnings } : {}) });
      }
      case 'status':
        return this.answer(sock, { ok: true, ...(await this.status()) });
      case 'stop':
        this.answer(sock, { ok: true, pid: process.pid, shutdownTimeoutS: this.config.daemon.shutdown_timeout });
        void this.stop('stop requested').then(() => process.exit(0));
        return;
      case 'reload': {
        // A refused reload is an answer, not a refusal of the caller: the daemon did what it was asked.
        const result = await this.guard.reload();
        return this.answer(sock, result.ok ? { ok: true, pid: process.pid, reloaded: true } : { ok: true, pid: process.pid, reloaded: false, error: result.error });
      }
      case 'pins':
        return this.answer(sock, { ok: true, pid: process.pid, notified: this.guard.pinsChanged(this.sessions) });
      case 'approvals':
        return this.answer(sock, this.approvals(sock, hello));
      case 'connect':
        break;
    }
    if (this.stopping) return this.refuse(sock, new UpstreamUnavailable(hello.server, 'mcp-guard is shutting down; reconnect in a moment'));
    // Authenticate first: who may not connect learns nothing of which servers exist.
    let identity: Identity;
    try {
      identity = await this.guard.authenticate(sock, hello.credentials, hello.server);
      // Credentials end here: the hello object is not kept, and nothing of it goes upstream.
      delete hello.credentials;
    } catch (err) {
      return this.refuse(sock, new NotAuthenticated((err as Error).message));
    }
    const snap = this.guard.snapshot();
    const server = snap.config.servers[hello.server];
    if (!server) return this.refuse(sock, new UnknownServer(hello.server, Object.keys(snap.config.servers), snap.path));
    const full = this.atCapacity(hello.server);
    if (full) return this.refuse(sock, full);
    const out = new LineWriter(sock, 'daemon-to-client');
    // Back-pressure: the session reads how much the client has not taken, and pauses the socket.
    let paused = false;
    const link: ClientLink = {
      send: (line) => out.push(line),
      close: () => sock.end(),
      get backlog() {
        return out.backlog;
      },
      pause: () => {
        paused = true;
        sock.pause();
      },
      resume: () => {
        paused = false;
        sock.resume();
      },
    };
    out.onDrain = () => link.onDrain?.();
    const session = this.openSession(hello.server, identity, link);
    sock.write(encodeReply({ ok: true, session: session.info.id, pid: process.pid }));
    const maxBytes = snap.config.daemon.max_message_bytes;
    const splitter = new LineSplitter(maxBytes, {
      line: (l) => session.fromClientLine(l),
      oversize: (n, edges) => session.clientOversize(n, maxBytes, peekOversizeId(edges) ?? null),
    });
    if (rest.length) splitter.push(rest);
    sock.on('data', (c: Buffer) => {
      hop('daemon-from-client');
      splitter.push(c);
    });
    sock.on('close', () => void session.close('client disconnected'));
    if (!paused) sock.resume();
    this.startSoon(session);
  }

  /**
   * Start a session's upstream on a later turn of the event loop, one per turn. Spawning a child
   * blocks the main thread for milliseconds (tens when the machine is busy with other starting
   * servers); done inside the hello handler, the hello of the k-th connection of a storm waited
   * for k-1 spawns (300 connections at once: 21 s median, 54 s p99, past the bridge's 30 s and the
   * daemon's own 10 s hello timeout). One per turn lets the loop answer every hello that arrived
   * between two spawns (then: 140 ms median). What a client sends meanwhile waits in the session,
   * as it does while any upstream starts.
   */
  private startSoon(session: Session): void {
    this.toStart.push(session);
    if (this.toStart.length === 1) setImmediate(this.startNext);
  }

  private readonly toStart: Session[] = [];
  private readonly startNext = (): void => {
    const session = this.toStart.shift();
    if (this.toStart.length) setImmediate(this.startNext);
    // A client that left while it waited has no upstream to start.
    if (!session || !this.sessions.has(session)) return;
    session.start().catch((err) => this.log.error('session start failed', { error: (err as Error).message }));
  };

  /**
   * A new session for an authenticated client of `server` (bridge socket or HTTP front). The caller
   * feeds it client lines and calls start(); the session removes itself when closed.
   */
  openSession(serverName: string, identity: Identity, link: ClientLink, front: 'bridge' | 'http' = 'bridge'): Session {
    const snap = this.guard.snapshot();
    const server = snap.config.servers[serverName];
    if (!server) throw new Error(`unknown server '${serverName}'`);
    const full = this.atCapacity(serverName);
    if (full) throw full;
    const id = randomBytes(8).toString('hex');
    const log = this.log.child({ server: serverName, session: id });
    const maxBytes = snap.config.daemon.max_message_bytes;
    const session = new Session({
      id,
      server: serverName,
      identity,
      upstream: createUpstream(serverName, server, maxBytes, log, snap),
      client: link,
      stages: () => this.guard.stagesFor(serverName),
      audit: this.metrics.tee(this.guard.audit),
      log,
      requestTimeoutMs: server.request_timeout_ms,
      scrub: snap.scrub,
      approvals: this.guard.approvals,
      onClosed: (s) => {
        if (this.sessions.delete(s)) this.metrics.sessionClosed(front);
        this.droppedByClosed += s.dropped;
      },
    });
    this.sessions.add(session);
    this.metrics.sessionOpened(front);
    log.info('session opened', { identity: identity.id });
    return session;
  }
}

/** Create a directory only its owner can enter; tighten one we own that is looser. */
function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(dir, 0o700);
}

/** True if something answers on the socket. */
export function answers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(socketPath);
    const t = setTimeout(() => {
      c.destroy();
      resolve(false);
    }, timeoutMs);
    c.once('connect', () => {
      clearTimeout(t);
      c.destroy();
      resolve(true);
    });
    c.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}
