// The daemon's authenticator: turns a connection and the credentials of its hello into an
// Identity, by the configured auth mode, or throws an Error whose message says why (never a secret).
import type { Socket } from 'node:net';
import type { AuthConfig } from '../config/auth-schema.js';
import type { Logger } from '../protocol/log.js';
import type { Identity } from '../protocol/identity.js';
import { KeyStore } from './keys.js';
import { OsAuthenticator } from './os.js';
import { peerCredentials } from './peercred.js';
import type { TokenValidatorOptions } from './jwt.js';

export type { Identity } from '../protocol/identity.js';

export interface AuthInput {
  socket?: Socket;
  credentials?: { apiKey?: string; token?: string };
  server: string;
}

export interface Authenticator {
  authenticate(input: AuthInput): Promise<Identity>;
  /** Whether a live session's identity still holds: its key not revoked, its token not expired. */
  stillValid(identity: Identity, now: number): boolean;
  close(): Promise<void>;
}

const notExpired = (identity: Identity, now: number) => identity.expiresAt === undefined || now < identity.expiresAt;

export interface AuthenticatorOptions {
  auth: AuthConfig;
  home: string;
  log?: Logger;
  /** For tests and tuning: JWKS cache behaviour in oauth mode. */
  jwks?: TokenValidatorOptions;
}

export async function createAuthenticator(opts: AuthenticatorOptions): Promise<Authenticator> {
  const { auth, home, log } = opts;
  switch (auth.mode) {
    case 'os': {
      const os = new OsAuthenticator(auth);
      return {
        async authenticate({ socket }) {
          return os.authenticate(socket);
        },
        stillValid: () => true,
        async close() {},
      };
    }
    case 'api_key': {
      const store = KeyStore.open(home);
      return {
        async authenticate({ socket, credentials }) {
          const key = credentials?.apiKey;
          if (typeof key !== 'string' || key === '') {
            throw new Error('this daemon requires an API key: set MCP_GUARD_API_KEY or pass --key-file to `mcp-guard connect`');
          }
          const info = store.verify(key);
          return { id: `key:${info.name}`, name: info.name, kind: 'api_key', roles: unique([...info.roles, ...auth.default_roles]), credentialId: info.id, ...peerFields(socket, log) };
        },
        stillValid: (identity, now) => notExpired(identity, now) && (identity.credentialId === undefined || store.isActive(identity.credentialId)),
        async close() {
          store.close();
        },
      };
    }
    case 'oauth': {
      if (!auth.oauth) throw new Error('auth.mode is oauth but the config has no auth.oauth section (issuer, audience, role_mapping)');
      // jose (about 60 ms to load) only for daemons that validate tokens.
      const { TokenValidator } = await import('./jwt.js');
      const validator = new TokenValidator(auth.oauth, auth.default_roles, opts.jwks);
      return {
        async authenticate({ socket, credentials }) {
          const token = credentials?.token;
          if (typeof token !== 'string' || token === '') {
            throw new Error('this daemon requires an OAuth access token: run `mcp-guard auth login`, or set MCP_GUARD_TOKEN');
          }
          return { ...(await validator.validate(token)), ...peerFields(socket, log) };
        },
        stillValid: notExpired,
        async close() {},
      };
    }
  }
}

/** In credential modes the peer's uid/pid are recorded for audit when the kernel can tell them. */
function peerFields(socket: Socket | undefined, log?: Logger): Pick<Identity, 'uid' | 'gid' | 'pid'> {
  if (!socket) return {};
  try {
    const p = peerCredentials(socket);
    return { uid: p.uid, gid: p.gid, ...(p.pid > 0 ? { pid: p.pid } : {}) };
  } catch (err) {
    log?.debug('no peer credentials for this connection', { error: (err as Error).message });
    return {};
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
