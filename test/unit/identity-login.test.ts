// `auth login` flow end to end against a real oidc-provider: PKCE S256, state, loopback redirect,
// 0600 token file, refresh before expiry, and the daemon accepting the resulting access token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthSchema } from '../../src/config/auth-schema.js';
import { createAuthenticator } from '../../src/identity/index.js';
import { currentAccessToken, deleteTokens, login, readTokens, tokensPath } from '../../src/identity/oauth-login.js';
import { AUDIENCE, driveBrowser, startProvider } from '../fixtures/identity/provider.js';

test('auth login: authorization code + PKCE against oidc-provider, then refresh', async (t) => {
  const p = await startProvider({ roles: { alice: ['admin'] } });
  t.after(() => p.close());
  const home = mkdtempSync(join(tmpdir(), 'mcpg-login-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const auth = AuthSchema.parse({
    mode: 'oauth',
    oauth: { issuer: p.issuer, audience: AUDIENCE, client_id: 'mcp-guard-cli', scopes: ['openid', 'offline_access', 'mcp'], role_mapping: { admin: ['admin'] } },
  });
  const cfg = auth.oauth!;

  let seen: URL | undefined;
  const stored = await login({
    cfg,
    home,
    timeoutMs: 20_000,
    onAuthorizationUrl: async (url) => {
      seen = url;
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok(url.searchParams.get('state'));
      assert.match(url.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      // A forged callback with another state is refused and does not end the login.
      const forged = new URL(url.searchParams.get('redirect_uri')!);
      forged.searchParams.set('code', 'stolen');
      forged.searchParams.set('state', 'not-the-state');
      assert.equal((await fetch(forged)).status, 400);
      // The real browser step, driven in the background while login() waits for the redirect.
      void driveBrowser(url, p.issuer, 'alice');
    },
  });
  assert.ok(seen);
  assert.equal(statSync(tokensPath(home)).mode & 0o777, 0o600);
  assert.ok(stored.refresh_token, 'a refresh token was issued');
  assert.deepEqual(readTokens(home), stored);

  const daemon = await createAuthenticator({ auth, home });
  t.after(() => daemon.close());
  const id = await daemon.authenticate({ server: 's', credentials: { token: await currentAccessToken(cfg, home) } });
  assert.deepEqual({ id: id.id, roles: id.roles }, { id: 'oauth:alice', roles: ['admin'] });

  // Within the refresh margin: a new access token is fetched with the refresh token and stored.
  const refreshed = await currentAccessToken(cfg, home, stored.expires_at! - 1000);
  assert.notEqual(refreshed, stored.access_token);
  assert.equal(readTokens(home)!.access_token, refreshed);
  assert.equal((await daemon.authenticate({ server: 's', credentials: { token: refreshed } })).id, 'oauth:alice');

  assert.equal(deleteTokens(home), true);
  await assert.rejects(currentAccessToken(cfg, home), /not logged in/);
});
