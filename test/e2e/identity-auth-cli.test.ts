// `auth login --no-browser | status | logout` as a child process against a real oidc-provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { AUDIENCE, driveBrowser, startProvider } from '../fixtures/identity/provider.js';

const cli = fileURLToPath(new URL('../fixtures/identity/cli.js', import.meta.url));

test('auth CLI: login through the printed URL, status, logout', async (t) => {
  const p = await startProvider({ roles: { alice: ['admin'] } });
  t.after(() => p.close());
  const home = mkdtempSync(join(tmpdir(), 'mcpg-authcli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const auth = { mode: 'oauth', oauth: { issuer: p.issuer, audience: AUDIENCE, client_id: 'mcp-guard-cli', scopes: ['openid', 'offline_access', 'mcp'], role_mapping: { admin: ['admin'] } } };
  const env = { ...process.env, MCP_GUARD_HOME: home, MCP_GUARD_TEST_AUTH: JSON.stringify(auth) };

  const child = spawn(process.execPath, [cli, 'auth', 'login', '--no-browser', '--timeout', '30'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const url = await new Promise<URL>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /https?:\/\/\S+\/auth\?\S+/.exec(stderr);
      if (m) resolve(new URL(m[0]));
    });
    child.on('exit', () => reject(new Error(`login exited early: ${stderr}`)));
  });
  await driveBrowser(url, p.issuer, 'alice');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
  assert.match(stdout, /logged in to http:\/\/127\.0\.0\.1:\d+/);
  assert.equal(statSync(join(home, 'tokens.json')).mode & 0o777, 0o600);

  const status = spawnSync(process.execPath, [cli, 'auth', 'status'], { env, encoding: 'utf8' });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /as alice \(roles: \["admin"\]\)/);
  assert.match(status.stdout, /refresh token present/);
  assert.ok(!/eyJ/.test(status.stdout + status.stderr), 'no token printed');

  assert.match(spawnSync(process.execPath, [cli, 'auth', 'logout'], { env, encoding: 'utf8' }).stdout, /logged out/);
  const after = spawnSync(process.execPath, [cli, 'auth', 'status'], { env, encoding: 'utf8' });
  assert.equal(after.status, 1);
  assert.match(after.stdout, /not logged in/);
});
