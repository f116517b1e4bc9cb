// Regression: while the daemon authenticated a hello (here: an OAuth JWT whose JWKS answers slowly),
// bytes the client sent after the hello were dropped, so the client's initialize never arrived and
// it waited for its request timeout. Found as a flaky OAuth test; made deterministic here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { GuardEnv, NODE, MAIN, recordingServer } from './harness.js';
import { spawnSync } from 'node:child_process';

test('messages sent right after the hello survive a slow authentication', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  // The JWKS endpoint takes 800 ms: the daemon's authentication is in flight that long.
  const jwks = createServer((_req, res) => setTimeout(() => res.end(JSON.stringify({ keys: [jwk] })), 800));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(jwks.address() as any).port}`;
  const env = new GuardEnv(
    () => `
servers:
${recordingServer('rec')}
auth:
  mode: oauth
  roles: { agent: {} }
  oauth:
    issuer: ${base}
    jwks_uri: ${base}/jwks
    audience: mcp-guard-test
    role_mapping: { agent: [agent] }
`,
  );
  try {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ roles: ['agent'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(base)
      .setAudience('mcp-guard-test')
      .setSubject('agent-7')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
    // Start the daemon (the test process must stay free to serve the JWKS, so no spawnSync after this).
    assert.equal(spawnSync(NODE, [MAIN, 'start', '-d', '--config', env.configPath], { env: env.env, encoding: 'utf8' }).status, 0);
    const sock = createConnection(join(env.home, 'daemon.sock'));
    await new Promise((r) => sock.once('connect', r));
    let got = '';
    sock.on('data', (c) => (got += c.toString()));
    sock.write(JSON.stringify({ mcpGuard: 1, type: 'connect', server: 'rec', credentials: { token } }) + '\n');
    // Sent while the daemon is still fetching the JWKS, in separate writes.
    await new Promise((r) => setTimeout(r, 100));
    sock.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) + '\n');
    await new Promise((r) => setTimeout(r, 100));
    sock.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) + '\n');
    const deadline = Date.now() + 10_000;
    while (!got.includes('"id":2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lines = got.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(lines[0].ok, true, got);
    assert.equal(lines.find((l) => l.id === 1)?.result?.serverInfo?.name, 'recording-server', got);
    assert.deepEqual(lines.find((l) => l.id === 2)?.result, {}, got);
    sock.destroy();
  } finally {
    jwks.close();
    await env.close();
  }
});
