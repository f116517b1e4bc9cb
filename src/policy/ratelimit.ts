// Token buckets on a monotonic millisecond clock passed in by the caller (no clock of our own).
// A request must find a token in every bucket that applies to it (server+identity per minute and
// per hour, and server+identity+tool), and takes from all of them or from none.
//
// Burst: a bucket holds max(ceil(limit / 6), min(limit, 5)) tokens, i.e. a sixth of its window
// (10 s of refill for a per-minute limit, 10 min for a per-hour one), at least 5 when the limit
// allows, and never more than the limit. Against 60/min a client hammering for 10 s gets at most
// 10 (burst) + 10 (refill) = 20, and in any 60 s window at most 70: the limit plus the burst.
// Refill is continuous: limit / window tokens per ms.
import type { RateLimit } from '../config/policy-schema.js';
import { nameKey } from './pattern.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export function bucketCapacity(limit: number): number {
  return Math.max(1, Math.ceil(limit / 6), Math.min(limit, 5));
}

/** One bucket a request must take a token from. */
export interface LimitSpec {
  key: string;
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
  /** Config path shown to the caller: `rate_limit.requests_per_minute (60)`. */
  label: string;
}

export type RateOutcome = { ok: true } | { ok: false; retryAfterMs: number; limit: string };

interface Bucket {
  tokens: number;
  last: number;
  cap: number;
  /** Tokens per ms. */
  rate: number;
}

/** Plain-JSON state for persistence: `[key, tokens, msSinceLastUpdate, capacity, ratePerMs]`. */
export interface RateSnapshot {
  version: 1;
  buckets: Array<[string, number, number, number, number]>;
}

export interface RateLimiterOptions {
  /** Sweep (drop buckets that have refilled completely) every this many takes. */
  sweepEvery?: number;
}

function levelOf(b: Bucket, now: number): number {
  const elapsed = now > b.last ? now - b.last : 0;
  return Math.min(b.cap, b.tokens + elapsed * b.rate);
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;
  private readonly sweepEvery: number;

  constructor(opts: RateLimiterOptions = {}) {
    this.sweepEvery = opts.sweepEvery ?? 4096;
  }

  get size(): number {
    return this.buckets.size;
  }

  private level(b: Bucket | undefined, spec: LimitSpec, now: number): number {
    const cap = bucketCapacity(spec.limit);
    if (!b) return cap;
    const rate = spec.limit / spec.windowMs;
    const elapsed = now > b.last ? now - b.last : 0; // a clock that goes back refills nothing
    return Math.min(cap, b.tokens + elapsed * rate);
  }

  /** Takes one token from each bucket, or none if any is empty. */
  take(specs: readonly LimitSpec[], now: number): RateOutcome {
    let retry = -1;
    let label = '';
    for (const s of specs) {
      const t = this.level(this.buckets.get(s.key), s, now);
      if (t < 1) {
        const wait = Math.ceil((1 - t) / (s.limit / s.windowMs));
        if (wait > retry) {
          retry = wait;
          label = s.label;
        }
      }
    }
    if (retry >= 0) return { ok: false, retryAfterMs: Math.max(1, retry), limit: label };
    for (const s of specs) {
      const b = this.buckets.get(s.key);
      const t = this.level(b, s, now);
      const cap = bucketCapacity(s.limit);
      const rate = s.limit / s.windowMs;
      if (b) {
        b.tokens = t - 1;
        b.last = now > b.last ? now : b.last;
        b.cap = cap;
        b.rate = rate;
      } else this.buckets.set(s.key, { tokens: t - 1, last: now, cap, rate });
    }
    if (++this.takes % this.sweepEvery === 0) this.sweep(now);
    return { ok: true };
  }

  /** Drops buckets that have refilled completely: they are the same as no bucket. */
  sweep(now: number): number {
    let dropped = 0;
    for (const [k, b] of this.buckets) {
      if (levelOf(b, now) >= b.cap) {
        this.buckets.delete(k);
        dropped++;
      }
    }
    return dropped;
  }

  snapshot(nowMono: number): RateSnapshot {
    const buckets: RateSnapshot['buckets'] = [];
    for (const [k, b] of this.buckets) buckets.push([k, b.tokens, Math.max(0, nowMono - b.last), b.cap, b.rate]);
    return { version: 1, buckets };
  }

  /**
   * Restores a snapshot taken before a restart. `wallClockDelta` is the wall-clock time in ms
   * between the snapshot and now; a negative or invalid one counts as 0 (no free refill).
   * Invalid entries are skipped; tokens are clamped to the bucket's capacity.
   */
  restore(snap: unknown, nowMono: number, wallClockDelta: number): number {
    const s = snap as Partial<RateSnapshot> | null;
    if (!s || s.version !== 1 || !Array.isArray(s.buckets)) return 0;
    const delta = Number.isFinite(wallClockDelta) && wallClockDelta > 0 ? wallClockDelta : 0;
    let n = 0;
    for (const e of s.buckets) {
      if (!Array.isArray(e) || e.length !== 5) continue;
      const [key, tokens, ago, cap, rate] = e;
      if (typeof key !== 'string' || ![tokens, ago, cap, rate].every((x) => typeof x === 'number' && Number.isFinite(x)))
        continue;
      if (cap < 1 || rate <= 0 || ago < 0) continue;
      const prev = this.buckets.get(key);
      const b: Bucket = { tokens: Math.min(cap, Math.max(0, tokens)), last: nowMono - ago - delta, cap, rate };
      // Never hand out more than the live state already allows: keep the emptier bucket.
      if (prev && levelOf(prev, nowMono) <= levelOf(b, nowMono)) continue;
      this.buckets.set(key, b);
      n++;
    }
    return n;
  }
}

