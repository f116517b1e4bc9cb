// Floor merge of policies: an overlay (a role, or a personal config over an organisation's base)
// can only restrict. Allowed lists intersect, denied lists union, limits take the smaller value,
// sampling/elicitation can only be switched off, absent fields inherit.
//
// Allow-list intersection: when one side is all literals, the literals that pass the other side
// are kept (exact). Otherwise the base list is kept and the overlay list is added to
// `also_allowed_*`, meaning "a value must pass every allow list" — exact and always safe.
import type { Permissions, Policy, RateLimit, Role } from '../config/policy-schema.js';
import { compilePatterns, isLiteralPattern, type PatternKind } from './pattern.js';
import { normalizeUri } from './uri.js';
import { DEFAULT_PIN_MODE, stricterMode } from './pinning.js';

type Family = 'tools' | 'resources' | 'prompts';
const FAMILIES: readonly Family[] = ['tools', 'resources', 'prompts'];
const KIND: Record<Family, PatternKind> = { tools: 'name', resources: 'uri', prompts: 'name' };

function union(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (!a) return b ? [...b] : undefined;
  if (!b) return [...a];
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x)) && b.every((x) => a.includes(x));
}

/** Literals of `lits` that the allow list `other` admits (every reading of the literal). */
function literalsAdmitted(lits: readonly string[], other: readonly string[], kind: PatternKind): string[] {
  const set = compilePatterns(other, { kind, caseInsensitive: false, label: 'merge' });
  return lits.filter((l) => {
    if (kind === 'uri') {
      const u = normalizeUri(l.startsWith('/') ? 'file://' + l : l);
      return u.ok && u.forms.every((f) => set.matchIndex(f) >= 0);
    }
    return set.matchIndex(l.normalize('NFKC')) >= 0;
  });
}

function intersectAllow(
  a: string[] | undefined,
  b: string[] | undefined,
  kind: PatternKind,
): { allowed?: string[]; also?: string[][] } {
  if (!a) return b ? { allowed: [...b] } : {};
  if (!b) return { allowed: [...a] };
  if (sameSet(a, b)) return { allowed: [...a] };
  if (b.every((p) => isLiteralPattern(p, kind))) return { allowed: literalsAdmitted(b, a, kind) };
  if (a.every((p) => isLiteralPattern(p, kind))) return { allowed: literalsAdmitted(a, b, kind) };
  return { allowed: [...a], also: [[...b]] };
}

function mergePermissions(a: Permissions | undefined, b: Permissions | undefined): Permissions | undefined {
  if (!b) return a;
  if (!a) return b;
  const out: Permissions = {};
  for (const f of FAMILIES) {
    const denied = union(a[`denied_${f}`], b[`denied_${f}`]);
    if (denied) out[`denied_${f}`] = denied;
    const { allowed, also } = intersectAllow(a[`allowed_${f}`], b[`allowed_${f}`], KIND[f]);
    if (allowed) out[`allowed_${f}`] = allowed;
    const extra = [...(a[`also_allowed_${f}`] ?? []), ...(b[`also_allowed_${f}`] ?? []), ...(also ?? [])];
    if (extra.length) out[`also_allowed_${f}`] = extra;
  }
  return out;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function mergeRate(a: RateLimit | undefined, b: RateLimit | undefined): RateLimit | undefined {
  if (!b) return a;
  if (!a) return b;
  const out: RateLimit = {};
  const rpm = minDefined(a.requests_per_minute, b.requests_per_minute);
  const rph = minDefined(a.requests_per_hour, b.requests_per_hour);
  if (rpm !== undefined) out.requests_per_minute = rpm;
  if (rph !== undefined) out.requests_per_hour = rph;
  if (a.tool_limits || b.tool_limits) {
    const tl: NonNullable<RateLimit['tool_limits']> = {};
    const keys = new Set([...Object.keys(a.tool_limits ?? {}), ...Object.keys(b.tool_limits ?? {})]);
    for (const k of keys) {
      const x = a.tool_limits?.[k];
      const y = b.tool_limits?.[k];
      const m: { requests_per_minute?: number; requests_per_hour?: number } = {};
      const pm = minDefined(x?.requests_per_minute, y?.requests_per_minute);
      const ph = minDefined(x?.requests_per_hour, y?.requests_per_hour);
      if (pm !== undefined) m.requests_per_minute = pm;
      if (ph !== undefined) m.requests_per_hour = ph;
      tl[k] = m;
    }
    out.tool_limits = tl;
  }
  return out;
}

/**
 * An overlay can switch a feature off but never on: `enabled: true` in an overlay does not
 * enable what the base leaves off or at its default (disabled).
 */
function mergeEnabled(a: boolean | undefined, b: boolean | undefined): boolean | undefined {
  if (a === false || b === false) return false;
  return a;
}

function mergeSampling(a: Policy['sampling'], b: Policy['sampling']): Policy['sampling'] {
  if (!a && !b) return undefined;
  const out: NonNullable<Policy['sampling']> = {};
  const enabled = mergeEnabled(a?.enabled, b?.enabled);
  const max = minDefined(a?.max_tokens, b?.max_tokens);
  if (enabled !== undefined) out.enabled = enabled;
  if (max !== undefined) out.max_tokens = max;
  return out;
}

function mergeElicitation(a: Policy['elicitation'], b: Policy['elicitation']): Policy['elicitation'] {
  if (!a && !b) return undefined;
  const enabled = mergeEnabled(a?.enabled, b?.enabled);
  return enabled === undefined ? {} : { enabled };
}

/** Floor merge: the result is at least as strict as `base` and as `overlay` (DESIGN.md section 3). */
export function floorMerge(base: Policy, overlay: Policy | Role | undefined): Policy {
  if (!overlay) return base;
  // Listing every key of Policy makes the compiler flag a new schema field that is not merged here.
  const merged: { [K in keyof Required<Policy>]: Policy[K] } = {
    permissions: mergePermissions(base.permissions, overlay.permissions),
    argument_rules:
      base.argument_rules || overlay.argument_rules
        ? [...(base.argument_rules ?? []), ...(overlay.argument_rules ?? [])]
        : undefined,
    rate_limit: mergeRate(base.rate_limit, overlay.rate_limit),
    sampling: mergeSampling(base.sampling, overlay.sampling),
    elicitation: mergeElicitation(base.elicitation, overlay.elicitation),
    // Roles have no pinning of their own (pins are per server); a personal config's can only
    // tighten, and a base that says nothing is at the default (tofu), not at off.
    // Approval rules add up: a call held by either is held. A shorter wait is the stricter one
    // (an undecided call is refused sooner); `via: client` in an added rule never relaxes another.
    approval: base.approval || overlay.approval ? [...(base.approval ?? []), ...(overlay.approval ?? [])] : undefined,
    approval_timeout_s: minDefined(base.approval_timeout_s, 'approval_timeout_s' in overlay ? overlay.approval_timeout_s : undefined),
    pinning: 'pinning' in overlay && overlay.pinning !== undefined ? stricterMode(base.pinning ?? DEFAULT_PIN_MODE, overlay.pinning) : base.pinning,
  };
  const out: Policy = {};
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The effective policy of a caller: the server's policy narrowed by each of its roles. */
export function narrow(base: Policy, ...roles: Role[]): Policy {
  let p = base;
  for (const r of roles) p = floorMerge(p, r);
  return p;
}
