// oauth mode, client side: `mcp-guard auth login` (authorization code + PKCE S256 + state, with a
// loopback redirect on 127.0.0.1), the 0600 token file `<home>/tokens.json`, and refresh before expiry.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { OAuthConfig } from './jwt.js';
import { checkIssuerUrl, isLoopback } from './jwt.js';

export interface StoredTokens {
  issuer: string;
  client_id: string;
  access_token: string;
  refresh_token?: string;
  /** ms since the epoch; absent if the issuer gave no expires_in. */
  expires_at?: number;
  scope?: string;
  token_type?: string;
  obtained_at: number;
}

/** Refresh when the access token has less than this left. */
export const REFRESH_MARGIN_MS = 60_000;

export function tokensPath(home: string): string {
  return join(home, 'tokens.json');
}

export function readTokens(home: string): StoredTokens | undefined {
  let text: string;
  try {
    text = readFileSync(tokensPath(home), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as StoredTokens;
}

/** Atomic: a 0600 temp file renamed over the old one, so a reader never sees half a file. */
export function writeTokens(home: string, t: StoredTokens): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const tmp = `${tokensPath(home)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(t, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(tmp, tokensPath(home));
}

export function deleteTokens(home: string): boolean {
  try {
    rmSync(tokensPath(home));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function needClient(cfg: OAuthConfig): string {
  if (!cfg.client_id) throw new Error('auth.oauth.client_id is required for `mcp-guard auth login`');
  return cfg.client_id;
}

export async function discover(cfg: OAuthConfig): Promise<oidc.Configuration> {
  checkIssuerUrl(cfg.issuer, 'auth.oauth.issuer');
  const clientId = needClient(cfg);
  const insecure = new URL(cfg.issuer).protocol === 'http:' && isLoopback(new URL(cfg.issuer).hostname);
  return oidc.discovery(
    new URL(cfg.issuer),
    clientId,
    cfg.client_secret ? { client_secret: cfg.client_secret } : undefined,
    cfg.client_secret ? oidc.ClientSecretPost(cfg.client_secret) : oidc.None(),
    insecure ? { execute: [oidc.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
  );
}

/** RFC 8707 resource parameter: asks the issuer for a token whose audience is auth.oauth.audience. */
function resourceParams(cfg: OAuthConfig): Record<string, string> {
  if (!cfg.audience) return {};
  try {
    new URL(cfg.audience);
    return { resource: cfg.audience };
  } catch {
    return {};
  }
}

function toStored(cfg: OAuthConfig, r: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, previousRefresh?: string): StoredTokens {
  const now = Date.now();
  const expiresIn = r.expiresIn();
  const refresh = r.refresh_token ?? previousRefresh;
  return {
    issuer: cfg.issuer,
    client_id: needClient(cfg),
    access_token: r.access_token,
    ...(refresh ? { refresh_token: refresh } : {}),
    ...(expiresIn !== undefined ? { expires_at: now + expiresIn * 1000 } : {}),
    ...(r.scope ? { scope: r.scope } : {}),
    token_type: r.token_type,
    obtained_at: now,
  };
}

export interface LoginOptions {
  cfg: OAuthConfig;
  home: string;
  /** Called with the URL the user must open (print it, open a browser, or drive it in a test). */
  onAuthorizationUrl: (url: URL) => void | Promise<void>;
  timeoutMs?: number;
}

/** Runs the authorization code flow with PKCE and stores the tokens. */
export async function login(opts: LoginOptions): Promise<StoredTokens> {
  const { cfg, home } = opts;
  const config = await discover(cfg);
  const verifier = oidc.randomPKCECodeVerifier();
  const challenge = await oidc.calculatePKCECodeChallenge(verifier);
  const state = oidc.randomState();

  const server: Server = createServer();
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  try {
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
    const callback = new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the browser to come back; run `mcp-guard auth login` again')), opts.timeoutMs ?? 300_000);
      server.on('request', (req, res) => {
        const url = new URL(req.url ?? '/', redirectUri);
        if (url.pathname !== '/callback') {
          res.writeHead(404).end();
          return;
        }
        // A callback with the wrong state (a forged or stale redirect) is refused and the wait goes on.
        if (url.searchParams.get('state') !== state) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('mcp-guard: this login response does not match the pending login (state mismatch).\n');
          return;
        }
        clearTimeout(timer);
        const failed = url.searchParams.get('error');
        res.writeHead(failed ? 400 : 200, { 'content-type': 'text/plain', connection: 'close' }).end(failed ? 'mcp-guard: login failed; see the terminal.\n' : 'mcp-guard: login complete, you can close this tab.\n');
        if (failed) reject(new Error(`the issuer refused the login: ${failed}${url.searchParams.get('error_description') ? ` (${url.searchParams.get('error_description')})` : ''}`));
        else resolve(url);
      });
    });
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: cfg.scopes.join(' '),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      ...resourceParams(cfg),
    });
    await opts.onAuthorizationUrl(authUrl);
    const returned = await callback;
    const tokens = await oidc.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state }, { redirect_uri: redirectUri, ...resourceParams(cfg) });
    const stored = toStored(cfg, tokens);
    writeTokens(home, stored);
    return stored;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * The stored access token, refreshed first when it expires within REFRESH_MARGIN_MS (the new
 * tokens are stored). Throws with a next step when there is no usable token.
 */
export async function currentAccessToken(cfg: OAuthConfig, home: string, now = Date.now()): Promise<string> {
  const t = readTokens(home);
  if (!t) throw new Error('not logged in: run `mcp-guard auth login`');
  if (t.issuer !== cfg.issuer || t.client_id !== cfg.client_id) throw new Error('the stored login is for another issuer or client: run `mcp-guard auth login`');
  if (t.expires_at === undefined || t.expires_at - now > REFRESH_MARGIN_MS) return t.access_token;
  if (!t.refresh_token) {
    if (t.expires_at > now) return t.access_token;
    throw new Error('the access token has expired and there is no refresh token: run `mcp-guard auth login`');
  }
  const config = await discover(cfg);
  let r;
  try {
    r = await oidc.refreshTokenGrant(config, t.refresh_token, resourceParams(cfg));
  } catch (err) {
    throw new Error(`refreshing the access token failed (${(err as { code?: string; error?: string }).error ?? (err as Error).name}): run \`mcp-guard auth login\``);
  }
  const stored = toStored(cfg, r, t.refresh_token);
  writeTokens(home, stored);
  return stored.access_token;
}
