// Everything the daemon shares between sessions: the config snapshot and the stages compiled from
// it, identity checks, the rate limiter, the audit log and the inspection pool. A reload swaps the
// snapshot atomically: live sessions see the new policy on their next message (their stage getter
// reads the current snapshot), while a changed command or URL applies to new sessions.
import type { Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, ConfigError, formatProblem, type LoadedConfig } from '../config/loader.js';
import { auditDbOf } from '../config/locate.js';
import type { Credentials } from '../protocol/hello.js';
import type { Identity } from '../protocol/identity.js';
import type { Stage } from '../protocol/stage.js';
import type { Logger } from './log.js';
import { policyStages } from '../policy/stage.js';
import { RateLimiter } from '../policy/ratelimit.js';
import { RoundTracker } from '../policy/rounds.js';
import { detectionStage } from '../detect/stage.js';
import { InspectionPool } from './inspection-pool.js';
import { compileDetector } from '../detect/detector.js';
import { compileGate } from '../detect/gate.js';
import { inspectMessage } from '../detect/scan.js';
import { AuditLog } from '../audit/log.js';
import { privateFile } from '../protocol/private-files.js';
import { loadAuditKey } from '../audit/key.js';
import { RateState } from './state.js';
import { PinStore } from './pins.js';
import { Pinning, type NotifiableSession, type PinSettings } from './pinning.js';
import { DEFAULT_PIN_MODE } from '../policy/pinning.js';
import { createAuthenticator, type Authenticator } from '../identity/index.js';
import { Approvals } from './approvals.js';

export interface Snapshot extends LoadedConfig {
  /** Cleans a line of upstream stderr before it is logged: PII and secrets never reach the log. */
  cleanLog: (s: string) => string;
  /** cleanLog for audit fields (tool names, URIs, reasons), which repeat: clean values are remembered. */
  scrub: (s: string) => string;
  /** The `pii` stage, shared by every server of this snapshot. */
  pii: Stage;
}

export class Guard {
  audit?: AuditLog;
  readonly limiter = new RateLimiter();
  /** Open rounds of 2026 calls (one logical call, charged once); survives reloads like the buckets. */
  readonly rounds = new RoundTracker();
  private rateState?: RateState;
  /** Tool-definition pins: one store and one view of the sessions for every reload. */
  private pinning!: Pinning;
  /** Calls held for a person's decision, across sessions and reloads. */
  approvals!: Approvals;
  private pinStore?: PinStore;
  private authenticator!: Authenticator;
  private snap!: Snapshot;
  /** Stages per server, compiled once per snapshot. */
  private stageCache = new Map<string, readonly Stage[]>();
  /** The last check of the file on disk, by the digest of its text. */
  private checked?: { digest: string; state: FileState };
  /** The reload error last logged, so that a broken file is logged once. */
  private loggedError?: string;

  private constructor(
    private readonly log: Logger,
    /** Key of the keyed hashes that stand for findings in audit rows (stable across restarts). */
    private readonly hashKey: Buffer,
  ) {}

  static async create(loaded: LoadedConfig, log: Logger): Promise<Guard> {
    const g = new Guard(log, hashKeyOf(loaded.home));
    g.pinStore = PinStore.open(loaded.home);
    g.snap = g.prepare(loaded);
    g.approvals = new Approvals((s) => g.snap.cleanLog(s), log.child({ component: 'approvals' }));
    g.pinning = new Pinning(g.pinStore, log.child({ component: 'pinning' }), (s) => g.snap.scrub(s));
    // Compile every server's stages now, so a bad pattern fails the start, not a session.
    for (const name of Object.keys(loaded.config.servers)) g.compile(name);
    g.authenticator = await createAuthenticator({ auth: loaded.config.auth, home: loaded.home, log });
    g.rateState = new RateState(loaded.home, g.limiter, log);
    const audit = loaded.config.audit;
    if (audit.enabled) {
      const path = auditPath(loaded);
      const key = loadAuditKey(audit, path);
      for (const w of key?.warnings ?? []) log.warn(w);
      g.audit = await AuditLog.open({ path, config: audit, key: key?.key });
      g.audit.onError = (err) => log.error('audit writer error', { error: err.message });
      const a = g.audit;
      a.onStall = (why) => {
        if (why !== undefined) log.error('audit writer cannot commit; new requests are refused until it can', { error: why, waiting: a.depth });
        else log.info('audit writer commits again; requests are accepted', { waiting: a.depth });
      };
    }
    return g;
  }

