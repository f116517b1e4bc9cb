// The Piscina inspection pool: one task per event-loop turn, and fail closed on worker failure
// while later batches still work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InspectionPool } from '../../src/detect/pool.js';
import { PiiSchema } from '../../src/config/pii-schema.js';

const pii = PiiSchema.parse({});
const line = (text: string) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { text } } }));

test('many inspect() calls in one tick become one task; results map back in order', async () => {
  const pool = new InspectionPool({ pii, hashKey: Buffer.from('k'), threads: 1 });
  try {
    const texts = Array.from({ length: 50 }, (_, i) => (i % 2 ? `mail u${i}@example.com` : `plain text ${i}`));
    const results = await Promise.all(texts.map((t) => pool.inspect(line(t), 'response')));
    assert.equal(pool.tasksSubmitted, 1);
    results.forEach((r, i) => assert.equal(r.action, i % 2 ? 'modify' : 'allow', `item ${i}`));
    assert.equal((results[1]!.message as any).params.arguments.text, 'mail [REDACTED:email]');
    await pool.inspect(line('AKIAIOSFODNN7EXAMPLE'), 'request');
    assert.equal(pool.tasksSubmitted, 2);
  } finally {
    await pool.close();
  }
});

// (No 'exit' case: with re2 1.23.3 a replacement worker loading re2 after a worker died aborts the
// process; see pool.ts. Exceptions and timeouts are the failures the pool handles in-process.)
for (const kind of ['throw', 'hang'] as const) {
  test(`worker ${kind}: the batch is blocked, the pool keeps working`, async () => {
    const pool = new InspectionPool({ pii, hashKey: Buffer.from('k'), threads: 1, timeoutMs: 300, testHooks: true });
    try {
      pool.injectFailure(kind);
      const bad = await Promise.all([pool.inspect(line('hello'), 'request'), pool.inspect(line('world'), 'response')]);
      for (const r of bad) {
        assert.equal(r.action, 'block');
        assert.ok(r.reason && r.reason.length > 0);
      }
      assert.equal(pool.batchesFailed, 1);
      // A timed-out batch is not aborted (see pool.ts); let the busy worker finish before the next one.
      if (kind === 'hang') await new Promise((r) => setTimeout(r, 1200));
      const ok = await pool.inspect(line('hello again'), 'request');
      assert.equal(ok.action, 'allow');
      const found = await pool.inspect(line('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'), 'request');
      assert.equal(found.action, 'block');
      assert.deepEqual(found.blockedTypes, ['github_token']);
    } finally {
      await pool.close();
    }
  });
}

test('failure injection is refused without testHooks', async () => {
  const pool = new InspectionPool({ pii, hashKey: Buffer.from('k'), threads: 1 });
  try {
    assert.throws(() => pool.injectFailure('exit'));
  } finally {
    await pool.close();
  }
});
