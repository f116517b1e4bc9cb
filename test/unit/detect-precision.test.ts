// Precision (issue #18 item 4, issue #15 item 6): a number-shaped match is a whole run of digits,
// never a piece of a longer one with the same separators. Each case fails on one FP the earlier
// build made, and the cards next to them must still be found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDetector } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import { PiiSchema } from '../../src/config/pii-schema.js';

const det = compileDetector(PiiSchema.parse({}), Buffer.from('precision-key'));
const call = (args: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: args } });
const rules = (args: unknown) => inspectMessage(call(args), 'request', det).findings.map((f) => f.rule);
const types = (args: unknown) => inspectMessage(call(args), 'request', det).findings.map((f) => f.type);

const luhnDigit = (partial: string): string => {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    if (d > 9) d -= 9;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
};
const luhn = (partial: string) => partial + luhnDigit(partial);
const gs1Complete = (partial: string): string => {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) sum += Number(partial[partial.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return partial + String((10 - (sum % 10)) % 10);
};

test('#15.6: a Maestro-shaped 12-digit piece of a 16-digit number that fails Luhn is not a card', () => {
  // 5678 9012 3456 passes Luhn (a 12-digit Maestro); the whole 1234 5678 9012 3456 does not.
  assert.equal(luhn('56789012345'), '567890123456');
  for (const sep of [' ', '-', '.']) {
    const text = `order ${['1234', '5678', '9012', '3456'].join(sep)}`;
    assert.deepEqual(rules({ text }), [], text);
  }
  // the whole run is still read: a Luhn-valid grouped card is found, and two cards side by side
  assert.deepEqual(types({ text: 'order 4111 1111 1111 1111' }), ['credit_card']);
  assert.deepEqual(types({ text: 'cards 4111111111111111 5555555555554444' }), ['credit_card', 'credit_card']);
  assert.deepEqual(types({ text: 'card 4111-1111-1111-1111 exp 12/27' }), ['credit_card']);
});

test('19-digit groups that fail Luhn are not cards, even when their first 16 digits pass', () => {
  const c16 = luhn('512345678901234'); // Mastercard-shaped, Luhn-valid
  let tail = '000';
  for (let t = 0; t < 1000; t++) {
    tail = String(t).padStart(3, '0');
    if (luhnDigit(c16 + tail.slice(0, 2)) !== tail[2]) break;
  }
  const g = (s: string) => s.replace(/(\d{4})(?=\d)/g, '$1 ');
  const text = `ref ${g(c16 + tail)}`;
  assert.deepEqual(rules({ text }), [], text);
  assert.deepEqual(rules({ text: `ref ${g(c16)}` }).length, 1);
});

test('a number is never a piece of a longer digit run with the same separators (all number rules)', () => {
  for (const text of ['ref 1-536-90-4321', 'ref 536-90-4321-7', 'code 12.111.444.777-35', 'nhs 943 476 5919 2']) {
    assert.deepEqual(rules({ text }), [], text);
  }
  // other separators are boundaries, as before
  for (const text of ['ssn: 536-90-4321.', 'x 536-90-4321 2', 'cpf 111.444.777-35, ok']) assert.ok(rules({ text }).length > 0, text);
  // a North American number with its country code stays one phone number
  assert.deepEqual(types({ text: 'call 1-415-867-5309' }), ['phone']);
});
