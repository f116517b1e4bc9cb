// Schema of the `auth` section: how callers are identified and which roles they get.
import { z } from 'zod';
import { RoleSchema } from './policy-schema.js';

export const AuthSchema = z.strictObject({
  mode: z.enum(['os', 'api_key', 'oauth']).default('os'),
  roles: z.record(z.string(), RoleSchema).default({}),
  /** Roles given to every authenticated caller (in os mode: to the daemon's own user). */
  default_roles: z.array(z.string()).default([]),
  os: z
    .strictObject({
      users: z.record(z.string(), z.array(z.string())).default({}),
      groups: z.record(z.string(), z.array(z.string())).default({}),
      /** Allow only these uids/users to connect; absent: the daemon's own user only. */
      allowed_users: z.array(z.union([z.string(), z.number()])).optional(),
    })
    .optional(),
  oauth: z
    .strictObject({
      issuer: z.string().url(),
      audience: z.string().optional(),
      jwks_uri: z.string().url().optional(),
      client_id: z.string().optional(),
      client_secret: z.string().optional(),
      scopes: z.array(z.string()).default(['openid']),
      role_claim: z.string().default('roles'),
      role_mapping: z.record(z.string(), z.array(z.string())).default({}),
      clock_tolerance_s: z.number().int().nonnegative().default(30),
    })
    .optional(),
});

export type AuthConfig = z.infer<typeof AuthSchema>;
