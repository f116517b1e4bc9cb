// Every rule's own examples (rules.ts): each must-match example is found as the rule's type by the
// full inspection, and each must-not-match example is not reported by that rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RULES } from '../../src/detect/rules.js';
import { compileDetector } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import { PiiSchema } from '../../src/config/pii-schema.js';
import { literalPrefixes } from '../../src/detect/literals.js';

const det = compileDetector(PiiSchema.parse({}), Buffer.from('test-key'));
const wrap = (text: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

test('catalogue has at least 220 rules with unique ids and examples', () => {
  assert.ok(RULES.length >= 220, `only ${RULES.length} rules`);
  assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length);
  for (const r of RULES) {
    assert.ok(r.examples.match.length > 0, `${r.id} has no match example`);
    assert.ok(r.examples.noMatch.length > 0, `${r.id} has no noMatch example`);
    for (const k of r.keywords ?? []) assert.equal(k, k.toLowerCase(), `${r.id} keyword not lowercase`);
  }
});

for (const rule of RULES) {
  test(`rule ${rule.id}: examples`, () => {
    for (const ex of rule.examples.match) {
      const res = inspectMessage(wrap(ex), 'request', det);
      assert.ok(
        res.findings.some((f) => f.type === rule.type),
        `${rule.id} should find ${rule.type} in example #${rule.examples.match.indexOf(ex)}; got ${res.findings.map((f) => f.rule).join(',') || 'nothing'}`,
      );
      assert.ok(res.findings.some((f) => f.rule === rule.id || f.type === rule.type));
    }
    for (const ex of rule.examples.noMatch) {
      const res = inspectMessage(wrap(ex), 'request', det);
      const by = res.findings.filter((f) => f.rule === rule.id);
      assert.equal(by.length, 0, `${rule.id} must not match noMatch example #${rule.examples.noMatch.indexOf(ex)} (${ex.slice(0, 40)})`);
    }
  });
}

test('keywords of rules without context are literals found in every match (the prefilters look for them)', () => {
  let withKeywords = 0;
  for (const r of RULES) {
    if (r.context || !r.keywords?.length) continue;
    withKeywords++;
    for (const ex of r.examples.match) {
      assert.ok(r.keywords.some((k) => ex.toLowerCase().includes(k)), `${r.id}: no keyword of ${JSON.stringify(r.keywords)} in example ${ex.slice(0, 40)}`);
    }
  }
  assert.ok(withKeywords >= 30, `only ${withKeywords} rules with keywords`);
});

test('literalPrefixes reads the literal starts of patterns, and gives up where a branch has none', () => {
  assert.deepEqual(literalPrefixes('\\bghp_[A-Za-z0-9]{36}\\b'), ['ghp_']);
  assert.deepEqual(literalPrefixes('(?:^|[^A-Za-z0-9])((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20})'), ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_']);
  assert.deepEqual(literalPrefixes('xox[pe]-[0-9]+'), ['xoxp-', 'xoxe-']);
  assert.deepEqual(literalPrefixes('(?:postgres(?:ql)?|mysql)://x'), ['postgres', 'mysql://x']);
  assert.deepEqual(literalPrefixes('hooks\\.slack\\.com/x'), ['hooks.slack.com/x']);
  assert.equal(literalPrefixes('[A-Z]{2}\\d{2}'), undefined);
  assert.equal(literalPrefixes('abc|[0-9]'), undefined);
  assert.equal(literalPrefixes('ab?c'), undefined); // 'a' alone is shorter than 3
  assert.equal(literalPrefixes('\\bSK[0-9a-f]{32}'), undefined);
});
