// Evasions of issue #18 item 3: a value split across a line break or across two JSON strings (when
// the joined form is checksum-valid or a known-prefix token); escapes in every notation and digits
// of every script; base64 shorter than 16 characters. Each is checked through the gate (the raw
// bytes must trigger inspection) and through inspection (the value is found, and redacted in full
// where the action is a rewrite).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDetector } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import { compileGate } from '../../src/detect/gate.js';
import { PiiSchema } from '../../src/config/pii-schema.js';
import { withGithubChecksum } from '../../src/detect/catalogue/checksums.js';

const pii = PiiSchema.parse({});
const det = compileDetector(pii, Buffer.from('evasion-key'));
const gate = compileGate(pii);
const call = (args: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: args } });
const reply = (result: unknown) => ({ jsonrpc: '2.0', id: 1, result });
const GHP = withGithubChecksum('ghp', 'aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0'); // 30 characters and their CRC32

/** Gate fires on the raw line and inspection finds `type`; returns the inspection result. */
function caught(msg: object, type: string, dir: 'request' | 'response' = 'request', line = JSON.stringify(msg)) {
  const raw = Buffer.from(line);
  assert.ok(gate.needsInspection(raw), `gate cleared ${line.slice(0, 160)}`);
  const r = inspectMessage(JSON.parse(line), dir, det, undefined, raw);
  assert.ok(r.findings.some((f) => f.type === type), `${type} not found in ${line.slice(0, 160)}: ${r.findings.map((f) => f.rule)}`);
  return r;
}
const clean = (msg: object) => {
  const r = inspectMessage(msg, 'request', det);
  assert.deepEqual(r.findings.map((f) => f.rule), [], JSON.stringify(msg).slice(0, 160));
};

test('a card, an IBAN or a token split by a line break is found, and redacted whole', () => {
  for (const br of ['\n', '\r\n']) {
    caught(call({ t: `card 4111 1111${br}1111 1111 thanks` }), 'credit_card');
    caught(call({ t: `4111-1111-11${br}11-1111` }), 'credit_card');
    caught(call({ t: `iban DE89 3704 0044${br}0532 0130 00` }), 'iban');
    caught(call({ t: `iban FR14 2004 1010 0505 0001 3M${br}02 606` }), 'iban'); // letters next to the split
    caught(call({ t: `token ${GHP.slice(0, 20)}${br}${GHP.slice(20)}` }), 'github_token');
    const r = caught(reply({ content: [{ type: 'text', text: `card 4111 1111${br}1111 1111 thanks` }] }), 'credit_card', 'response');
    const out = (r.message as any).result.content[0].text as string;
    assert.ok(!/1111/.test(out), out);
  }
  // a literal \n (two characters, as in double-encoded JSON) too
  caught(call({ t: 'card 4111 1111\\n1111 1111' }), 'credit_card');
});

test('a card or a token split across two JSON strings is found (siblings, array items, content parts)', () => {
  caught(call({ a: '4111 1111', b: '1111 1111' }), 'credit_card');
  caught(call({ parts: ['4111 1111 ', '1111 1111'] }), 'credit_card');
  caught(call({ parts: ['card: 4111.1111', '.1111.1111 ok'] }), 'credit_card');
  caught(call({ a: GHP.slice(0, 12), b: GHP.slice(12) }), 'github_token');
  const r = caught(reply({ content: [{ type: 'text', text: 'your card 4111 1111' }, { type: 'text', text: '1111 1111 is on file' }] }), 'credit_card', 'response');
  const parts = (r.message as any).result.content.map((c: any) => c.text).join('|');
  assert.ok(!/1111 1111/.test(parts), parts);
  assert.ok(parts.startsWith('your card ') && parts.endsWith(' is on file'), parts);
});

test('joins stay precise: pieces that do not form a checksum-valid value or a token pass', () => {
  clean(call({ a: '4111 1111', b: '1111 1112' }));
  clean(call({ t: '4111 1111\n1111 1112' }));
  clean(call({ rows: ['2024-01-15', '2024-01-16', '1234 5678', '9012 3456'] }));
  clean(call({ a: 'version 1.2.3', b: '4.5.6 notes' }));
  // numbers (not strings) are not joined, nor bare digits (an array of numeric ids)
  clean(call({ xs: [4111, 1111, 1111, 1111] }));
  clean(call({ ids: ['41111111', '11111111'], t: '41111111\n11111111' }));
});

test('escapes in every notation, and digits of every script, are read as the characters they stand for', () => {
  const v = '4111 1111 1111 1111';
  const enc: Record<string, (c: string) => string> = {
    'json \\u': (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
    'json \\U upper hex': (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase(),
    'literal \\u': (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
    'literal \\u{}': (c) => '\\\\u{' + c.charCodeAt(0).toString(16) + '}',
    'literal \\U00000034': (c) => '\\\\U' + c.charCodeAt(0).toString(16).padStart(8, '0'),
    'literal \\x34': (c) => '\\\\x' + c.charCodeAt(0).toString(16),
    'literal %u0034': (c) => '%u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
    'literal octal \\064': (c) => '\\\\' + c.charCodeAt(0).toString(8).padStart(3, '0'),
  };
  for (const [name, f] of Object.entries(enc)) {
    for (const [value, type] of [[v, 'credit_card'], ['536-90-4321', 'ssn'], ['AB123456C', 'uk_nino'], ['alice@example.com', 'email']] as const) {
      const s = [...value].map((c) => (/[0-9@]/.test(c) ? f(c) : c)).join('');
      const line = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"t":"${s}"}}}`;
      try {
        caught(JSON.parse(line), type, 'request', line);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    }
  }
  // decimal digits of other scripts (Arabic-Indic, Persian, Devanagari, Bengali, Thai), also as JSON escapes
  for (const zero of [0x660, 0x6f0, 0x966, 0x9e6, 0xe50, 0x1d7ce]) {
    const s = v.replace(/[0-9]/g, (d) => String.fromCodePoint(zero + Number(d)));
    caught(call({ t: s }), 'credit_card');
    const line = JSON.stringify(call({ t: `ssn ${'536904321'.replace(/[0-9]/g, (d) => String.fromCodePoint(zero + Number(d)))}` })).replace(/[^\x00-\x7f]/gu, (c) => c.split('').map((u) => '\\u' + u.charCodeAt(0).toString(16).padStart(4, '0')).join(''));
    caught(JSON.parse(line), 'ssn', 'request', line);
  }
});

test('short base64 (8-15 characters) after a key name is decoded; elsewhere when the message is inspected anyway', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  caught(call({ ssn: b64('536904321') }), 'ssn');
  caught(call({ note: `ssn: ${b64('536-90-4321')}` }), 'ssn');
  caught(call({ password: b64('Xk8#pL2q!z') }), 'password');
  caught(call({ card: b64('AB123456C') }), 'uk_nino');
  caught(call({ secret: Buffer.from('12345678Z').toString('base64url') }), 'es_dni');
  // with another trigger in the message, a short run anywhere is decoded
  const r = inspectMessage(call({ note: b64('AB123456C'), mail: 'bob@example.org' }), 'request', det);
  assert.ok(r.findings.some((f) => f.type === 'uk_nino'), r.findings.map((f) => f.rule).join());
  // ordinary short words are not base64 of anything
  clean(call({ protocolVersion: 'ListTools', ssn: 'notGiven', token: 'Bearer', password: 'Password1' }));
});
