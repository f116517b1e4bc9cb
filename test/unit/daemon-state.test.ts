// Rate-limit state on a full disk (a real tmpfs filled to ENOSPC): a snapshot that cannot be
// written is reported and retried, never thrown (it used to take the daemon down with every
// audit record still queued).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateState } from '../../src/daemon/state.js';
import { RateLimiter } from '../../src/policy/ratelimit.js';
import { createLogger } from '../../src/daemon/log.js';
import { Writable } from 'node:stream';
import { SmallDisk } from '../fixtures/faults/full-disk.js';

const disk = SmallDisk.mount(1024 * 1024);

test('a full disk under state.db: save() reports the error and the next save after space returns writes', { skip: typeof disk === 'string' ? disk : false }, () => {
  const d = disk as SmallDisk;
  const lines: any[] = [];
  const out = new Writable({ write: (c, _e, cb) => (lines.push(...String(c).split('\n').filter(Boolean).map((l) => JSON.parse(l))), cb()) });
  const log = createLogger('info', out);
  try {
    const limiter = new RateLimiter();
    const state = new RateState(d.dir, limiter, log);
    assert.equal(state.save(), true);
    d.fill();
    for (let i = 0; i < 5; i++) assert.equal(state.save(), false, 'a snapshot on a full disk fails without throwing');
    assert.match(state.status.error ?? '', /full|SQLITE_FULL|ENOSPC/i);
    assert.equal(lines.filter((l) => l.msg.startsWith('cannot save the rate-limit state')).length, 1, 'reported once per streak');
    d.release();
    assert.equal(state.save(), true);
    assert.equal(state.status.error, undefined);
    state.close();
    const again = new RateState(d.dir, limiter, log);
    again.close();
  } finally {
    d.unmount();
  }
});
