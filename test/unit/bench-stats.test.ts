// Pure parts of the bench tooling: percentiles, the Clopper-Pearson bound, the corpus generator,
// pipeline parsing and case scoring against hand-built outcomes. No timing assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarize, clopperPearsonUpper, prng, logHistogram } from '../../src/bench/stats.js';
import { parsePipeline, benchConfig } from '../../src/bench/guard-env.js';
import { generateCorpus } from '../../bench/detection/corpus.js';
import { allCases, type DetectionCase } from '../../bench/detection/cases.js';
import { scoreMessageCase, scoreRate, contains, tally } from '../../bench/detection/score.js';
import { parseSizes } from '../../src/cli/bench.js';
import { goalChecks, overheadRatio, type CellResult } from '../../src/bench/latency.js';

test('nearest-rank percentiles', () => {
  const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(s, 50), 50);
  assert.equal(percentile(s, 90), 90);
  assert.equal(percentile(s, 99), 99);
  assert.equal(percentile(s, 99.9), 100);
  assert.equal(percentile(s, 0), 1);
  assert.equal(percentile(s, 100), 100);
  assert.ok(Number.isNaN(percentile([], 50)));
  const sum = summarize([5, 1, 3, 2, 4]);
  assert.deepEqual([sum.n, sum.p50, sum.max, sum.mean], [5, 3, 5, 3]);
});

test('log histogram counts every sample once', () => {
  const h = logHistogram([1, 10, 100, 1000, 0.5, 5000], 1, 1000, 6);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), 6);
  assert.equal(h.edges.length, 7);
});

test('Clopper-Pearson upper bound', () => {
  // k = 0: exact 1 - 0.05^(1/n), close to the rule of three.
  assert.ok(Math.abs(clopperPearsonUpper(0, 10_000) - (1 - Math.pow(0.05, 1 / 10_000))) < 1e-12);
  assert.ok(Math.abs(clopperPearsonUpper(0, 10_000) - 3 / 10_000) < 2e-5);
  // Reference values (one-sided 95%): k=1,n=100 → 0.0466; k=5,n=1000 → 0.01048; k=10,n=50 → 0.3171.
  assert.ok(Math.abs(clopperPearsonUpper(1, 100) - 0.0466) < 5e-4);
  assert.ok(Math.abs(clopperPearsonUpper(5, 1000) - 0.01048) < 2e-4);
  assert.ok(Math.abs(clopperPearsonUpper(10, 50) - 0.3171) < 2e-3);
  assert.equal(clopperPearsonUpper(3, 3), 1);
  assert.ok(clopperPearsonUpper(2, 100) > clopperPearsonUpper(1, 100));
});

test('the PRNG and the corpus are deterministic and large enough', () => {
  const a = prng(7);
  const b = prng(7);
  for (let i = 0; i < 5; i++) assert.equal(a(), b());
  const c1 = generateCorpus(10_000, 42);
  const c2 = generateCorpus(10_000, 42);
  assert.equal(c1.length, 10_000);
  assert.equal(JSON.stringify(c1), JSON.stringify(c2));
  assert.notEqual(JSON.stringify(generateCorpus(50, 43)), JSON.stringify(generateCorpus(50, 42)));
  const kinds = new Set(c1.map((c) => c.kind));
  for (const k of ['ids', 'git', 'logs', 'sql', 'code', 'image', 'numbers', 'phonelike', 'hashes']) assert.ok(kinds.has(k), k);
});

