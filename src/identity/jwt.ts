// oauth mode, daemon side: an access token is a JWT signed by the issuer. It is checked against
// the issuer's JWKS (fetched once, cached, re-fetched when an unknown key id shows up), the issuer,
// the audience and the expiry; a claim is mapped to roles, and a token that maps to none is refused.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthConfig } from '../config/auth-schema.js';
import type { Identity } from '../protocol/identity.js';

export type OAuthConfig = NonNullable<AuthConfig['oauth']>;

/** Only asymmetric algorithms: a JWKS holds public keys, and HMAC with a public key is forgeable. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface TokenValidatorOptions {
  /** Minimum time between two JWKS fetches caused by unknown key ids (jose default 30 s). */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is trusted before it is fetched again (jose default 10 min). */
  jwksCacheMaxAgeMs?: number;
}

export class TokenValidator {
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private jwksPending?: Promise<ReturnType<typeof createRemoteJWKSet>>;
  private readonly audience: string;

  constructor(
    private readonly cfg: OAuthConfig,
    private readonly defaultRoles: string[],
    private readonly opts: TokenValidatorOptions = {},
  ) {
    // Without an audience, a token the issuer minted for any other API would be accepted here.
    if (!cfg.audience) throw new Error('auth.oauth.audience is required: set it to the audience (API identifier) your issuer puts in access tokens for mcp-guard');
    this.audience = cfg.audience;
    checkIssuerUrl(cfg.issuer, 'auth.oauth.issuer');
    if (cfg.jwks_uri) checkIssuerUrl(cfg.jwks_uri, 'auth.oauth.jwks_uri');
  }

  async validate(token: string): Promise<Identity> {
    const jwks = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.cfg.issuer,
        audience: this.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.cfg.clock_tolerance_s,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw new Error(describeJoseError(err));
    }
    const values = claimValues(payload, this.cfg.role_claim);
    const mapped = new Set<string>();
    for (const v of values) for (const r of this.cfg.role_mapping[v] ?? []) mapped.add(r);
    if (mapped.size === 0) {
      throw new Error(`the token's '${this.cfg.role_claim}' claim maps to no role in auth.oauth.role_mapping; access denied`);
    }
    for (const r of this.defaultRoles) mapped.add(r);
    const sub = String(payload.sub);
    const name = firstString(payload, ['preferred_username', 'email', 'name']) ?? sub;
    return { id: `oauth:${sub}`, name, kind: 'oauth', roles: [...mapped], expiresAt: payload.exp! * 1000 };
  }

  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    this.jwksPending ??= this.discoverJwks().then(
      (uri) =>
        (this.jwks = createRemoteJWKSet(new URL(uri), {
          ...(this.opts.jwksCooldownMs !== undefined ? { cooldownDuration: this.opts.jwksCooldownMs } : {}),
          ...(this.opts.jwksCacheMaxAgeMs !== undefined ? { cacheMaxAge: this.opts.jwksCacheMaxAgeMs } : {}),
          timeoutDuration: 5000,
        })),
      (err) => {
        this.jwksPending = undefined; // retry discovery on the next connection
        throw err;
      },
    );
    return this.jwksPending;
  }

  /** jwks_uri from the config, else from the issuer's discovery document (whose issuer must match). */
  private async discoverJwks(): Promise<string> {
    if (this.cfg.jwks_uri) return this.cfg.jwks_uri;
    const meta = await fetchDiscovery(this.cfg.issuer);
    if (typeof meta.jwks_uri !== 'string') throw new Error(`the issuer's discovery document has no jwks_uri; set auth.oauth.jwks_uri`);
    checkIssuerUrl(meta.jwks_uri, 'jwks_uri in the discovery document');
    return meta.jwks_uri;
  }
}

export async function fetchDiscovery(issuer: string): Promise<Record<string, unknown>> {
  const url = issuer.replace(/\/$/, '') + '/.well-known/openid-configuration';
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  } catch (err) {
    throw new Error(`cannot reach the OAuth issuer at ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new Error(`the OAuth issuer answered ${res.status} for ${url}`);
  const meta = (await res.json()) as Record<string, unknown>;
  if (meta.issuer !== issuer) throw new Error(`the discovery document's issuer '${String(meta.issuer)}' is not auth.oauth.issuer '${issuer}'`);
  return meta;
}

/** https everywhere; plain http only for loopback (local providers, tests). */
export function checkIssuerUrl(u: string, what: string): void {
  const url = new URL(u);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return;
  throw new Error(`${what} must use https (plain http is accepted only for 127.0.0.1, ::1 or localhost)`);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Values of a (possibly dotted, e.g. `realm_access.roles`) claim as strings; `scope`/`scp` split on spaces. */
export function claimValues(payload: JWTPayload, claim: string): string[] {
  let v: unknown = payload;
  for (const part of claim.split('.')) {
    if (v === null || typeof v !== 'object') return [];
    v = (v as Record<string, unknown>)[part];
  }
  const splitSpaces = claim === 'scope' || claim === 'scp';
  if (typeof v === 'string') return splitSpaces ? v.split(/\s+/).filter(Boolean) : [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

function firstString(p: JWTPayload, keys: string[]): string | undefined {
  for (const k of keys) if (typeof p[k] === 'string' && p[k]) return p[k] as string;
  return undefined;
}

/** A reason a person can act on; never the token or its contents. */
function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the access token has expired; run `mcp-guard auth login` again';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'the access token was issued by another issuer than auth.oauth.issuer';
    if (err.claim === 'aud') return 'the access token is not meant for this audience (auth.oauth.audience)';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'the access token is not valid yet; check the clocks';
    return `the access token's '${err.claim}' claim is missing or invalid`;
  }
  if (err instanceof errors.JWKSNoMatchingKey) return "the access token is signed with a key the issuer does not publish";
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the access token signature is invalid';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'the access token is not a valid JWT';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the access token uses a signing algorithm that is not allowed';
  if (err instanceof errors.JWKSTimeout) return "timed out fetching the issuer's signing keys (JWKS)";
  if (err instanceof errors.JOSEError) return `the access token was refused (${err.code})`;
  return `the access token could not be checked: ${(err as Error).message}`;
}
