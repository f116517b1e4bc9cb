// Full inspection: evasions undone by normalisation, keys and numbers scanned, full length, near
// misses left alone, actions and rewriting, custom types, allowlists, config validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDetector, validatePiiConfig } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import { PiiSchema } from '../../src/config/pii-schema.js';

const KEY = Buffer.from('unit-test-key');
const det = compileDetector(PiiSchema.parse({}), KEY);
const call = (args: unknown, name = 'echo') => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } });
const types = (msg: object, dir: 'request' | 'response' = 'request', d = det) => inspectMessage(msg, dir, d).findings.map((f) => f.type);

test('evasions: zero-width, fullwidth, percent, HTML entities, JSON \\u escapes, base64, hex', () => {
  const cases: [string, string][] = [
    ['4111\u200b1111\u200c1111\u200d1111', 'credit_card'],
    ['４１１１ １１１１ １１１１ １１１１', 'credit_card'],
    ['alice%40example.com', 'email'],
    ['alice&#64;example&#46;com', 'email'],
    ['alice&commat;example.com', 'email'],
    ['alice\\u0040example.com', 'email'],
    [Buffer.from('AKIAIOSFODNN7EXAMPLE').toString('base64'), 'aws_access_key'],
    ['creds: ' + Buffer.from('my key is AKIAIOSFODNN7EXAMPLE ok').toString('base64'), 'aws_access_key'],
    [Buffer.from('bob@example.org').toString('hex'), 'email'],
    [Buffer.from(Buffer.from('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').toString('base64')).toString('base64'), 'github_token'],
    ['536\u00ad-90-4321', 'ssn'],
    ['4111\u20111111\u20111111\u20111111', 'credit_card'],
    ['%34%31%31%31%31%31%31%31%31%31%31%31%31%31%31%31', 'credit_card'],
  ];
  for (const [text, type] of cases) assert.ok(types(call({ text })).includes(type), `${type} not found in evasion ${JSON.stringify(text).slice(0, 60)}`);
});

test('object keys and numbers are scanned', () => {
  assert.ok(types(call({ amount: 4111111111111111 })).includes('credit_card'));
  assert.ok(types(call({ 'alice@example.com': 'present' })).includes('email'));
  assert.ok(types(call({ ssn: 536904321 })).includes('ssn'));
  assert.ok(types({ jsonrpc: '2.0', id: 1, result: { rows: [[1, 'x', { note: 'card 5555 5555 5555 4444' }]] } }, 'response').includes('credit_card'));
});

test('no truncation: a secret after 1 MB of padding is found', () => {
  const text = 'lorem ipsum '.repeat(90_000) + ' 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';
  assert.ok(text.length > 1_000_000);
  const res = inspectMessage(call({ text }), 'request', det);
  assert.equal(res.action, 'block');
  assert.deepEqual(res.blockedTypes, ['github_token']);
});

test('near misses are not findings', () => {
  const legit = [
    '550e8400-e29b-41d4-a716-446655440000',
    'commit a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    'created 2024-01-15T10:30:00Z, updated 1717171717, ms 1717171717123',
    'version 1.2.3 and v10.4.2-beta.1',
    'order #123456789012 shipped; invoice 2024-000123',
    'id 1234567812345678', // 16 digits, fails Luhn
    'data:image/png;base64,' + Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37 + 11) % 256)).toString('base64'),
    'const password = getPassword();\nif (!apiKey) throw new Error("missing api key");',
    'function add(a, b) { return a + b; } // 3.14159',
    'call the phone tree at extension 4521',
    'See RFC 7231 section 6.5.1 and ISBN 978-3-16-148410-0',
    'lodash@4.17.21 and @types/node@20.11.5',
    'npm install sharp@0.33.2 icon@2x.png',
    'SELECT * FROM users WHERE id = 12345678;',
    'The quick brown fox jumps over the lazy dog.',
    'port 8080, timeout 30000 ms, retries 3',
    'sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ];
  for (const text of legit) {
    const res = inspectMessage(call({ text }), 'request', det);
    assert.deepEqual(res.findings.map((f) => f.rule), [], `false positive on ${JSON.stringify(text).slice(0, 60)}`);
    assert.equal(res.action, 'allow');
  }
});

test('actions: defaults, strictest wins, redact/mask/hash rewrite, findings carry no raw value', () => {
  const msg = { jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: 'Mail alice@example.com or call +1 415 867 5309.' }] } };
  const res = inspectMessage(msg, 'response', det);
  assert.equal(res.action, 'modify');
  const text = (res.message as any).result.content[0].text as string;
  assert.equal(text, 'Mail [REDACTED:email] or call [REDACTED:phone].');
  assert.equal((msg.result.content[0] as any).text, 'Mail alice@example.com or call +1 415 867 5309.', 'input not mutated');
  assert.equal(res.findings[0]!.path, 'result.content[0].text');
  assert.match(res.findings[0]!.hash, /^[0-9a-f]{16}$/);
  assert.ok(!JSON.stringify(res.findings).includes('alice'));

  const pii = PiiSchema.parse({ actions: { email: { response: 'hash' }, credit_card: { response: 'mask' } } });
  const d2 = compileDetector(pii, KEY);
  const r2 = inspectMessage({ jsonrpc: '2.0', id: 1, result: { a: 'x alice@example.com', b: '4111 1111 1111 1111' } }, 'response', d2);
  assert.equal(r2.action, 'modify');
  assert.match((r2.message as any).result.a, /^x \[HASH:email:[0-9a-f]{16}\]$/);
  assert.equal((r2.message as any).result.b, '***************1111');

  // Strictest wins: a secret (block) next to an email (redact).
  const r3 = inspectMessage(call({ q: 'alice@example.com AKIAIOSFODNN7EXAMPLE' }), 'request', det);
  assert.equal(r3.action, 'block');
  assert.deepEqual(r3.blockedTypes, ['aws_access_key']);
  assert.equal(r3.message, undefined);

  // Card in a request blocks, in a response is redacted.
  assert.equal(inspectMessage(call({ q: '4111111111111111' }), 'request', det).action, 'block');
  const r4 = inspectMessage({ jsonrpc: '2.0', id: 1, result: { q: 4111111111111111 } }, 'response', det);
  assert.equal((r4.message as any).result.q, '[REDACTED:credit_card]');
  // IP addresses only warn.
  assert.equal(inspectMessage(call({ q: 'host 203.0.113.7' }), 'request', det).action, 'warn');
});

