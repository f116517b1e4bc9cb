// A broken config file on disk never takes down the running daemon, its control commands or new
// sessions (DESIGN.md section 6, issue #15 item 1): with the real daemon, the real bridge under the
// SDK client and the real CLI, the file is broken three ways (duplicate key, bad YAML, schema
// error) and every command goes on with the last good config and says that the file is invalid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, recordingServer, waitFor } from './harness.js';
import { pidAlive } from '../../src/daemon/lock.js';
import { writeTokens } from '../../src/identity/oauth-login.js';
import { AUDIENCE, clientCredentialsToken, startProvider } from '../fixtures/identity/provider.js';

// The dashboard port is shared by every daemon on the machine: these tests do not need it.
const GOOD = (extra = '') => `servers:
${recordingServer('rec', `    policy:\n      permissions: { denied_tools: ["crash"] }`)}
${extra}daemon:
  dashboard_port: 0
`;

const lineOf = (text: string, part: string) => text.split('\n').findIndex((l) => l.includes(part)) + 1;
const dup = GOOD() + 'servers:\n  other: {}\n';
const unclosed = GOOD().replace('daemon:', 'pii:\n  allowlist: [{ literal: "a"\ndaemon:');
const schema = GOOD().replace(/args:/, 'transport: carrier-pigeon\n    args:');

/** The broken files, and the line of the first error each must be reported at. */
const BROKEN: { name: string; text: string; line: number; message: RegExp }[] = [
  { name: 'a duplicate key', text: dup, line: dup.split('\n').lastIndexOf('servers:') + 1, message: /Map keys must be unique/ },
  // The parser finds the unclosed flow collection where the next section starts.
  { name: 'bad YAML', text: unclosed, line: lineOf(unclosed, 'daemon:'), message: /must be sufficiently indented and end with a/ },
  { name: 'a schema error', text: schema, line: lineOf(schema, 'carrier-pigeon'), message: /servers\.rec\.transport: / },
];

function save(env: GuardEnv, text: string): void {
  // How editors save: a temp file renamed over the original (the daemon's watcher sees one change).
  const tmp = join(env.dir, '.mcp-guard.yaml.swp');
  writeFileSync(tmp, text);
  renameSync(tmp, env.configPath);
}

