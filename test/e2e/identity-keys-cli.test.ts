// `keys create | list | revoke` as a child process: the key is printed once, never listed, and
// refused by a running authenticator right after `keys revoke`; a role the config does not define
// is refused at `keys create`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuthenticator } from '../../src/identity/index.js';
import { AuthSchema } from '../../src/config/auth-schema.js';
import { GuardEnv, recordingServer } from './harness.js';

const cli = fileURLToPath(new URL('../fixtures/identity/cli.js', import.meta.url));

test('keys CLI: create prints once, list hides secrets, revoke takes effect at once', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mcpg-keycli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { ...process.env, MCP_GUARD_HOME: home, MCP_GUARD_TEST_AUTH: JSON.stringify({ mode: 'api_key', roles: { reader: {}, ci: {} } }) };
  const run = (...args: string[]) => execFileSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  const key = run('keys', 'create', '--name', 'ci-bot', '--role', 'reader', '--role', 'ci').trim();
  assert.match(key, /^mcpg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const list = run('keys', 'list');
  assert.match(list, /ci-bot\s+[0-9a-f]{16}\s+reader,ci\s+\S+\s+active/);
  assert.ok(!list.includes(key.slice(22)));
  assert.ok(!run('keys', 'list', '--json').includes(key.slice(22)));
  for (const f of readdirSync(home)) assert.ok(!readFileSync(join(home, f)).includes(key), `${f} holds the key`);

  const daemon = await createAuthenticator({ auth: AuthSchema.parse({ mode: 'api_key' }), home });
  t.after(() => daemon.close());
  assert.equal((await daemon.authenticate({ server: 's', credentials: { apiKey: key } })).id, 'key:ci-bot');
  assert.match(run('keys', 'revoke', 'ci-bot'), /revoked key 'ci-bot'/);
  await assert.rejects(daemon.authenticate({ server: 's', credentials: { apiKey: key } }), /revoked/);
  assert.match(run('keys', 'list'), /revoked/);

  const again = spawnSync(process.execPath, [cli, 'keys', 'revoke', 'ci-bot'], { env, encoding: 'utf8' });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /no active key named 'ci-bot'/);
  const noRole = spawnSync(process.execPath, [cli, 'keys', 'create', '--name', 'x'], { env, encoding: 'utf8' });
  assert.equal(noRole.status, 2);
  assert.match(noRole.stderr, /at least one --role; defined roles: reader, ci/);
});

test('keys create refuses a role the config does not define (exit 2, the defined roles listed, no key made)', async (t) => {
  const env = new GuardEnv(
    () => `
servers:
${recordingServer('rec')}
auth:
  mode: api_key
  roles:
    agent: {}
    reader: { permissions: { denied_tools: ["write_*"] } }
`,
  );
  t.after(() => env.close());
  const r = env.cli(['keys', 'create', '--name', 'ghost', '-r', 'agent', '-r', 'nosuchrole']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '', 'no key printed');
  assert.equal(
    r.stderr,
    `mcp-guard: role 'nosuchrole' is not defined in auth.roles of ${env.configPath} (a key with it could use nothing); no key created; defined roles: agent, reader\n`,
  );
  assert.match(env.cli(['keys', 'list']).stdout, /^no API keys/);
  const ok = env.cli(['keys', 'create', '--name', 'ghost', '-r', 'reader']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(env.cli(['keys', 'list']).stdout, /ghost\s+[0-9a-f]{16}\s+reader\s/);

  env.writeConfig(`servers:\n${recordingServer('rec')}\nauth:\n  mode: api_key\n`);
  const none = env.cli(['keys', 'create', '--name', 'x', '-r', 'reader']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no roles are defined there yet: add one, e\.g\. auth: \{ roles: \{ agent: \{\} \} \}/);
});
