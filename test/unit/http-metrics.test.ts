// Metrics API (observe, label bounding, tee, queue gauges) and the front's pure helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/http/metrics.js';
import { isLoopbackHost, parseListen, credentialsFor } from '../../src/http/front.js';
import { bearerOf, sameSecret } from '../../src/http/token.js';

const rec = (o: Record<string, unknown> = {}) =>
  ({ server: 's', kind: 'request', method: 'tools/call', decision: 'allow', stage: undefined, upstream_ms: 12, overhead_us: 300, ...o }) as any;

test('observe counts requests, decisions, findings and latencies; unknown methods are bounded', async () => {
  const m = new Metrics({ defaultMetrics: false });
  m.observe(rec());
  m.observe(rec());
  m.observe(rec({ decision: 'block', stage: 'pii', findings: [{ type: 'credit_card', count: 2 }] }));
  for (let i = 0; i < 50; i++) m.observe(rec({ method: `evil/${i}` }));
  m.queueDepth('audit', () => 7);
  m.sessionOpened('http');
  const t = await m.text();
  assert.match(t, /mcp_guard_requests_total\{server="s",method="tools\/call",decision="allow"\} 2/);
  assert.match(t, /mcp_guard_requests_total\{server="s",method="other",decision="allow"\} 50/);
  assert.ok(!t.includes('evil/'), 'arbitrary method names never become labels');
  assert.match(t, /mcp_guard_decisions_total\{stage="pii",decision="block"\} 1/);
  assert.match(t, /mcp_guard_findings_total\{type="credit_card"\} 2/);
  assert.match(t, /mcp_guard_upstream_latency_seconds_count\{server="s"\} 53/);
  assert.match(t, /mcp_guard_queue_depth\{queue="audit"\} 7/);
  assert.match(t, /mcp_guard_sessions\{front="http"\} 1/);
});

test('tee passes records on and reports the sink as full or not accepting', () => {
  const m = new Metrics({ defaultMetrics: false });
  const got: unknown[] = [];
  const sink = m.tee({ write: (r) => (got.push(r), true), full: true, accepting: false });
  sink.write(rec());
  assert.equal(got.length, 1);
  assert.equal(sink.full, true);
  assert.equal(sink.accepting, false);
  assert.equal(m.tee().full, false);
  assert.equal(m.tee().accepting, true);
});

test('listen parsing, loopback detection, credentials by mode, bearer parsing', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':9000'), { host: '0.0.0.0', port: 9000 });
  assert.throws(() => parseListen('8080'));
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '::']) assert.ok(!isLoopbackHost(h), h);
  assert.deepEqual(credentialsFor('oauth', 't'), { token: 't' });
  assert.deepEqual(credentialsFor('api_key', 'k'), { apiKey: 'k' });
  assert.equal(bearerOf('Bearer abc'), 'abc');
  assert.equal(bearerOf('Basic abc'), undefined);
  assert.ok(sameSecret('x', 'x'));
  assert.ok(!sameSecret('x', 'y'));
  assert.ok(!sameSecret(undefined, 'y'));
});
