import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketCapacity, compileRateLimit, limitSpecs, RateLimiter, type RateSnapshot } from '../../src/policy/ratelimit.js';

const rl = compileRateLimit({ requests_per_minute: 60, requests_per_hour: 1000, tool_limits: { search_files: { requests_per_minute: 10 } } });

/** A client sending as fast as it can: one request every `stepMs` of a fake monotonic clock. */
function hammer(lim: RateLimiter, id: string, tool: string | undefined, fromMs: number, durationMs: number, stepMs = 1): number {
  let allowed = 0;
  for (let t = fromMs; t < fromMs + durationMs; t += stepMs) if (lim.take(limitSpecs('fs', id, rl, tool), t).ok) allowed++;
  return allowed;
}

test('hammering for 10 s against 60/min gets at most burst + refill (<= 70)', () => {
  const lim = new RateLimiter();
  const got = hammer(lim, 'uid:1000', 'read_file', 1_000_000, 10_000);
  assert.ok(got <= 70, `got ${got}`);
  assert.ok(got >= bucketCapacity(60) + 9 && got <= bucketCapacity(60) + 10, `got ${got}`);
});

test('in any 60 s window at most the limit plus the burst', () => {
  const lim = new RateLimiter();
  const got = hammer(lim, 'uid:1000', undefined, 0, 60_000, 5);
  assert.ok(got <= 60 + bucketCapacity(60), `got ${got}`);
});

test('two identities have separate budgets', () => {
  const lim = new RateLimiter();
  const a = hammer(lim, 'key:a', undefined, 0, 10_000);
  const b = hammer(lim, 'key:b', undefined, 0, 10_000);
  assert.equal(a, b);
  assert.ok(a > 0);
});

test('per-tool limit applies on top of the server limit, case-insensitively', () => {
  const lim = new RateLimiter();
  const s = hammer(lim, 'u', 'search_files', 0, 1000, 1) + hammer(lim, 'u', 'SEARCH_FILES', 1000, 1000, 1);
  assert.equal(s, bucketCapacity(10));
  // Other tools still have the server budget left.
  assert.ok(lim.take(limitSpecs('fs', 'u', rl, 'read_file'), 2000).ok);
});

test('refusal is atomic and carries retryAfterMs', () => {
  const lim = new RateLimiter();
  const specs = limitSpecs('fs', 'u', rl, 'search_files');
  for (let i = 0; i < bucketCapacity(10); i++) assert.ok(lim.take(specs, 0).ok);
  const before = lim.snapshot(0).buckets.find((b) => b[0].endsWith('\u0000m') && !b[0].includes('\u0000t\u0000'))![1];
  const r = lim.take(specs, 0);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.retryAfterMs, 6000); // 10/min: one token every 6 s
    assert.match(r.limit, /tool_limits\.search_files\.requests_per_minute/);
  }
  const after = lim.snapshot(0).buckets.find((b) => b[0].endsWith('\u0000m') && !b[0].includes('\u0000t\u0000'))![1];
  assert.equal(after, before, 'the minute bucket was not charged for a refused call');
  assert.ok(lim.take(specs, 6000).ok);
});

test('a clock going backwards refills nothing', () => {
  const lim = new RateLimiter();
  const spec = [{ key: 'k', limit: 6, windowMs: 60_000, label: 'x' }];
  let n = 0;
  for (let i = 0; i < 20; i++) if (lim.take(spec, 100_000).ok) n++;
  for (let i = 0; i < 20; i++) if (lim.take(spec, 50_000).ok) n++;
  assert.equal(n, bucketCapacity(6));
});

test('snapshot/restore: limits survive a restart; garbage is ignored', () => {
  const lim = new RateLimiter();
  hammer(lim, 'u', undefined, 0, 2000);
  const snap = JSON.parse(JSON.stringify(lim.snapshot(2000))) as RateSnapshot;
  const burst = (l: RateLimiter, now: number) => {
    let n = 0;
    for (let i = 0; i < 50; i++) if (l.take(limitSpecs('fs', 'u', rl, undefined), now).ok) n++;
    return n;
  };
  // New process: the monotonic clock restarts at 5; 100 ms of wall time passed.
  const fresh = new RateLimiter();
  assert.ok(fresh.restore(snap, 5, 100) > 0);
  assert.ok(burst(fresh, 5) <= 1);
  assert.equal(burst(new RateLimiter(), 5), bucketCapacity(60), 'without restore the burst would be full');
  // A long downtime refills.
  const later = new RateLimiter();
  later.restore(snap, 5, 3_600_000);
  assert.equal(burst(later, 5), bucketCapacity(60));
  // A negative wall-clock delta gives nothing for free.
  const back = new RateLimiter();
  back.restore(snap, 5, -1e9);
  assert.ok(burst(back, 5) <= 1);
  // Garbage.
  const g = new RateLimiter();
  assert.equal(g.restore({ version: 1, buckets: [['k', 'x', 1, 2, 3], null, ['k', NaN, 0, 1, 1]] }, 0, 0), 0);
  assert.equal(g.restore('nope', 0, 0), 0);
  assert.equal(g.restore({ version: 1, buckets: [['k', 1e9, 0, 5, 0.001]] }, 0, 0), 1);
  assert.equal(g.snapshot(0).buckets[0]![1], 5, 'tokens clamped to capacity');
});

test('full idle buckets are evicted', () => {
  const lim = new RateLimiter({ sweepEvery: 1_000_000 });
  for (let i = 0; i < 1000; i++) lim.take(limitSpecs('fs', `id${i}`, rl, undefined), 0);
  assert.equal(lim.size, 2000);
  assert.equal(lim.sweep(100), 0, 'nothing has refilled yet');
  assert.equal(lim.sweep(2_000), 1000, 'minute buckets full again, hour buckets not');
  assert.equal(lim.sweep(3_600_000), 1000);
  assert.equal(lim.size, 0);
});

test('a per-tool limit counts every way of writing the tool name: case, width, spaces, invisible characters', () => {
  const lim = new RateLimiter();
  const names = ['search_files', 'SEARCH_FILES', 'Search_Files', 'ｓｅａｒｃｈ_files', 'search_files ', ' search_files', 'search\u200b_files', 'search_files\u00ad', 'search\u034f_files', 'search_files\ufe0f'];
  let ok = 0;
  for (let i = 0; i < 40; i++) if (lim.take(limitSpecs('fs', 'u', rl, names[i % names.length]), 0).ok) ok++;
  // One bucket for all of them: its burst, and not one more.
  assert.equal(ok, bucketCapacity(10));
  // Other names keep their own (server-wide) limit only.
  assert.ok(lim.take(limitSpecs('fs', 'u', rl, 'search_filez'), 0).ok);
});
