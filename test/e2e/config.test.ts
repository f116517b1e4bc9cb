// Config composition and hot reload through the real CLI and daemon: `extends` pinned by SHA-256
// (path and loopback URL), personal configs that try to relax a base, `validate --explain`, and
// reload on an editor's atomic save, on a bad edit, and for live sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, recordingServer, waitFor } from './harness.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const BASE = `
servers:
${recordingServer(
  'rec',
  `    policy:
      permissions:
        allowed_tools: ["echo", "slow", "leak", "write_file"]
        denied_tools: ["write_file"]
      rate_limit: { requests_per_minute: 100 }`,
)}
${recordingServer('locked').trimEnd()}
    locked: true
defaults:
  permissions: { denied_tools: ["crash"] }
pii:
  actions:
    email: { request: redact, response: redact }
audit: { enabled: true }
`;

function withBase(env: GuardEnv, personal: (pin: string) => string, base = BASE): void {
  writeFileSync(join(env.dir, 'base.yaml'), base);
  env.writeConfig(personal(sha(base)));
}

test('a personal config over a pinned base can restrict, and every attempt to relax is an error', async () => {
  const env = new GuardEnv(() => '');
  try {
    withBase(
      env,
      (pin) => `extends: { path: base.yaml, sha256: "${pin}" }
servers:
  rec:
    policy:
      permissions: { allowed_tools: ["echo", "slow", "crash"], denied_tools: ["slow"] }
      rate_limit: { requests_per_minute: 1000 }
${recordingServer('mine')}
`,
    );
    const ok = env.cli(['validate']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /valid \(3 servers, extends 1 base config\)/);
    const ex = env.cli(['validate', '--explain', '--server', 'rec']);
    assert.equal(ex.code, 0, ex.stderr);
    // Allowed lists intersect (crash was never allowed by the base), denied lists union, the stricter limit wins.
    assert.match(ex.stdout, /policy\.permissions\.allowed_tools: \["echo","slow"\]/);
    assert.match(ex.stdout, /policy\.permissions\.denied_tools: \["write_file","slow"\]/);
    assert.match(ex.stdout, /policy\.rate_limit\.requests_per_minute: 100 .*base\.yaml:\d+:\d+ ∩ .*mcp-guard\.yaml:\d+:\d+/);
    // A server the personal config adds starts from the base's `defaults` floor.
    const mine = env.cli(['validate', '--explain', '--server', 'mine']);
    assert.match(mine.stdout, /policy\.permissions\.denied_tools: \["crash"\] .*defaults/);

    // The composed policy is what the daemon enforces.
    const c = await env.client('rec');
    await assert.rejects(c.callTool({ name: 'slow', arguments: { ms: 1 } }), (e: McpError) => e.code === -32007);
    const m = await env.client('mine');
    await assert.rejects(m.callTool({ name: 'crash', arguments: {} }), (e: McpError) => e.code === -32007);
    assert.deepEqual((await m.callTool({ name: 'echo', arguments: { a: 1 } })).content, [{ type: 'text', text: '{"a":1}' }]);
  } finally {
    await env.close();
  }
});

test('a personal config cannot weaken a built-in detection action the base leaves at its default', async () => {
  const env = new GuardEnv(() => '');
  try {
    withBase(
      env,
      (pin) => `extends: { path: base.yaml, sha256: "${pin}" }
pii:
  actions:
    aws_access_key: { request: allow, response: allow }
    email: { request: warn }
`,
    );
    const c = await env.client('rec');
    const err = await c.callTool({ name: 'echo', arguments: { k: 'AKIAQ4RTZ5WV7M3KD2XP' } }).catch((e) => e);
    assert.equal(err.code, -32008, 'the AWS key is still blocked');
    // The base redacts email; a personal `warn` cannot undo that either.
    const r = await c.callTool({ name: 'echo', arguments: { m: 'jane.roe@example.org' } });
    assert.doesNotMatch(JSON.stringify(r.content), /jane\.roe@example\.org/);
    assert.equal(env.recorded().filter((m) => JSON.stringify(m).includes('jane.roe@example.org')).length, 0);
  } finally {
    await env.close();
  }
});

test('relaxing a base in any field is refused with the position of the offending key', () => {
  const env = new GuardEnv(() => '');
  try {
    withBase(
      env,
      (pin) => `extends: { path: base.yaml, sha256: "${pin}" }
servers:
  locked:
    policy: { permissions: { denied_tools: [] } }
  rec:
    command: /bin/sh
pii:
  enabled: false
  allowlist: [{ literal: "a@b.c" }]
  disabled_types: [email]
  on_oversize: allow