test('redaction in keys, tool names and URIs; unredactable envelope fields block', () => {
  const r1 = inspectMessage({ jsonrpc: '2.0', id: 1, result: { 'alice@example.com': 1 } }, 'response', det);
  assert.deepEqual(Object.keys((r1.message as any).result), ['[REDACTED:email]']);
  assert.equal(r1.findings[0]!.path, 'result.<key>');
  const r2 = inspectMessage({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///home/alice@example.com/notes.txt' } }, 'request', det);
  assert.equal((r2.message as any).params.uri, 'file:///home/[REDACTED:email]/notes.txt');
  const r3 = inspectMessage({ jsonrpc: '2.0', id: 3, method: 'prompts/get', params: { name: 'mail alice@example.com' } }, 'request', det);
  assert.equal((r3.message as any).params.name, 'mail [REDACTED:email]');
  const r4 = inspectMessage({ jsonrpc: '2.0', id: 'alice@example.com', method: 'tools/call', params: {} }, 'request', det);
  assert.equal(r4.action, 'block');
  const r5 = inspectMessage({ jsonrpc: '2.0', id: 4, method: 'notify/alice@example.com' }, 'request', det);
  assert.equal(r5.action, 'block');
});

test('custom types with validator and keywords; bad RE2 pattern reported with its path', () => {
  const pii = PiiSchema.parse({
    custom_types: {
      employee_id: { label: 'Employee ID', patterns: [{ regex: 'EMP-[0-9]{6}' }], actions: { request: 'block', response: 'redact' } },
      member_card: { patterns: [{ regex: '\\bM[0-9]{16}\\b' }], validator: 'luhn', keywords: ['member'] },
    },
  });
  const d = compileDetector(pii, KEY);
  assert.equal(inspectMessage(call({ q: 'EMP-123456' }), 'request', d).action, 'block');
  assert.equal((inspectMessage({ jsonrpc: '2.0', id: 1, result: { q: 'id EMP-123456' } }, 'response', d).message as any).result.q, 'id [REDACTED:employee_id]');
  assert.ok(types(call({ member: 'M4111111111111111' }), 'request', d).includes('member_card'));
  assert.ok(!types(call({ member: 'M4111111111111112' }), 'request', d).includes('member_card'));
  assert.ok(!types(call({ other: 'M4111111111111111' }), 'request', d).includes('member_card'));

  const bad = { custom_types: { employee_id: { patterns: [{ regex: 'EMP-(?=[0-9])' }] } }, allowlist: [{ regex: '(a' }] } as any;
  const problems = validatePiiConfig(bad);
  assert.deepEqual(problems.map((p) => p.path), [['custom_types', 'employee_id', 'patterns', 0, 'regex'], ['allowlist', 0, 'regex']]);
  assert.match(problems[0]!.message, /employee_id/);
  assert.throws(() => compileDetector(PiiSchema.parse(bad), KEY), /custom_types\.employee_id\.patterns\[0\]\.regex/);
  assert.deepEqual(validatePiiConfig(PiiSchema.parse({ custom_types: { x: { patterns: [{ regex: 'a' }], validator: 'nope' } } })).map((p) => p.path), [['custom_types', 'x', 'validator']]);
});

test('allowlist: literal, pattern, scoped to type and to tool + argument path', () => {
  const pii = PiiSchema.parse({
    allowlist: [
      { type: 'email', literal: 'support@example.com' },
      { regex: '.*@corp\\.example' },
      { type: 'credit_card', tool: 'payments_sandbox', path: 'card' },
    ],
  });
  const d = compileDetector(pii, KEY);
  assert.deepEqual(types(call({ q: 'write to support@example.com' }), 'request', d), []);
  assert.deepEqual(types(call({ q: 'bob@corp.example' }), 'request', d), []);
  assert.deepEqual(types(call({ q: 'bob@example.com' }), 'request', d), ['email']);
  assert.deepEqual(types(call({ card: '4111111111111111' }, 'payments_sandbox'), 'request', d), []);
  assert.deepEqual(types(call({ note: '4111111111111111' }, 'payments_sandbox'), 'request', d), ['credit_card']);
  assert.deepEqual(types(call({ card: '4111111111111111' }, 'other_tool'), 'request', d), ['credit_card']);
  // tool-scoped for responses via toolName
  assert.deepEqual(inspectMessage({ jsonrpc: '2.0', id: 1, result: { card: '4111111111111111' } }, 'response', d, 'payments_sandbox').findings, []);
});

test('disabled types and pii.actions allow are honoured', () => {
  const d = compileDetector(PiiSchema.parse({ disabled_types: ['email'], actions: { phone: { request: 'allow' } } }), KEY);
  assert.deepEqual(types(call({ q: 'alice@example.com' }), 'request', d), []);
  const r = inspectMessage(call({ q: '+1 415 867 5309' }), 'request', d);
  assert.equal(r.action, 'allow');
  assert.equal(r.findings[0]!.action, 'allow');
});
