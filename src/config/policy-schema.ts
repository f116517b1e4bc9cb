// Schema of a server policy and of a role: permissions, argument rules, rate limits, sampling.
// Every field is optional so that an absent field inherits in a floor merge (DESIGN.md section 3).
import { z } from 'zod';

const patternList = z.array(z.string().min(1));

export const PermissionsSchema = z.strictObject({
  allowed_tools: patternList.optional(),
  denied_tools: patternList.optional(),
  allowed_resources: patternList.optional(),
  denied_resources: patternList.optional(),
  allowed_prompts: patternList.optional(),
  denied_prompts: patternList.optional(),
  // Produced by a floor merge (roles, `extends`) when two allow lists cannot be intersected as
  // literals: each inner list is one more allow list that a value must ALSO pass. Writing them
  // by hand is allowed; they can only restrict.
  also_allowed_tools: z.array(patternList).optional(),
  also_allowed_resources: z.array(patternList).optional(),
  also_allowed_prompts: z.array(patternList).optional(),
});

/** A condition on one tool argument, addressed by a JSON path such as `path` or `options.target`. */
export const ArgumentRuleSchema = z.strictObject({
  tool: z.string().min(1),
  path: z.string().min(1),
  glob: z.string().optional(),
  regex: z.string().optional(),
  enum: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  max_length: z.number().int().nonnegative().optional(),
  /** deny: refuse when the condition matches; require: refuse when it does not. */
  action: z.enum(['deny', 'require']).default('deny'),
  reason: z.string().optional(),
});

/**
 * A call a person must approve before it is forwarded (src/policy/approval.ts): the shape of an
 * argument rule, with `path` optional (no path: every call of the tool). A call that the rule with
 * `action: deny` would refuse (or, with `action: require`, one that does not match) is held.
 */
export const ApprovalRuleSchema = ArgumentRuleSchema.extend({
  path: z.string().min(1).optional(),
  /**
   * cli (default): a person decides with `mcp-guard approvals`. client: the client is asked with an
   * elicitation, for single-user setups where the person at the client is the approver; an agent
   * that answers its own elicitations approves itself (README, "Approval").
   */
  via: z.enum(['cli', 'client']).optional(),
});

export const LimitSchema = z.strictObject({
  requests_per_minute: z.number().int().positive().optional(),
  requests_per_hour: z.number().int().positive().optional(),
});

export const RateLimitSchema = z.strictObject({
  requests_per_minute: z.number().int().positive().optional(),
  requests_per_hour: z.number().int().positive().optional(),
  tool_limits: z.record(z.string(), LimitSchema).optional(),
});

export const SamplingSchema = z.strictObject({
  enabled: z.boolean().optional(),
  max_tokens: z.number().int().positive().optional(),
});

export const ElicitationSchema = z.strictObject({
  enabled: z.boolean().optional(),
});

export const PolicySchema = z.strictObject({
  permissions: PermissionsSchema.optional(),
  argument_rules: z.array(ArgumentRuleSchema).optional(),
  rate_limit: RateLimitSchema.optional(),
  sampling: SamplingSchema.optional(),
  elicitation: ElicitationSchema.optional(),
  /** Tool-definition pinning (src/daemon/pinning.ts); absent means tofu. A floor merge keeps the stricter (off < tofu < strict). */
  pinning: z.enum(['tofu', 'strict', 'off']).optional(),
  /** Calls held for a person's decision; roles and personal configs can add rules, never remove them. */
  approval: z.array(ApprovalRuleSchema).optional(),
  /** How long a held call waits for a decision before it is refused (default 300); a floor merge keeps the shorter. */
  approval_timeout_s: z.number().positive().max(86_400).optional(),
});

export const RoleSchema = z.strictObject({
  permissions: PermissionsSchema.optional(),
  argument_rules: z.array(ArgumentRuleSchema).optional(),
  rate_limit: RateLimitSchema.optional(),
  /** A role can only turn sampling/elicitation off or lower max_tokens (floor merge). */
  sampling: SamplingSchema.optional(),
  elicitation: ElicitationSchema.optional(),
  /** Adds approval rules to those of the server (never removes any). */
  approval: z.array(ApprovalRuleSchema).optional(),
});

export type Permissions = z.infer<typeof PermissionsSchema>;
export type ArgumentRule = z.infer<typeof ArgumentRuleSchema>;
export type ApprovalRule = z.infer<typeof ApprovalRuleSchema>;
export type RateLimit = z.infer<typeof RateLimitSchema>;
export type Policy = z.infer<typeof PolicySchema>;
export type Role = z.infer<typeof RoleSchema>;