  /** Everything compiled from one config that does not depend on the server. */
  private prepare(loaded: LoadedConfig): Snapshot {
    const { pii } = loaded.config;
    const pool = pii.enabled ? new InspectionPool({ pii, hashKey: this.hashKey }) : undefined;
    // One compile serves the stage and the log cleaner (which works even with detection off).
    const det = compileDetector({ ...pii, enabled: true }, this.hashKey);
    const gate = compileGate(pii);
    const stage = detectionStage({ pii, hashKey: this.hashKey, pool, compiled: pii.enabled ? { det, gate } : undefined });
    const cleanLog = (line: string): string => {
      if (!gate.needsInspection(Buffer.from(line))) return line;
      const r = inspectMessage({ line }, 'response', det);
      if (!r.findings.length) return line;
      const types = [...new Set(r.findings.map((f) => f.type))].join(', ');
      const out = r.action === 'modify' ? (r.message as { line?: unknown })?.line : undefined;
      return typeof out === 'string' ? out : `[withheld: it contains ${types}]`;
    };
    // Only values found clean are remembered, so the memo never holds what it would have redacted.
    const clean = new Set<string>();
    const scrub = (s: string): string => {
      if (clean.has(s)) return s;
      const out = cleanLog(s);
      if (out === s && s.length <= 256) {
        if (clean.size >= 4096) clean.clear();
        clean.add(s);
      }
      return out;
    };
    return { ...loaded, cleanLog, scrub, pii: stage };
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** The current stages of a server; sessions call this per message so a reload reaches them. */
  stagesFor(server: string): readonly Stage[] {
    return this.stageCache.get(server) ?? this.compile(server);
  }

  private compile(server: string): readonly Stage[] {
    const { config } = this.snap;
    const s = config.servers[server];
    if (!s) throw new Error(`server '${server}' is no longer in the config`);
    const stages: Stage[] = [...policyStages({ server, policy: s.policy, roles: config.auth.roles, limiter: this.limiter, rounds: this.rounds }), this.snap.pii];
    // Pinning sees the upstream's whole list (before the capabilities stage filters it per caller)
    // and refuses calls after the permission and argument checks, which count and explain first.
    const pinning = this.pinning.stage(server, pinSettings(s));
    if (pinning) {
      const at = stages.findIndex((st) => st.name === 'capabilities');
      stages.splice(at < 0 ? 0 : at, 0, pinning);
    }
    this.stageCache.set(server, stages);
    return stages;
  }

  /** The pin store changed (`mcp-guard pins`): re-read it and tell live sessions whose lists grew. */
  pinsChanged(sessions: Iterable<NotifiableSession>): number {
    return this.pinning.refresh(sessions, (server) => {
      const s = this.snap.config.servers[server];
      return s ? pinSettings(s) : undefined;
    });
  }

  /** Who is calling: from the kernel (os mode) or a verified credential; throws with a reason. */
  authenticate(socket: Socket | undefined, credentials: Credentials | undefined, server: string): Promise<Identity> {
    return this.authenticator.authenticate({ socket, credentials, server });
  }

  stillValid(identity: Identity): boolean {
    return this.authenticator.stillValid(identity, Date.now());
  }

  /**
   * Load the file again and swap it in when it is valid. A broken file keeps the running config
   * (DESIGN.md section 6); its error is logged once, not at every save or watch event.
   */
  async reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    const result = await this.apply();
    if (result.ok) this.loggedError = undefined;
    else if (result.error !== this.loggedError) {
      this.loggedError = result.error;
      this.log.error('config reload failed; keeping the running config', { error: result.error });
    }
    return result;
  }

  /** The file on disk now: valid, or its first problem. Checked again only when its text changed (or on reload). */
  async fileState(): Promise<FileState> {
    const path = this.snap.path;
    const text = readText(path);
    const digest = digestOf(text);
    if (this.checked?.digest !== digest) {
      let state: FileState = { valid: true };
      try {
        if (text.error !== undefined) throw new Error(text.error);
        await parseConfig(text.text, path);
      } catch (err) {
        state = invalid(err);
      }
      this.checked = { digest, state };
    }
    return this.checked.state;
  }

