// Everything the daemon shares between sessions: the config snapshot and the stages compiled from
// it, identity checks, the rate limiter, the audit log and the inspection pool. A reload swaps the
// snapshot atomically: live sessions see the new policy on their next message (their stage getter
// reads the current snapshot), while a changed command or URL applies to new sessions.
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig, expandHome, type LoadedConfig } from '../config/loader.js';
import type { Credentials } from '../protocol/hello.js';
import type { Identity } from '../protocol/identity.js';
import type { Stage } from '../protocol/stage.js';
import type { Logger } from './log.js';
import { policyStages } from '../policy/stage.js';
import { RateLimiter } from '../policy/ratelimit.js';
import { detectionStage } from '../detect/stage.js';
import { InspectionPool } from './inspection-pool.js';
import { compileDetector } from '../detect/detector.js';
import { compileGate } from '../detect/gate.js';
import { inspectMessage } from '../detect/scan.js';
import { AuditLog } from '../audit/log.js';
import { privateFile } from '../protocol/private-files.js';
import { loadAuditKey } from '../audit/key.js';
import { RateState } from './state.js';
import { createAuthenticator, type Authenticator } from '../identity/index.js';

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
  private rateState?: RateState;
  private authenticator!: Authenticator;
  private snap!: Snapshot;
  /** Stages per server, compiled once per snapshot. */
  private stageCache = new Map<string, readonly Stage[]>();

  private constructor(
    private readonly log: Logger,
    /** Key of the keyed hashes that stand for findings in audit rows (stable across restarts). */
    private readonly hashKey: Buffer,
  ) {}

  static async create(loaded: LoadedConfig, log: Logger): Promise<Guard> {
    const g = new Guard(log, hashKeyOf(loaded.home));
    g.snap = g.prepare(loaded);
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
    const stages: Stage[] = [...policyStages({ server, policy: s.policy, roles: config.auth.roles, limiter: this.limiter }), this.snap.pii];
    this.stageCache.set(server, stages);
    return stages;
  }

  /** Who is calling: from the kernel (os mode) or a verified credential; throws with a reason. */
  authenticate(socket: Socket | undefined, credentials: Credentials | undefined, server: string): Promise<Identity> {
    return this.authenticator.authenticate({ socket, credentials, server });
  }

  stillValid(identity: Identity): boolean {
    return this.authenticator.stillValid(identity, Date.now());
  }

  async reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      const loaded = await loadConfig(this.snap.path);
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
      this.log.error('config reload failed; keeping the running config', { error: (err as Error).message });
      return { ok: false, error: (err as Error).message };
    }
  }

  status(): Record<string, unknown> {
    return { rateBuckets: this.limiter.size, auditQueue: this.audit?.depth ?? null };
  }

  /** Flushes every queued audit record. */
  async close(): Promise<void> {
    await this.authenticator?.close().catch(() => {});
    this.rateState?.close();
    await this.audit?.close();
  }
}

export function auditPath(loaded: LoadedConfig): string {
  const p = loaded.config.audit.path;
  return p ? resolve(dirname(loaded.path), expandHome(p)) : join(loaded.home, 'audit.db');
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