function cell(size: number, concurrency: number, o: { direct: number; proxied: number; floor: number; p99?: number; tput?: number; relayTput?: number; errors?: number }): CellResult {
  const t = (p50: number, throughput: number, errors = 0) => ({ latency: { n: 100, p50, p90: p50, p99: p50 + (o.p99 ?? 0), p999: p50, max: p50, mean: p50 }, quantiles: [], throughput, errors });
  const overhead = { p50: o.proxied - o.direct, p99: o.p99 ?? 0 };
  const floorOverhead = { p50: o.floor - o.direct, p99: 0 };
  return {
    era: '2025',
    size,
    concurrency,
    method: 'tools/call',
    targets: { direct: t(o.direct, 50_000), proxied: t(o.proxied, o.tput ?? 1000, o.errors), floor: t(o.floor, o.relayTput ?? 2000) },
    overhead,
    floorOverhead,
    ratio: { p50: floorOverhead.p50 > 0 ? Math.round((overhead.p50 / floorOverhead.p50) * 100) / 100 : NaN, p99: NaN },
    overheadP50RoundMedian: overhead.p50,
  };
}

test('a run against the targets: read at 1 KB or less, latency at 1 in flight, throughput only with every stage', () => {
  const all = ['pii', 'permissions', 'ratelimit', 'audit'];
  const cells = [
    cell(512, 1, { direct: 40, proxied: 150, floor: 120, p99: 2500 }),
    cell(1024, 1, { direct: 40, proxied: 200, floor: 140, p99: 3100 }),
    cell(1024, 64, { direct: 600, proxied: 2000, floor: 1500, tput: 16_000, relayTput: 20_000 }),
    cell(10240, 1, { direct: 40, proxied: 100, floor: 90 }), // over 1 KB: never read
    cell(10240, 64, { direct: 600, proxied: 2000, floor: 1500, tput: 90_000 }),
  ];
  const g = goalChecks({ cells, pipeline: all });
  assert.deepEqual(g.map((x) => [x.goal, x.value, x.met]), [
    ['p50 overhead <= 150 µs', '160 µs', false], // the largest size of 1 KB or less: 1k
    ["p50 overhead <= 1.5x the relay's", '1.60x', false],
    ['p99 overhead <= 3 ms', '3.10 ms', false],
    ['>= 15,000 req/s, every stage on', '16,000', true], // 10k's 90,000 is not a 1 KB figure
  ]);
  assert.match(g[0]!.note!, /^1k, 1 in flight; the bare relay's overhead: 100 µs$/);
  assert.match(g[3]!.note!, /^1k, 64 in flight; the relay: 20,000$/);
  const met = goalChecks({ cells: [cell(1024, 1, { direct: 40, proxied: 150, floor: 110, p99: 900 }), cell(1024, 128, { direct: 40, proxied: 150, floor: 110 })], pipeline: all });
  assert.deepEqual(met.map((x) => [x.value, x.met]), [['110 µs', true], ['1.57x', false], ['0.90 ms', true], ['1,000', false]]);
  // What a run did not measure says so, and is neither met nor missed.
  const none = goalChecks({ cells: [cell(1024, 8, { direct: 40, proxied: 150, floor: 110 })], pipeline: ['pii'] });
  assert.ok(none.every((x) => x.met === undefined && x.value === '-'));
  assert.match(none[0]!.note!, /no cell of 1k or less at 1 in flight/);
  assert.match(none[3]!.note!, /not every stage/);
  // Read as shown: 150.4 µs shows as 150 and meets <= 150; 3.004 ms shows as 3.00 and meets <= 3 ms.
  const edge = goalChecks({ cells: [cell(1024, 1, { direct: 40, proxied: 190.4, floor: 140, p99: 3004 })], pipeline: all });
  assert.deepEqual(edge.slice(0, 3).map((x) => [x.value, x.met]), [['150 µs', true], ['1.50x', true], ['3.00 ms', true]]);
  const quick = goalChecks({ cells: [cell(1024, 16, { direct: 40, proxied: 60, floor: 50, tput: 20_000 })], pipeline: all });
  assert.equal(quick[3]!.met, undefined, 'throughput is read with 64 or more in flight');
  assert.match(quick[3]!.note!, /no cell of 1k or less with 64 or more in flight/);
  const failed = goalChecks({ cells: [cell(1024, 1, { direct: 40, proxied: 60, floor: 110, errors: 3, tput: 99_000 }), cell(1024, 64, { direct: 40, proxied: 60, floor: 110, errors: 1, tput: 99_000 })], pipeline: all });
  assert.ok(failed.every((x) => x.met === undefined), 'a cell with errors measures nothing');
  assert.deepEqual([failed[0]!.note, failed[3]!.note], ['not measured: requests failed at 1k, 1 in flight', 'not measured: requests failed']);
  const noFloor = goalChecks({ cells: [cell(1024, 1, { direct: 40, proxied: 60, floor: 30 })], pipeline: all });
  assert.equal(noFloor[1]!.met, undefined, 'no ratio when the relay was not slower than direct');
  // A ratio of a negative overhead (proxied faster than direct: noise) would read as a pass.
  assert.deepEqual([overheadRatio(125, 89), overheadRatio(0, 89), overheadRatio(-3560, 1655), overheadRatio(50, 0), overheadRatio(50, -200)], [1.4, 0, NaN, NaN, NaN]);
});

test('pipeline specs and generated configs', () => {
  assert.deepEqual([...parsePipeline('all')].sort(), ['audit', 'permissions', 'pii', 'ratelimit']);
  assert.equal(parsePipeline('none').size, 0);
  assert.deepEqual([...parsePipeline('pii,rate-limit')], ['pii', 'ratelimit']);
  assert.throws(() => parsePipeline('pii,bogus'), /unknown pipeline stage 'bogus'/);
  const cfg = JSON.parse(benchConfig({ home: '/h', name: 'b', upstream: { command: 'node', args: ['e.js'] }, stages: parsePipeline('pii,ratelimit'), auditPath: '/h/a.db' }));
  assert.equal(cfg.pii.enabled, true);
  assert.equal(cfg.audit.enabled, false);
  assert.ok(cfg.servers.b.policy.rate_limit.requests_per_minute >= 1e9);
  assert.equal(cfg.servers.b.policy.permissions, undefined);
  assert.deepEqual(parseSizes('1k,10k,512'), [1024, 10240, 512]);
  assert.throws(() => parseSizes('1k,0'), /bad size '0' \(at least 1 byte\)/);
  assert.throws(() => parseSizes('0.0001k'), /at least 1 byte/);
});

test('case ids are unique and every category has cases of each direction it needs', () => {
  const cases = allCases();
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length);
  for (const c of cases) if (c.check !== 'scenario' && c.check !== 'list') assert.ok(c.secret.length > 0, c.id);
});