audit:
  enabled: false
auth:
  mode: api_key
`,
    );
    const r = env.cli(['validate']);
    assert.equal(r.code, 1);
    const p = env.configPath;
    for (const [line, what] of [
      [3, "server 'locked' is locked"],
      [6, "'command' of base server 'rec' cannot be changed"],
      [8, 'cannot turn off PII detection'],
      [9, 'cannot add allowlist entries'],
      [10, 'cannot disable detection types'],
      [11, 'cannot let oversized messages through'],
      [13, 'cannot turn off the audit log'],
      [15, 'cannot change auth.mode'],
    ] as const) {
      assert.match(r.stderr, new RegExp(`${p}:${line}:\\d+: .*${what}`), `${what}\n${r.stderr}`);
    }
  } finally {
    void env.close();
  }
});

test('a base whose hash does not match its pin is fatal; a loopback URL base is fetched and cached', async () => {
  const env = new GuardEnv(() => '');
  let served = BASE;
  const server = createServer((_req, res) => res.end(served));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as any).port}/base.yaml`;
  try {
    withBase(env, () => `extends: { path: base.yaml, sha256: "${'0'.repeat(64)}" }\n`);
    const bad = (await env.cliAsync(['validate']));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SHA-256 of .*base\.yaml is [0-9a-f]{64}, but the config pins 0{64}\. Refusing to use it\./);

    env.writeConfig(`extends: { url: "${url}", sha256: "${sha(BASE)}" }\n`);
    assert.equal((await env.cliAsync(['validate'])).code, 0);
    // The server now serves something else: a mismatch is fatal, and the cache is never a fallback for it.
    served = BASE.replace('100', '5000');
    const changed = (await env.cliAsync(['validate']));
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /Refusing to use it/);
    // The server is gone: the copy cached under the pinned hash is exactly the pinned content.
    server.close();
    served = BASE;
    const offline = (await env.cliAsync(['validate']));
    assert.equal(offline.code, 0, offline.stderr);

    env.writeConfig(`extends: { url: "http://example.com/base.yaml", sha256: "${sha(BASE)}" }\n`);
    assert.match((await env.cliAsync(['validate'])).stderr, /must use https/);
  } finally {
    server.close();
    await env.close();
  }
});

test('hot reload: atomic saves apply, a bad edit keeps the running config, live sessions get the new policy', async () => {
  const cfg = (denied: string, extra = '') => `
servers:
${recordingServer('rec', `    policy:\n      permissions: { denied_tools: [${denied}] }`)}
${extra}`;
  const env = new GuardEnv(() => cfg('"crash"'));
  const save = (text: string) => {
    // How editors save: write a temp file, then rename it over the original.
    const tmp = join(env.dir, '.mcp-guard.yaml.swp');
    writeFileSync(tmp, text);
    renameSync(tmp, env.configPath);
  };
  try {
    const live = await env.client('rec');
    assert.deepEqual((await live.callTool({ name: 'leak', arguments: { text: 'x' } })).content, [{ type: 'text', text: 'x' }]);

    save(cfg('"crash", "leak"', recordingServer('added')));
    await waitFor(() => JSON.parse(env.cli(['status', '--json']).stdout).servers.some((s: any) => s.name === 'added'));
    await assert.rejects(live.callTool({ name: 'leak', arguments: { text: 'x' } }), (e: McpError) => e.code === -32007, 'the live session got the new policy');
    const added = await env.client('added');
    assert.deepEqual((await added.callTool({ name: 'echo', arguments: {} })).content, [{ type: 'text', text: '{}' }]);

    // A broken edit: the running config stays, the error with its position goes to the log.
    save(cfg('"crash", "leak"', recordingServer('added') + 'daemon: { shutdown_timeout: "x" }\n'));
    const reload = env.cli(['reload']);
    assert.equal(reload.code, 1);
    assert.match(reload.stderr, /reload refused, the running config is kept:\n.*mcp-guard\.yaml:\d+:\d+: daemon\.shutdown_timeout/);
    await assert.rejects(live.callTool({ name: 'leak', arguments: { text: 'x' } }), (e: McpError) => e.code === -32007);

    // Removing a server: new sessions cannot open it.
    save(cfg('"crash"'));
    await waitFor(() => !JSON.parse(env.cli(['status', '--json']).stdout).servers.some((s: any) => s.name === 'added'));
    await assert.rejects(env.client('added'));
    assert.deepEqual((await live.callTool({ name: 'leak', arguments: { text: 'y' } })).content, [{ type: 'text', text: 'y' }]);
  } finally {
    await env.close();
  }
});