/** A policy's rate limits, compiled: tool names keyed by `nameKey` (NFKC, lower case, no invisibles). */
export interface CompiledRateLimit {
  rpm?: number;
  rph?: number;
  tools: Map<string, { rpm?: number; rph?: number; name: string }>;
}

export function compileRateLimit(r: RateLimit | undefined): CompiledRateLimit {
  const tools = new Map<string, { rpm?: number; rph?: number; name: string }>();
  for (const [name, l] of Object.entries(r?.tool_limits ?? {})) {
    // Case, width and invisible variants of a name share one limit (the stricter value if both are set).
    const k = nameKey(name);
    const prev = tools.get(k);
    const rpm = prev?.rpm === undefined ? l.requests_per_minute : Math.min(prev.rpm, l.requests_per_minute ?? Infinity);
    const rph = prev?.rph === undefined ? l.requests_per_hour : Math.min(prev.rph, l.requests_per_hour ?? Infinity);
    tools.set(k, { rpm, rph, name });
  }
  return { rpm: r?.requests_per_minute, rph: r?.requests_per_hour, tools };
}

/** Requests that do not count: the handshake and keep-alives. Notifications and responses never count. */
// server/discover is the 2026 form of initialize: exempt like it.
export const RATE_EXEMPT_METHODS: ReadonlySet<string> = new Set(['initialize', 'server/discover', 'ping']);

/** Bucket lists remembered per compiled limits (a reload compiles new ones): server → identity → tool. */
interface SpecMemo {
  size: number;
  byServer: Map<string, Map<string, Map<string | undefined, readonly LimitSpec[]>>>;
}
const specMemo = new WeakMap<CompiledRateLimit, SpecMemo>();
const SPEC_MEMO_MAX = 4096;

/** The buckets one client request must pass. `toolName` only for tools/call. */
export function limitSpecs(server: string, identity: string, r: CompiledRateLimit, toolName: unknown): readonly LimitSpec[] {
  if (toolName !== undefined && (typeof toolName !== 'string' || toolName.length > 256)) return buildSpecs(server, identity, r, toolName);
  const tool = toolName as string | undefined;
  let memo = specMemo.get(r);
  if (!memo) specMemo.set(r, (memo = { size: 0, byServer: new Map() }));
  let byIdentity = memo.byServer.get(server);
  if (!byIdentity) memo.byServer.set(server, (byIdentity = new Map()));
  let byTool = byIdentity.get(identity);
  if (!byTool) byIdentity.set(identity, (byTool = new Map()));
  let specs = byTool.get(tool);
  if (!specs) {
    specs = Object.freeze(buildSpecs(server, identity, r, tool));
    if (memo.size >= SPEC_MEMO_MAX) {
      memo.byServer.clear();
      memo.size = 0;
    } else {
      byTool.set(tool, specs);
      memo.size++;
    }
  }
  return specs;
}

function buildSpecs(server: string, identity: string, r: CompiledRateLimit, toolName: unknown): LimitSpec[] {
  const specs: LimitSpec[] = [];
  const base = `${server}\u0000${identity}\u0000`;
  if (r.rpm !== undefined)
    specs.push({ key: base + 'm', limit: r.rpm, windowMs: MINUTE_MS, label: `rate_limit.requests_per_minute (${r.rpm})` });
  if (r.rph !== undefined)
    specs.push({ key: base + 'h', limit: r.rph, windowMs: HOUR_MS, label: `rate_limit.requests_per_hour (${r.rph})` });
  if (r.tools.size > 0 && typeof toolName === 'string') {
    const k = nameKey(toolName);
    const t = r.tools.get(k);
    if (t) {
      const where = `rate_limit.tool_limits.${t.name}`;
      if (t.rpm !== undefined)
        specs.push({ key: `${base}t\u0000${k}\u0000m`, limit: t.rpm, windowMs: MINUTE_MS, label: `${where}.requests_per_minute (${t.rpm})` });
      if (t.rph !== undefined)
        specs.push({ key: `${base}t\u0000${k}\u0000h`, limit: t.rph, windowMs: HOUR_MS, label: `${where}.requests_per_hour (${t.rph})` });
    }
  }
  return specs;
}
