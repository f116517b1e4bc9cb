// A policy compiled once for fast checks on the hot path: pattern lists as RE2 objects and maps,
// argument rules by tool, rate limits keyed by normalised tool name, sampling defaults applied.
import type { Policy } from '../config/policy-schema.js';
import { compileApprovalRules, compileArgumentRules, type CompiledApprovalRules, type CompiledArgumentRules } from './arguments.js';
import { PatternCompileError } from './pattern.js';
import { compilePermissions, type CompiledPermissions, type Denial } from './permissions.js';
import { compileRateLimit, type CompiledRateLimit } from './ratelimit.js';

/**
 * Defaults when a policy says nothing. Both are off: sampling lets a server spend the user's
 * model (and inject prompts into it), elicitation lets it ask the user for input in the
 * client's own UI (a phishing channel). A server must be trusted explicitly to use them.
 * No max_tokens cap unless one is configured (the client still applies its own).
 */
export const SAMPLING_ENABLED_BY_DEFAULT = false;
export const ELICITATION_ENABLED_BY_DEFAULT = false;
/** How long a held call waits for a person's decision when the policy does not say. */
export const DEFAULT_APPROVAL_TIMEOUT_S = 300;

export interface CompiledPolicy {
  readonly policy: Policy;
  /** Set when the caller must be refused everything (e.g. an unknown role): fail closed. */
  readonly denyAll?: Denial;
  readonly permissions: CompiledPermissions;
  readonly args: CompiledArgumentRules;
  readonly rate: CompiledRateLimit;
  readonly sampling: { readonly enabled: boolean; readonly maxTokens?: number };
  readonly elicitation: { readonly enabled: boolean };
  /** Calls held for a person's decision, and how long one waits (ms). */
  readonly approval: CompiledApprovalRules & { readonly timeoutMs: number };
}

/** Compiles a policy. Throws PatternCompileError (naming the config path) for a bad pattern. */
export function compilePolicy(policy: Policy, denyAll?: Denial): CompiledPolicy {
  return {
    policy,
    denyAll,
    permissions: compilePermissions(policy.permissions),
    args: compileArgumentRules(policy.argument_rules),
    rate: compileRateLimit(policy.rate_limit),
    sampling: {
      enabled: denyAll ? false : (policy.sampling?.enabled ?? SAMPLING_ENABLED_BY_DEFAULT),
      maxTokens: policy.sampling?.max_tokens,
    },
    elicitation: { enabled: denyAll ? false : (policy.elicitation?.enabled ?? ELICITATION_ENABLED_BY_DEFAULT) },
    approval: Object.assign(compileApprovalRules(policy.approval), { timeoutMs: (policy.approval_timeout_s ?? DEFAULT_APPROVAL_TIMEOUT_S) * 1000 }),
  };
}

/**
 * Problems that would make compilePolicy throw (bad regex, bad URI, bad argument path), as
 * config paths with messages, for the config loader to report with source positions.
 */
export function policyProblems(policy: Policy): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const attempt = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (e instanceof PatternCompileError) out.push({ path: e.where, message: e.message });
      else out.push({ path: '', message: (e as Error).message });
    }
  };
  attempt(() => compilePermissions(policy.permissions));
  (policy.argument_rules ?? []).forEach((r, i) => attempt(() => compileArgumentRules([r], 'argument_rules', i)));
  (policy.approval ?? []).forEach((r, i) => attempt(() => compileApprovalRules([r], 'approval', i)));
  // A second bad pattern in the same list is found after the first is fixed; good enough.
  return out;
}
