// API key store: keys are printed once, only their hash is on disk, revocation applies at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { KeyStore, keysPath } from '../../src/identity/keys.js';
import { createAuthenticator } from '../../src/identity/index.js';
import { AuthSchema } from '../../src/config/auth-schema.js';

function tempHome(t: { after: (fn: () => void) => void }): string {
  const home = mkdtempSync(join(tmpdir(), 'mcpg-keys-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

test('create, list and verify keys; each key is its own identity', async (t) => {
  const home = tempHome(t);
  const store = KeyStore.open(home);
  t.after(() => store.close());
  const a = store.create('ci-bot', ['reader', 'reader', 'ci']);
  const b = store.create('alice', ['admin']);
  assert.match(a.key, /^mcpg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.key, b.key);
  assert.deepEqual(store.verify(a.key).roles, ['reader', 'ci']);
  assert.equal(store.verify(b.key).name, 'alice');
  const list = store.list();
  assert.deepEqual(list.map((k) => k.name).sort(), ['alice', 'ci-bot']);
  for (const k of list) assert.ok(!JSON.stringify(k).includes('mcpg_'), 'list never shows a key');

  const auth = await createAuthenticator({ auth: AuthSchema.parse({ mode: 'api_key', default_roles: ['base'] }), home });
  t.after(() => auth.close());
  const idA = await auth.authenticate({ server: 's', credentials: { apiKey: a.key } });
  const idB = await auth.authenticate({ server: 's', credentials: { apiKey: b.key } });
  assert.deepEqual(idA, { id: 'key:ci-bot', name: 'ci-bot', kind: 'api_key', roles: ['reader', 'ci', 'base'], credentialId: a.info.id });
  assert.equal(idB.id, 'key:alice');
  // A live session's identity stops holding once its key is revoked.
  assert.equal(auth.stillValid(idA, Date.now()), true);
  store.revoke('ci-bot');
  assert.equal(auth.stillValid(idA, Date.now()), false);
  assert.equal(auth.stillValid(idB, Date.now()), true);
});

test('only the hash is on disk, file is 0600', (t) => {
  const home = tempHome(t);
  const store = KeyStore.open(home);
  const { key } = store.create('ci-bot', ['reader']);
  store.close(); // checkpoints the WAL into the main file
  const files = readdirSync(home).filter((f) => f.startsWith('keys.db'));
  const secret = key.split('_').slice(2).join('_');
  for (const f of files) {
    const bytes = readFileSync(join(home, f));
    assert.ok(!bytes.includes(Buffer.from(key)), `${f} holds the key`);
    assert.ok(!bytes.includes(Buffer.from(secret)), `${f} holds the key's secret part`);
  }
  assert.ok(readFileSync(keysPath(home)).includes(createHash('sha256').update(key).digest()), 'the SHA-256 is stored');
  assert.equal(statSync(keysPath(home)).mode & 0o777, 0o600);
});

test('wrong, malformed and tampered keys are refused without echoing them', async (t) => {
  const home = tempHome(t);
  const store = KeyStore.open(home);
  t.after(() => store.close());
  const { key } = store.create('ci-bot', ['reader']);
  // Same id, different secret: the id lookup hits, the constant-time hash comparison fails.
  const last = key.at(-1) === 'A' ? 'B' : 'A';
  const tampered = key.slice(0, -1) + last;
  const otherId = 'mcpg_0000000000000000_' + key.split('_').slice(2).join('_');
  for (const bad of [tampered, otherId, 'mcpg_nope', '', key + 'x', key.toUpperCase()]) {
    assert.throws(
      () => store.verify(bad),
      (err: Error) => !(bad && err.message.includes(bad)) && !err.message.includes(key) && /not recognised|malformed/.test(err.message),
    );
  }
  const auth = await createAuthenticator({ auth: AuthSchema.parse({ mode: 'api_key' }), home });
  t.after(() => auth.close());
  await assert.rejects(auth.authenticate({ server: 's' }), /requires an API key/);
  await assert.rejects(auth.authenticate({ server: 's', credentials: { apiKey: tampered } }), /not recognised/);
});

test('revocation is seen by a running authenticator on the next authentication', async (t) => {
  const home = tempHome(t);
  const daemonSide = await createAuthenticator({ auth: AuthSchema.parse({ mode: 'api_key' }), home });
  t.after(() => daemonSide.close());
  const cli = KeyStore.open(home); // a separate connection, as `mcp-guard keys revoke` would open
  const { key } = cli.create('ci-bot', ['reader']);
  assert.equal((await daemonSide.authenticate({ server: 's', credentials: { apiKey: key } })).id, 'key:ci-bot');
  assert.equal(cli.revoke('ci-bot'), true);
  assert.equal(cli.revoke('ci-bot'), false);
  cli.close();
  await assert.rejects(daemonSide.authenticate({ server: 's', credentials: { apiKey: key } }), /revoked/);
  // The name can be reused by a new key; the old one stays refused.
  const again = KeyStore.open(home);
  t.after(() => again.close());
  const fresh = again.create('ci-bot', ['reader']);
  assert.equal((await daemonSide.authenticate({ server: 's', credentials: { apiKey: fresh.key } })).id, 'key:ci-bot');
  await assert.rejects(daemonSide.authenticate({ server: 's', credentials: { apiKey: key } }), /revoked/);
  assert.throws(() => again.create('ci-bot', ['x']), /already exists/);
  assert.throws(() => again.create('bad name', ['x']), /must be/);
  assert.throws(() => again.create('nobody', []), /at least one/);
});
