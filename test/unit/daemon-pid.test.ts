// pidAlive: what the lock, `start` and `stop` ask of a pid. A live process is alive; an exited one
// is not, also while it is a zombie nobody has reaped (a container whose PID 1 does not reap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { pidAlive, waitForExit } from '../../src/daemon/lock.js';

test('a running process is alive; a zombie and a reaped process are not', { skip: !existsSync('/proc/self/stat') && 'needs /proc' }, async () => {
  assert.equal(pidAlive(process.pid), true);
  // sh starts a short child, prints its pid, then becomes `sleep`, which never reaps it.
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [chunk] = (await once(parent.stdout!, 'data')) as [Buffer];
    const zombie = Number(chunk.toString().trim());
    assert.ok(zombie > 0);
    const state = () => {
      const s = readFileSync(`/proc/${zombie}/stat`, 'utf8');
      return s[s.lastIndexOf(')') + 2];
    };
    for (let i = 0; i < 100 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(state(), 'Z', 'the child is a zombie');
    assert.doesNotThrow(() => process.kill(zombie, 0), 'a zombie still answers signal 0');
    assert.equal(pidAlive(zombie), false);
    assert.equal(pidAlive(parent.pid!), true);
    assert.equal(await waitForExit(zombie, 100), true, 'a zombie has exited');
    assert.equal(await waitForExit(parent.pid!, 100), false, 'a running process has not');
  } finally {
    parent.kill('SIGKILL');
  }
  await once(parent, 'exit');
  assert.equal(pidAlive(parent.pid!), false, 'reaped: gone');
});
