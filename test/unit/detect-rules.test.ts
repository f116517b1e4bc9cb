// Every rule's own examples (rules.ts): each must-match example is found as the rule's type by the
// full inspection, and each must-not-match example is not reported by that rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RULES } from '../../src/detect/rules.js';
import { compileDetector } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import { PiiSchema } from '../../src/config/pii-schema.js';

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