const reqCase = (kind: DetectionCase['kind']): DetectionCase => ({ id: 'x', category: 'pii-request-leak', kind, check: 'request', description: '', request: { method: 'tools/call', params: { name: 'echo', arguments: { v: 'SECRET123' } } }, secret: 'SECRET123' });
const refused = { jsonrpc: '2.0', id: 1, error: { code: -32008, message: 'blocked' } };
const success = { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'ok' }] } };

test('must-block: refusal and nothing at the upstream', () => {
  assert.equal(scoreMessageCase(reqCase('must-block'), { reply: refused, upstreamDelta: [], serverRequests: [] }).pass, true);
  // Refused but the value reached the upstream anyway: fail.
  assert.equal(scoreMessageCase(reqCase('must-block'), { reply: refused, upstreamDelta: [{ method: 'tools/call', params: { name: 'echo', arguments: { v: 'SECRET123' } } }], serverRequests: [] }).pass, false);
  // An upstream error (not a -3200x refusal) is not a block.
  assert.equal(scoreMessageCase(reqCase('must-block'), { reply: { error: { code: -32603, message: 'x' } }, upstreamDelta: [], serverRequests: [] }).pass, false);
  // Secret hidden in an object key at the upstream still counts.
  assert.equal(contains([{ params: { arguments: { SECRET123: 1 } } }], ['SECRET123']), true);
});