  private async apply(): Promise<{ ok: true } | { ok: false; error: string }> {
    const path = this.snap.path;
    const text = readText(path);
    const digest = digestOf(text);
    try {
      if (text.error !== undefined) throw new Error(text.error);
      const loaded = await parseConfig(text.text, path);
      this.checked = { digest, state: { valid: true } };
      if (JSON.stringify(loaded.config) === JSON.stringify(this.snap.config)) return { ok: true };
      const next = this.prepare(loaded);
      const prevSnap = this.snap;
      const prevCache = this.stageCache;
      this.snap = next;
      this.stageCache = new Map();
      let authenticator: Authenticator;
      try {
        for (const name of Object.keys(next.config.servers)) this.compile(name);
        authenticator = await createAuthenticator({ auth: next.config.auth, home: next.home, log: this.log });
      } catch (err) {
        this.snap = prevSnap;
        this.stageCache = prevCache;
        throw err;
      }
      const old = this.authenticator;
      this.authenticator = authenticator;
      void old.close().catch(() => {});
      this.log.info('config reloaded', { config: next.path, servers: Object.keys(next.config.servers) });
      return { ok: true };
    } catch (err) {
      const state = invalid(err);
      this.checked = { digest, state };
      return { ok: false, error: (err as Error).message };
    }
  }

  async status(): Promise<Record<string, unknown>> {
    return {
      rateBuckets: this.limiter.size,
      auditQueue: this.audit?.depth ?? null,
      auditStalled: this.audit?.stalled ?? null,
      rateState: this.rateState?.status ?? null,
      // What `logs` needs when it cannot read the file itself.
      auditDb: auditPath(this.snap),
      configFile: await this.fileState(),
    };
  }

  /** Why new requests are refused right now, if they are (health, /readyz). */
  auditProblem(): string | undefined {
    const a = this.audit;
    if (!a) return undefined;
    if (a.stalled !== undefined) return `the audit log cannot commit (${a.stalled}); new requests are refused until it can (${a.depth} records waiting)`;
    if (a.full) return `the audit queue is full (${a.depth} records waiting); new requests are refused until the writer catches up`;
    return undefined;
  }

  /** Trouble that does not refuse requests (health). */
  warnings(): string[] {
    const e = this.rateState?.status.error;
    return e ? [`the rate-limit state cannot be saved (${e}); the buckets are kept in memory`] : [];
  }

  /**
   * Flushes every queued audit record. A writer that still cannot commit after `auditDeadlineMs`
   * (a full disk) is stopped anyway, and the records it could not commit are counted in the log.
   */
  async close(auditDeadlineMs?: number): Promise<void> {
    await this.authenticator?.close().catch(() => {});
    this.rateState?.close();
    this.pinStore?.close();
    const why = this.audit?.stalled;
    const lost = (await this.audit?.close(auditDeadlineMs)) ?? 0;
    if (lost > 0) this.log.error('audit records could not be committed before the daemon stopped', { records: lost, reason: this.audit?.stalled ?? why ?? 'the writer did not finish in time' });
  }
}

function pinSettings(s: { policy: { pinning?: PinSettings['mode'] }; pins?: Record<string, string> }): PinSettings {
  return { mode: s.policy.pinning ?? DEFAULT_PIN_MODE, pins: s.pins };
}

/** The config file on disk, as the daemon last checked it. */
export type FileState = { valid: true } | { valid: false; error: string; problems: number };

function invalid(err: unknown): FileState {
  if (err instanceof ConfigError) return { valid: false, error: formatProblem(err.problems[0]!), problems: err.problems.length };
  return { valid: false, error: (err as Error).message.split('\n')[0]!, problems: 1 };
}

function readText(path: string): { text: string; error?: undefined } | { text?: undefined; error: string } {
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (err) {
    return { error: `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

const digestOf = (t: { text?: string; error?: string }) => createHash('sha256').update(t.text ?? `\0${t.error}`).digest('hex');

export function auditPath(loaded: LoadedConfig): string {
  return auditDbOf(loaded.path, loaded.home, loaded.config.audit.path);
}

function hashKeyOf(home: string): Buffer {
  const file = join(home, 'hash.key');
  // Created 0600, or tightened if an older version left it looser: it keys every finding hash.
  privateFile(file);
  try {
    const k = readFileSync(file);
    if (k.length === 32) return k;
  } catch {
    /* first start */
  }
  const k = randomBytes(32);
  writeFileSync(file, k);
  return k;
}
