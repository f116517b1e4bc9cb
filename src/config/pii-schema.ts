// Schema of the `pii` section: detection on/off, per-type actions per direction, custom types, allowlists.
import { z } from 'zod';

export const ActionSchema = z.enum(['block', 'redact', 'mask', 'hash', 'warn', 'allow']);
export const DirectionActionsSchema = z.strictObject({
  request: ActionSchema.optional(),
  response: ActionSchema.optional(),
});

export const CustomTypeSchema = z.strictObject({
  label: z.string().optional(),
  patterns: z.array(z.strictObject({ regex: z.string().min(1) })).min(1),
  /** Optional built-in validator applied to each match (e.g. luhn, mod97, nhs, sin). */
  validator: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  actions: DirectionActionsSchema.optional(),
});

export const AllowlistEntrySchema = z.strictObject({
  /** A rule id or type the entry applies to; absent means every type. */
  type: z.string().optional(),
  literal: z.string().optional(),
  regex: z.string().optional(),
  /** Tool name and argument path (e.g. `search:query`) the entry applies to. */
  tool: z.string().optional(),
  path: z.string().optional(),
});

export const PiiSchema = z.strictObject({
  enabled: z.boolean().default(true),
  actions: z.record(z.string(), DirectionActionsSchema).default({}),
  custom_types: z.record(z.string(), CustomTypeSchema).default({}),
  allowlist: z.array(AllowlistEntrySchema).default([]),
  /** Types disabled entirely (rule ids or types). */
  disabled_types: z.array(z.string()).default([]),
  /** Messages larger than this are not scanned: blocked with too_large (-32012) unless on_oversize is allow. */
  scan_limit_bytes: z.number().int().positive().default(16 * 1024 * 1024),
  on_oversize: z.enum(['block', 'allow']).default('block'),
  /** Worker threads of the inspection pool; 0 picks from the core count. */
  threads: z.number().int().nonnegative().default(0),
  /** Time limit for inspecting one batch; past it the messages are blocked (fail closed). */
  timeout_ms: z.number().int().positive().default(5000),
});

export type PiiConfig = z.infer<typeof PiiSchema>;
export type Action = z.infer<typeof ActionSchema>;
