// oauth mode: access tokens from a real OpenID provider (oidc-provider) on 127.0.0.1 are checked
// against its JWKS, issuer, audience and expiry; claims map to roles; no mapped role is denied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { SignJWT, importJWK, decodeJwt, type JWK } from 'jose';
import { createAuthenticator, type Authenticator } from '../../src/identity/index.js';
import { AuthSchema } from '../../src/config/auth-schema.js';
import { AUDIENCE, clientCredentialsToken, newSigningKey, startProvider, type TestProvider } from '../fixtures/identity/provider.js';

const ROLES = { 'svc-reader': ['reader'], alice: ['admin'] };

function authConfig(p: TestProvider, extra: Record<string, unknown> = {}) {
  return AuthSchema.parse({
    mode: 'oauth',
    default_roles: ['everyone'],
    oauth: { issuer: p.issuer, audience: AUDIENCE, role_mapping: { reader: ['read-only'], admin: ['admin', 'read-only'] }, clock_tolerance_s: 5, ...extra },
  });
}

async function sign(key: JWK, claims: Record<string, unknown>, opts: { kid?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 300, sub: 'svc-reader', roles: ['reader'], ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: opts.kid ?? key.kid! })
    .sign(await importJWK(key, 'RS256'));
}

test('JWT access tokens against a real provider', async (t) => {
  const p = await startProvider({ roles: ROLES });
  t.after(() => p.close());
  const auth: Authenticator = await createAuthenticator({ auth: authConfig(p), home: tmpdir() });
  t.after(() => auth.close());
  const base = { iss: p.issuer, aud: AUDIENCE };

  await t.test('a valid token from the provider maps its roles', async () => {
    const token = await clientCredentialsToken(p, 'svc-reader', 'svc-secret-1');
    const claims = decodeJwt(token);
    assert.equal(claims.aud, AUDIENCE);
    const id = await auth.authenticate({ server: 's', credentials: { token } });
    assert.equal(id.id, 'oauth:svc-reader');
    assert.equal(id.kind, 'oauth');
    assert.deepEqual(id.roles, ['read-only', 'everyone']);
    assert.equal(id.expiresAt, claims.exp! * 1000);
  });

  await t.test('a token whose claim maps to no role is denied', async () => {
    const token = await clientCredentialsToken(p, 'svc-nobody', 'svc-secret-2');
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token } }), /maps to no role/);
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: await sign(p.keys[0]!, { ...base, roles: ['intern'] }) } }), /maps to no role/);
  });

  await t.test('expired (beyond the clock tolerance) is refused; within it accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign(p.keys[0]!, { ...base, iat: now - 600, exp: now - 60 });
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: expired } }), /expired/);
    const justExpired = await sign(p.keys[0]!, { ...base, iat: now - 600, exp: now - 2 });
    assert.equal((await auth.authenticate({ server: 's', credentials: { token: justExpired } })).id, 'oauth:svc-reader');
  });

  await t.test('wrong audience, wrong issuer, missing exp are refused', async () => {
    const k = p.keys[0]!;
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: await sign(k, { ...base, aud: 'https://other.api' }) } }), /audience/);
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: await sign(k, { ...base, iss: 'http://127.0.0.1:1' }) } }), /another issuer/);
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: await sign(k, { ...base, exp: undefined }) } }), /'exp' claim/);
  });

  await t.test('signed by another key (even with the real kid) or alg none/HS256 is refused', async () => {
    const attacker = await newSigningKey('k1');
    const forged = await sign(attacker, base);
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: forged } }), /signature is invalid/);
    const unknownKid = await sign(await newSigningKey('attacker'), base);
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: unknownKid } }), /key the issuer does not publish/);
    const unsigned = Buffer.from('{"alg":"none"}').toString('base64url') + '.' + Buffer.from(JSON.stringify({ ...base, sub: 'x', exp: 9e9, roles: ['admin'] })).toString('base64url') + '.';
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: unsigned } }), /algorithm|not a valid JWT/);
    const hs = await new SignJWT({ ...base, sub: 'x', exp: 9e9, roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('k'.repeat(32)));
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: hs } }), /algorithm/);
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token: 'garbage' } }), /not a valid JWT/);
    await assert.rejects(auth.authenticate({ server: 's' }), /auth login/);
  });

  await t.test('errors never contain the token', async () => {
    const token = await sign(p.keys[0]!, { ...base, aud: 'x' });
    await assert.rejects(auth.authenticate({ server: 's', credentials: { token } }), (e: Error) => !e.message.includes(token) && !e.message.includes(token.split('.')[1]!));
  });
});

test('JWKS rotation: a token signed with a new key is accepted after the issuer rotates, the retired key is refused', async (t) => {
  const k1 = await newSigningKey('k1');
  let p = await startProvider({ roles: ROLES, keys: [k1] });
  t.after(() => p.close());
  const auth = await createAuthenticator({ auth: authConfig(p), home: tmpdir(), jwks: { jwksCooldownMs: 0 } });
  t.after(() => auth.close());
  const oldToken = await clientCredentialsToken(p, 'svc-reader', 'svc-secret-1');
  assert.equal((await auth.authenticate({ server: 's', credentials: { token: oldToken } })).id, 'oauth:svc-reader');

  // Rotate: the same issuer (same port) now publishes and signs with k2 only.
  const port = p.port;
  await p.close();
  const k2 = await newSigningKey('k2');
  p = await startProvider({ roles: ROLES, keys: [k2], port });
  const newToken = await clientCredentialsToken(p, 'svc-reader', 'svc-secret-1');
  assert.equal((await import('jose')).decodeProtectedHeader(newToken).kid, 'k2');
  assert.equal((await auth.authenticate({ server: 's', credentials: { token: newToken } })).id, 'oauth:svc-reader');
  await assert.rejects(auth.authenticate({ server: 's', credentials: { token: oldToken } }), /does not publish/);
});

test('oauth config problems are reported at start', async () => {
  await assert.rejects(createAuthenticator({ auth: AuthSchema.parse({ mode: 'oauth' }), home: tmpdir() }), /no auth.oauth section/);
  await assert.rejects(createAuthenticator({ auth: AuthSchema.parse({ mode: 'oauth', oauth: { issuer: 'https://idp.example' } }), home: tmpdir() }), /audience is required/);
  await assert.rejects(createAuthenticator({ auth: AuthSchema.parse({ mode: 'oauth', oauth: { issuer: 'http://idp.example', audience: 'a' } }), home: tmpdir() }), /must use https/);
});
