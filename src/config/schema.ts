// The whole config file: servers, daemon, auth, pii, audit, extends. Types are inferred from here.
import { z } from 'zod';
import { PolicySchema } from './policy-schema.js';
import { PiiSchema } from './pii-schema.js';
import { AuditSchema } from './audit-schema.js';
import { AuthSchema } from './auth-schema.js';

export const ServerFields = z.strictObject({
    transport: z.enum(['stdio', 'streamable-http', 'sse']).default('stdio'),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().optional(),
    url: z.string().url().optional(),
    upstream_auth_token: z.string().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** Time an upstream request may take before the client gets upstream_unavailable (-32011). 0 disables. */
    request_timeout_ms: z.number().int().nonnegative().default(0),
    /** Time the upstream may take to start (spawn or connect). */
    connect_timeout_ms: z.number().int().positive().default(30_000),
    policy: PolicySchema.default({}),
    /** With `policy.pinning: strict`: the definitions allowed, as pin id (`tool`, `prompt:NAME`, `template:URI`) → SHA-256 from `mcp-guard pins list`. */
    pins: z.record(z.string().min(1), z.string().regex(/^[0-9a-fA-F]{64}$/, 'a pin is the 64-hex-digit SHA-256 that `mcp-guard pins list` prints')).optional(),
    /** In a base config: a personal config may not change this server. */
    locked: z.boolean().default(false),
});

/** What a server needs to be reachable; checked per file, or after composition for a file with `extends`. */
export function serverProblems(s: z.infer<typeof ServerFields>): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (s.transport === 'stdio' && !s.command) out.push({ path: ['command'], message: 'a stdio server needs `command`' });
  if (s.transport !== 'stdio' && !s.url) out.push({ path: ['url'], message: `a ${s.transport} server needs \`url\`` });
  if (s.pins && s.policy.pinning !== 'strict') {
    out.push({ path: ['pins'], message: `\`pins\` are used only with \`policy.pinning: strict\` (this server's pinning is ${s.policy.pinning ?? 'tofu'})` });
  }
  return out;
}

export const ServerSchema = ServerFields.superRefine((s, ctx) => {
  for (const p of serverProblems(s)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});

/** Largest JSON-RPC message the daemon accepts by default, either way (`daemon.max_message_bytes`). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export const DaemonSchema = z.strictObject({
  home: z.string().optional(),
  socket_path: z.string().optional(),
  log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  dashboard_port: z.number().int().min(0).max(65535).default(9777),
  shutdown_timeout: z.number().nonnegative().default(30),
  /** Largest JSON-RPC message accepted in either direction, in bytes. */
  max_message_bytes: z.number().int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
  /** Sessions open at once (bridge and HTTP together); beyond it a new one is refused. Default: what the open-file limit allows. */
  max_sessions: z.number().int().positive().optional(),
  http: z
    .strictObject({
      listen: z.string().default('127.0.0.1:8080'),
      tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
      max_sessions: z.number().int().positive().default(1000),
      /** An HTTP session with no request and no open stream for this long is ended. */
      idle_timeout_s: z.number().positive().default(600),
      /** A request's headers and body must arrive within this, or it gets 408 and its connection closes. */
      request_timeout_s: z.number().positive().default(30),
      max_body_bytes: z.number().int().positive().default(4 * 1024 * 1024),
      allowed_origins: z.array(z.string()).default([]),
    })
    .optional(),
});

export const ExtendsSchema = z
  .strictObject({
    url: z.string().optional(),
    path: z.string().optional(),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits'),
  })
  .refine((e) => !!e.url !== !!e.path, { message: 'extends needs exactly one of `url` or `path`' });

export const ConfigSchema = z.strictObject({
  servers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'server names use letters, digits, _ . -'), ServerSchema).default({}),
  daemon: DaemonSchema.default(DaemonSchema.parse({})),
  auth: AuthSchema.default(AuthSchema.parse({})),
  pii: PiiSchema.default(PiiSchema.parse({})),
  audit: AuditSchema.default(AuditSchema.parse({})),
  /** In a base config: the policy floor for servers a personal config adds. */
  defaults: PolicySchema.optional(),
  extends: ExtendsSchema.optional(),
});

/** A file with `extends` names base servers only by what it changes: their connection comes from the base. */
export const LayerSchema = ConfigSchema.extend({
  servers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'server names use letters, digits, _ . -'), ServerFields).default({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ServerConfig = z.infer<typeof ServerSchema>;
export type DaemonConfig = z.infer<typeof DaemonSchema>;
