// The daemon log: a repeated event is written a few times per window and then summarised with a
// count (a flooding session once grew the log by 200 MB); a log on a full disk costs lines, not
// the daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/daemon/log.js';

function collector() {
  const lines: any[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { out, lines };
}

test('a repeated event is written burst times, then summarised once per window with its count', async () => {
  const { out, lines } = collector();
  const log = createLogger('info', out, {}, { burst: 5, windowMs: 50 });
  const a = log.child({ session: 'A' });
  const b = log.child({ session: 'B' });
  for (let i = 0; i < 10_000; i++) a.warn('notification dropped', { method: 'notifications/message' });
  b.warn('notification dropped', { method: 'notifications/message' });
  log.info('something else');
  assert.equal(lines.filter((l) => l.session === 'A').length, 5);
  assert.equal(lines.filter((l) => l.session === 'B').length, 1, "one session's flood does not silence another's event");
  assert.equal(lines.filter((l) => l.msg === 'something else').length, 1);
  while (!lines.some((l) => l.suppressed !== undefined)) await sleep(10);
  const summary = lines.filter((l) => l.suppressed !== undefined);
  assert.equal(summary.length, 1);
  assert.equal(summary[0].session, 'A');
  assert.equal(summary[0].msg, 'notification dropped');
  assert.equal(summary[0].suppressed, 10_000 - 5);
  // A new window starts afresh.
  a.warn('notification dropped');
  assert.equal(lines.filter((l) => l.session === 'A' && l.suppressed === undefined).length, 6);
});

test('upstream stderr lines count as one event per session, whatever their text', () => {
  const { out, lines } = collector();
  const log = createLogger('info', out, { session: 'S' }, { burst: 3, windowMs: 60_000 });
  for (let i = 0; i < 100; i++) log.info(`line ${i}`, { stream: 'upstream-stderr' });
  assert.equal(lines.length, 3);
});

test('a log that cannot be written (stderr on /dev/full) costs the lines, not the process', () => {
  const mod = fileURLToPath(new URL('../../src/daemon/log.js', import.meta.url));
  const script = `import { createLogger } from ${JSON.stringify(mod)}; import { writeSync } from 'node:fs';
    const log = createLogger('info'); for (let i = 0; i < 50; i++) log.error('boom ' + i);
    setTimeout(() => writeSync(1, 'alive\\n'), 50);`;
  const full = openSync('/dev/full', 'w');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', full], encoding: 'utf8' });
  closeSync(full);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'alive\n');
});
