// Metrics API (observe, label bounding, tee, queue gauges) and the front's pure helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Counter, Registry } from 'prom-client';
import { Metrics } from '../../src/http/metrics.js';
import { isLoopbackHost, parseListen } from '../../src/http/origin.js';
import { credentialsFor } from '../../src/http/front-auth.js';
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

test('requests are counted by protocol era; 2026 methods are labelled by name', async () => {
  const m = new Metrics({ defaultMetrics: false });
  m.observe(rec({ era: '2025' }));
  m.observe(rec({ era: '2026', method: 'server/discover' }));
  m.observe(rec({ era: '2026', method: 'sampling/createMessage', decision: 'block', stage: 'sampling' }));
  m.observe(rec());
  const t = await m.text();
  assert.match(t, /mcp_guard_era_requests_total\{server="s",era="2025",decision="allow"\} 1/);
  assert.match(t, /mcp_guard_era_requests_total\{server="s",era="2026",decision="allow"\} 1/);
  assert.match(t, /mcp_guard_era_requests_total\{server="s",era="2026",decision="block"\} 1/);
  assert.match(t, /mcp_guard_era_requests_total\{server="s",era="none",decision="allow"\} 1/);
  assert.match(t, /mcp_guard_requests_total\{server="s",method="server\/discover",decision="allow"\} 1/);
});

test('the families counted in place render exactly as prom-client renders its own', async () => {
  const m = new Metrics({ defaultMetrics: false });
  const reg = new Registry();
  const up = new Histogram({ name: 'mcp_guard_upstream_latency_seconds', help: 'Time from forwarding a request upstream to its response', labelNames: ['server'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [reg] });
  const ov = new Histogram({ name: 'mcp_guard_proxy_overhead_seconds', help: 'Time mcp-guard spent on a request and its response (inspection and routing)', labelNames: ['server'], buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1], registers: [reg] });
  const rq = new Counter({ name: 'mcp_guard_requests_total', help: 'Requests handled, by server, method and final decision', labelNames: ['server', 'method', 'decision'], registers: [reg] });
  // Values on bucket bounds, between them, past the last one; two servers; several decisions.
  const ups = [0.5, 1, 2.5, 3, 12, 40_000, 0.001, 250];
  ups.forEach((u, i) => {
    const server = i % 3 ? 'a' : 'b';
    const decision = i % 2 ? 'allow' : 'block';
    const overhead_us = i * 137 + 50;
    m.observe(rec({ server, decision, upstream_ms: u, overhead_us }));
    up.labels(server).observe(u / 1000);
    ov.labels(server).observe(overhead_us / 1e6);
    rq.labels(server, 'tools/call', decision).inc();
  });
  m.observe(rec({ server: 'a', upstream_ms: NaN, overhead_us: Infinity, decision: 'allow' }));
  rq.labels('a', 'tools/call', 'allow').inc(); // the record still counts; only its non-finite times are left out
  const ours = await m.text();
  const theirs = await reg.metrics();
  // Same lines per family (series order within a family carries no meaning).
  const families = (text: string) => new Map(text.trim().split('\n\n').map((f) => [f.split('\n')[0], f.split('\n').sort()]));
  const mine = families(ours);
  for (const [head, lines] of families(theirs)) assert.deepEqual(mine.get(head), lines, head);
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
