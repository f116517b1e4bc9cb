// Every file a real daemon writes is 0600 and every directory it makes 0700, under a permissive
// umask (022) and with `audit.path` outside the daemon home: the audit and state databases with
// their -wal and -shm files, keys.db, hash.key, the dashboard token, the pid lock, the socket and
// the daemon log; and a database an older version left 0644 is tightened at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GuardEnv, MAIN, NODE, recordingServer, waitFor } from './harness.js';

/** Runs the CLI the way a user with umask 022 would. */
function withUmask022(env: GuardEnv, args: string[]) {
  const r = spawnSync('sh', ['-c', 'umask 022; exec "$@"', 'sh', NODE, MAIN, ...args, '--config', env.configPath], {
    env: env.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** path → mode (octal string) of everything under `dir`, the directory itself included. */
function modes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    const st = lstatSync(p);
    out.set(p, (st.mode & 0o777).toString(8));
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(dir);
  return out;
}

test('under umask 022 every file the daemon writes is 0600 and every directory 0700, audit.path outside the home included', async (t) => {
  const env = new GuardEnv(
    (e) => `
servers:
${recordingServer('rec')}
auth:
  mode: api_key
  roles:
    agent: {}
audit:
  path: ${JSON.stringify(join(e.dir, 'elsewhere/audit-logs/audit.db'))}
  flush_ms: 20
daemon:
  dashboard_port: 0
`,
  );
  t.after(() => env.close());
  // The user's own directory (0755); mcp-guard creates audit-logs/ inside it.
  const elsewhere = join(env.dir, 'elsewhere');
  mkdirSync(elsewhere, { mode: 0o755 });
  // A state database that an earlier version created under the umask.
  mkdirSync(env.home, { recursive: true, mode: 0o700 });
  writeFileSync(join(env.home, 'state.db'), '');
  chmodSync(join(env.home, 'state.db'), 0o644);

  const made = withUmask022(env, ['keys', 'create', '--name', 'agent-1', '--role', 'agent']);
  assert.equal(made.code, 0, made.stderr);
  const key = made.stdout.trim();
  // Detached start: the daemon's stdout and stderr go to <home>/daemon.log.
  const started = withUmask022(env, ['start', '-d']);
  assert.equal(started.code, 0, started.stderr);

  const c = await env.client('rec', { env: { MCP_GUARD_API_KEY: key } });
  await c.callTool({ name: 'echo', arguments: { n: 1 } });
  await waitFor(() => env.cli(['logs', '--json', '--method', 'tools/call']).stdout.includes('"tools/call"'), 20_000);

  const all = new Map([...modes(env.home), ...modes(elsewhere)]);
  const names = [...all.keys()].map((p) => p.slice(env.dir.length + 1)).sort();
  for (const f of [
    'home/daemon.log', 'home/daemon.pid', 'home/daemon.sock', 'home/dashboard.token', 'home/hash.key',
    'home/keys.db', 'home/keys.db-wal', 'home/keys.db-shm', 'home/state.db', 'home/state.db-wal', 'home/state.db-shm',
    'elsewhere/audit-logs/audit.db', 'elsewhere/audit-logs/audit.db-wal', 'elsewhere/audit-logs/audit.db-shm',
  ]) {
    assert.ok(names.includes(f), `${f} is missing; found ${names.join(', ')}`);
  }
  const loose: string[] = [];
  for (const [p, mode] of all) {
    const dir = lstatSync(p).isDirectory();
    // `elsewhere` itself stands for a directory the user made: only what mcp-guard creates must be 0700.
    if (p === elsewhere) continue;
    if (mode !== (dir ? '700' : '600')) loose.push(`${p.slice(env.dir.length + 1)} ${mode}`);
  }
  assert.deepEqual(loose, [], 'files or directories readable by others');
});