test('must-redact and must-pass', () => {
  const redacted = [{ method: 'tools/call', params: { name: 'echo', arguments: { v: '[REDACTED:x]' } } }];
  assert.equal(scoreMessageCase(reqCase('must-redact'), { reply: success, upstreamDelta: redacted, serverRequests: [] }).pass, true);
  assert.equal(scoreMessageCase(reqCase('must-redact'), { reply: refused, upstreamDelta: [], serverRequests: [] }).pass, false);
  const unchanged = [{ method: 'tools/call', params: { name: 'echo', arguments: { v: 'SECRET123' } } }];
  assert.equal(scoreMessageCase(reqCase('must-pass'), { reply: success, upstreamDelta: unchanged, serverRequests: [] }).pass, true);
  assert.equal(scoreMessageCase(reqCase('must-pass'), { reply: success, upstreamDelta: redacted, serverRequests: [] }).pass, false);
  // An upstream or proxy error on a legitimate call is a failure.
  assert.equal(scoreMessageCase(reqCase('must-pass'), { reply: { error: { code: -32011, message: 'down' } }, upstreamDelta: unchanged, serverRequests: [] }).pass, false);
  const resp: DetectionCase = { ...reqCase('must-pass'), check: 'response', upstreamReply: 'hello' };
  assert.equal(scoreMessageCase(resp, { reply: { result: { content: [{ type: 'text', text: 'hello' }] } }, upstreamDelta: [], serverRequests: [] }).pass, true);
  assert.equal(scoreMessageCase(resp, { reply: { result: { content: [{ type: 'text', text: 'hell' }] } }, upstreamDelta: [], serverRequests: [] }).pass, false);
});

test('list, sampling and rate-limit scoring', () => {
  const list: DetectionCase = { id: 'l', category: 'capability-probe', kind: 'must-redact', check: 'list', description: '', request: { method: 'tools/list' }, secret: 'write_file', forbidden: ['write_file'], required: ['echo'] };
  assert.equal(scoreMessageCase(list, { reply: { result: { tools: [{ name: 'echo' }] } }, upstreamDelta: [], serverRequests: [] }).pass, true);
  assert.equal(scoreMessageCase(list, { reply: { result: { tools: [{ name: 'echo' }, { name: 'write_file' }] } }, upstreamDelta: [], serverRequests: [] }).pass, false);
  const samp: DetectionCase = { id: 's', category: 'sampling-injection', kind: 'must-block', check: 'sampling', description: '', request: { method: 'tools/call' }, secret: 'AKIAX', upstreamReply: 'AKIAX' };
  assert.equal(scoreMessageCase(samp, { reply: success, upstreamDelta: [{ id: 'srv-1', error: { code: -32007, message: 'no' } }], serverRequests: [] }).pass, true);
  assert.equal(scoreMessageCase(samp, { reply: success, upstreamDelta: [{ id: 'srv-1', result: {} }], serverRequests: [{ method: 'sampling/createMessage', id: 'srv-1', params: { text: 'AKIAX' } }] }).pass, false);
  assert.equal(scoreRate('must-block', { sent: 300, ok: 70, limited: 230, other: 0, limit: 60 }).pass, true);
  assert.equal(scoreRate('must-block', { sent: 300, ok: 150, limited: 150, other: 0, limit: 60 }).pass, false);
  assert.equal(scoreRate('must-pass', { sent: 10, ok: 10, limited: 0, other: 0, limit: 60 }).pass, true);
  const t = tally([{ category: 'a', kind: 'must-block', verdict: { pass: true, reason: '' } }, { category: 'a', kind: 'must-block', verdict: { pass: false, reason: '', notRun: true } }], ['a']);
  assert.deepEqual(t[0]!.kinds['must-block'], { pass: 1, fail: 0, notRun: 1 });
});
