// os mode: uid, gid and pid come from the kernel for a real Unix socket connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { peerCredentials, nativeAccounts } from '../../src/identity/peercred.js';
import { createAuthenticator } from '../../src/identity/index.js';
import { AuthSchema } from '../../src/config/auth-schema.js';

const uid = process.getuid!();
const gid = process.getgid!();

async function listen(t: { after: (fn: () => Promise<void> | void) => void }): Promise<{ path: string; server: Server; next: () => Promise<Socket> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpg-peer-'));
  chmodSync(dir, 0o755);
  const path = join(dir, 'd.sock');
  const queue: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  const server = createServer((s) => {
    const w = waiters.shift();
    if (w) w(s);
    else queue.push(s);
  });
  server.listen(path);
  await once(server, 'listening');
  chmodSync(path, 0o777);
  t.after(async () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { path, server, next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))) };
}

/** A child process that connects to `path` and stays connected until killed. */
function connectingChild(t: { after: (fn: () => void) => void }, path: string, opts: { uid?: number; gid?: number } = {}) {
  const child = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(path)}).on('connect', () => process.stdout.write('up\\n')); setInterval(() => {}, 1000)`], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...opts,
  });
  t.after(() => {
    child.kill('SIGKILL');
  });
  return child;
}

test('peer credentials of an in-process connection are this process', async (t) => {
  const { path, next } = await listen(t);
  const client = connect(path);
  t.after(() => client.destroy());
  const accepted = await next();
  t.after(() => accepted.destroy());
  assert.deepEqual(peerCredentials(accepted), { uid, gid, pid: process.pid });
});

test('peer credentials of another process carry its pid', async (t) => {
  const { path, next } = await listen(t);
  const child = connectingChild(t, path);
  const accepted = await next();
  t.after(() => accepted.destroy());
  assert.deepEqual(peerCredentials(accepted), { uid, gid, pid: child.pid });
});

test('a TCP socket has no peer credentials', async (t) => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const accepted = once(server, 'connection');
  const c = connect((server.address() as { port: number }).port, '127.0.0.1');
  t.after(() => c.destroy());
  const [s] = (await accepted) as [Socket];
  t.after(() => s.destroy());
  assert.throws(() => peerCredentials(s), /only for local Unix socket/);
});

test('os mode maps user and group (by name and id) to roles', async (t) => {
  const { path, next } = await listen(t);
  const me = nativeAccounts().user(uid)!;
  const group = nativeAccounts().group(gid)!;
  const auth = await createAuthenticator({
    auth: AuthSchema.parse({
      mode: 'os',
      default_roles: ['base'],
      os: { users: { [me.name]: ['by-name'], [String(uid)]: ['by-uid'], nobody: ['never'] }, groups: { [group.name]: ['by-group'], [String(gid)]: ['by-gid'] } },
    }),
    home: tmpdir(),
  });
  const client = connect(path);
  t.after(() => client.destroy());
  const sock = await next();
  t.after(() => sock.destroy());
  const id = await auth.authenticate({ socket: sock, server: 'x' });
  assert.equal(id.id, `uid:${uid}`);
  assert.equal(id.name, me.name);
  assert.equal(id.kind, 'os');
  assert.equal(id.pid, process.pid);
  assert.deepEqual([...id.roles].sort(), ['base', 'by-gid', 'by-group', 'by-name', 'by-uid']);
  await assert.rejects(auth.authenticate({ server: 'x' }), /local Unix socket/);
});

test('only allowed uids connect (default: the daemon user)', { skip: uid !== 0 && 'needs root to connect as another user' }, async (t) => {
  const { path, next } = await listen(t);
  const nobody = nativeAccounts().user('nobody');
  assert.ok(nobody, 'a nobody user exists');
  const strict = await createAuthenticator({ auth: AuthSchema.parse({ mode: 'os' }), home: tmpdir() });
  const open = await createAuthenticator({ auth: AuthSchema.parse({ mode: 'os', os: { allowed_users: ['nobody'], users: { nobody: ['guest'] } } }), home: tmpdir() });
  const child = connectingChild(t, path, { uid: nobody.uid, gid: nobody.gid });
  const sock = await next();
  t.after(() => sock.destroy());
  await assert.rejects(strict.authenticate({ socket: sock, server: 'x' }), /'nobody' \(uid \d+\) may not use this daemon/);
  const id = await open.authenticate({ socket: sock, server: 'x' });
  assert.deepEqual({ id: id.id, name: id.name, pid: id.pid, roles: id.roles }, { id: `uid:${nobody.uid}`, name: 'nobody', pid: child.pid, roles: ['guest'] });
  assert.throws(() => AuthSchema.parse({ mode: 'os', os: { allowed_users: [{}] } }));
  await assert.rejects(createAuthenticator({ auth: AuthSchema.parse({ mode: 'os', os: { allowed_users: ['no-such-user-xyz'] } }), home: tmpdir() }), /no user named/);
});