const reloadErrors = (env: GuardEnv) =>
  readFileSync(join(env.home, 'daemon.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('config reload failed'));

test('with the file broken, connect, status, health, logs and stop go on with the running config; reload and validate report the error', async () => {
  const env = new GuardEnv(() => GOOD());
  try {
    const started = env.cli(['start', '-d']);
    assert.equal(started.code, 0, started.stderr);
    const first = await env.client('rec');
    assert.deepEqual((await first.callTool({ name: 'echo', arguments: { n: 0 } })).content, [{ type: 'text', text: '{"n":0}' }]);

    for (const [i, broken] of BROKEN.entries()) {
      save(env, broken.text);
      const where = new RegExp(`${env.configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${broken.line}:\\d+: `);

      // validate: exit 1 with the position (the file has its error where the test put it).
      const v = env.cli(['validate']);
      assert.equal(v.code, 1, broken.name);
      assert.match(v.stderr, where, `${broken.name}: ${v.stderr}`);
      assert.match(v.stderr, broken.message, broken.name);

      // A new session opens, on the running config: its policy still holds.
      const c = await env.client('rec');
      assert.deepEqual((await c.callTool({ name: 'echo', arguments: { n: i + 1 } })).content, [{ type: 'text', text: `{"n":${i + 1}}` }], broken.name);
      await assert.rejects(c.callTool({ name: 'crash', arguments: {} }), (e: McpError) => e.code === -32007, broken.name);

      // status: running, and the file on disk is invalid with file:line:column of its first error.
      const s = env.cli(['status']);
      assert.equal(s.code, 0, `${broken.name}: ${s.stderr}`);
      assert.match(s.stdout, /daemon {4}running \(pid \d+\)/);
      assert.match(s.stdout, /the file on disk is INVALID; the daemon runs its last good config/, broken.name);
      assert.match(s.stdout, where, `${broken.name}: ${s.stdout}`);
      assert.match(s.stdout, /rec +stdio/);
      const js = JSON.parse(env.cli(['status', '--json']).stdout);
      assert.equal(js.configFile.valid, false);
      assert.match(js.configFile.error, where);

      // health: live.
      const h = env.cli(['health']);
      assert.equal(h.code, 0, `${broken.name}: ${h.stderr}`);
      assert.match(h.stdout, /^ok \(pid \d+\)/);

      // logs: the audit log of the running daemon.
      await waitFor(() => {
        const r = env.cli(['logs', '--json', '--tool', 'echo']);
        return r.code === 0 && r.stdout.trim().split('\n').filter(Boolean).length >= i + 2;
      });

      // reload: exit 1 with the error; the running config is kept.
      const r = env.cli(['reload']);
      assert.equal(r.code, 1, broken.name);
      assert.match(r.stderr, /reload refused, the running config is kept:\n/);
      assert.match(r.stderr, where, `${broken.name}: ${r.stderr}`);
      await assert.rejects(c.callTool({ name: 'crash', arguments: {} }), (e: McpError) => e.code === -32007);
      await c.close();
    }
    // Each broken file was logged once, though the watcher and `reload` both saw it.
    const logged = reloadErrors(env);
    assert.equal(logged.length, BROKEN.length, logged.join('\n'));

    // Fixed (with a change): reload works, status no longer says invalid, the change applies.
    save(env, GOOD(recordingServer('added')));
    const ok = env.cli(['reload']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /config reloaded/);
    const s = env.cli(['status']);
    assert.doesNotMatch(s.stdout, /INVALID/);
    assert.match(s.stdout, /added +stdio/);
    const added = await env.client('added');
    assert.deepEqual((await added.callTool({ name: 'echo', arguments: {} })).content, [{ type: 'text', text: '{}' }]);

    // stop, with the file broken again: the daemon stops.
    save(env, BROKEN[0]!.text);
    const pid = env.daemonPid()!;
    const stop = env.cli(['stop']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`mcp-guard daemon stopped \\(pid ${pid}\\)`));
    assert.equal(pidAlive(pid), false);
  } finally {
    await env.close();
  }
});

test('a file broken inside its daemon section: commands find the daemon only if it runs that very file', async () => {
  const env = new GuardEnv(() => GOOD());
  try {
    assert.equal(env.cli(['start', '-d']).code, 0);
    // An unclosed quote in `daemon:` itself: where the daemon lives cannot be read from the file.
    save(env, GOOD().replace('dashboard_port: 0', 'dashboard_port: 0\n  socket_path: "unclosed'));
    const s = env.cli(['status']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /the file on disk is INVALID/);
    assert.equal(env.cli(['health']).code, 0);
    const c = await env.client('rec');
    assert.deepEqual((await c.callTool({ name: 'echo', arguments: {} })).content, [{ type: 'text', text: '{}' }]);

    // Another config whose daemon section is broken the same way, in the same default home: the
    // daemon there runs another file, so no command treats it as this file's daemon.
    const other = join(env.dir, 'other.yaml');
    writeFileSync(other, 'daemon:\n  home: "unclosed\n');
    for (const cmd of ['status', 'stop', 'reload']) {
      const r = env.cli([cmd, '--config', other]);
      assert.equal(r.code, 1, cmd);
      assert.match(r.stderr, /cannot tell where the daemon of .*other\.yaml runs/, cmd);
    }
    assert.equal(env.cli(['health']).code, 0, 'the daemon still runs');
  } finally {
    await env.close();
  }
});

test('oauth mode: with the file broken, the bridge still reads auth.oauth (with ${VAR}) and uses the stored login', async (t) => {
  const p = await startProvider({ roles: { 'svc-reader': ['reader'] } });
  t.after(() => p.close());
  const oauth = (extra = '') => `servers:
${recordingServer('rec')}
auth:
  mode: oauth
  roles:
    read-only: { permissions: { denied_tools: ["write_*"] } }
  oauth:
    issuer: \${MG_TEST_ISSUER}
    audience: ${JSON.stringify(AUDIENCE)}
    client_id: svc-reader
    role_mapping: { reader: [read-only] }
daemon:
  dashboard_port: 0
${extra}`;
  const env = new GuardEnv(() => oauth());
  t.after(() => env.close());
  process.env.MG_TEST_ISSUER = p.issuer; // the daemon and the bridges inherit it through env.env
  // What `mcp-guard auth login` leaves behind: the token in <home>/tokens.json.
  const token = await clientCredentialsToken(p, 'svc-reader', 'svc-secret-1');
  writeTokens(env.home, { issuer: p.issuer, client_id: 'svc-reader', access_token: token, expires_at: Date.now() + 3_600_000, obtained_at: Date.now() });
  const started = env.cli(['start', '-d']);
  assert.equal(started.code, 0, started.stderr);
  const c = await env.client('rec');
  assert.deepEqual((await c.callTool({ name: 'echo', arguments: { a: 1 } })).content, [{ type: 'text', text: '{"a":1}' }]);

  save(env, oauth('servers:\n  again: {}\n'));
  assert.equal(env.cli(['validate']).code, 1);
  const d = await env.client('rec');
  assert.deepEqual((await d.callTool({ name: 'echo', arguments: { a: 2 } })).content, [{ type: 'text', text: '{"a":2}' }]);
  await assert.rejects(d.callTool({ name: 'write_file', arguments: {} }), (e: McpError) => e.code === -32007, 'the mapped role of the running config applies');
});
