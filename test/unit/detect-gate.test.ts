// The gate's one promise: whenever full inspection finds anything, the gate said "needs
// inspection". Checked on a seeded random corpus built from every rule's examples, evasion
// mutations (encodings, escapes of every notation, digits of other scripts, short base64, values
// split by a line break or across two strings) and random JSON; plus: ordinary traffic is cleared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RULES } from '../../src/detect/rules.js';
import { compileDetector } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import RE2 from 're2';
import { compileGate, DIGIT_RUN, escapeUnsafe, gatePattern } from '../../src/detect/gate.js';
import { generateCorpus } from '../../bench/detection/corpus.js';
import { PiiSchema } from '../../src/config/pii-schema.js';
import { prng as rng } from '../../src/bench/stats.js';

const pii = PiiSchema.parse({
  custom_types: { employee_id: { patterns: [{ regex: '\\bEMP-[0-9]{6}\\b' }] }, ticket: { patterns: [{ regex: 'TK[0-9]+\\s[A-Z]{3}' }], keywords: ['ticket'] } },
});
const det = compileDetector(pii, Buffer.from('k'));
const gate = compileGate(pii);


const WORDS = ['hello', 'the', 'file', 'ssn', 'phone', 'password', 'token', 'id', 'order', 'v1.2.3', '2024-01-15T10:30:00Z', 'SIN', 'nhs', 'tax id', 'key', 'secret', 'EMP-123456', 'ticket', 'TK12 ABC', 'api_key', '550e8400-e29b-41d4-a716-446655440000', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '12345', '4111', '+', '@', ':', '.', '-', ' '];

const NAMES = ['ssn', 'card', 'token', 'password', 'secret', 'iban', 'pin', 'key'];
const SCRIPT_ZEROS = [0x660, 0x6f0, 0x966, 0x9e6, 0xe50, 0x1d7ce];

function mutate(s: string, r: () => number): string {
  const pick = Math.floor(r() * 22);
  switch (pick) {
    case 14: { // a line break inside (a value split in two)
      const i = 1 + Math.floor(r() * Math.max(1, s.length - 1));
      return s.slice(0, i) + ['\n', '\r\n', '\\n'][Math.floor(r() * 3)] + s.slice(i);
    }
    case 15: return s.replace(/[0-9@]/g, (c) => '\\u{' + c.charCodeAt(0).toString(16) + '}');
    case 16: return s.replace(/[0-9]/g, (c) => '%u00' + c.charCodeAt(0).toString(16));
    case 17: return s.replace(/[0-9]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
    case 18: { // digits of another script
      const z = SCRIPT_ZEROS[Math.floor(r() * SCRIPT_ZEROS.length)]!;
      return s.replace(/[0-9]/g, (d) => String.fromCodePoint(z + Number(d)));
    }
    case 19: // short base64 after a name
      return `${NAMES[Math.floor(r() * NAMES.length)]}${[': ', '=', ' ', '":"'][Math.floor(r() * 4)]}${Buffer.from(s.slice(0, 6 + Math.floor(r() * 6))).toString(r() < 0.5 ? 'base64' : 'base64url')}`;
    case 20: return Buffer.from(s.slice(0, 6 + Math.floor(r() * 6))).toString('base64'); // short base64, no name
    case 21: return s.replace(/[0-9]/g, (c) => '\\U000000' + c.charCodeAt(0).toString(16));
    case 0: { // zero-width inside
      const i = Math.floor(r() * s.length);
      return s.slice(0, i) + '\u200b' + s.slice(i);
    }
    case 1: return s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))); // fullwidth
    case 2: return encodeURIComponent(s);
    case 3: return s.replace(/[@.:]/g, (c) => `&#${c.charCodeAt(0)};`);
    case 4: return Buffer.from(s).toString('base64');
    case 5: return Buffer.from(s).toString('hex');
    case 6: return s.replace(/[@\-]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    case 7: return '\n' + s + '\t';
    case 8: return s.toUpperCase();
    case 9: return s.toLowerCase();
    case 10: return `${WORDS[Math.floor(r() * WORDS.length)]} ${s} ${WORDS[Math.floor(r() * WORDS.length)]}`;
    case 11: return s.replace(/ /g, '\u00a0');
    case 12: return s.slice(0, Math.floor(s.length * r()));
    default: return `"${s}"`;
  }
}

function randomText(r: () => number): string {
  const n = 1 + Math.floor(r() * 6);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.5) parts.push(WORDS[Math.floor(r() * WORDS.length)]!);
    else if (x < 0.8) parts.push(String(Math.floor(r() * 10 ** (1 + Math.floor(r() * 17)))));
    else parts.push(Math.random.call(null) > 2 ? '' : String.fromCharCode(33 + Math.floor(r() * 90)).repeat(1 + Math.floor(r() * 20)));
  }
  return parts.join(r() < 0.5 ? ' ' : '');
}

const examples = RULES.flatMap((rl) => [...rl.examples.match, ...rl.examples.noMatch]);

function randomMessage(r: () => number): { msg: unknown; line: Buffer } {
  let text: string;
  const x = r();
  if (x < 0.6) {
    text = examples[Math.floor(r() * examples.length)]!;
    const muts = Math.floor(r() * 3);
    for (let i = 0; i < muts; i++) text = mutate(text, r);
  } else text = randomText(r);
  const key = r() < 0.3 ? ['ssn', 'password', 'phone', 'note', 'aws_secret_access_key', 'tin', 'card', 'token'][Math.floor(r() * 8)]! : 'text';
  const where = Math.floor(r() * 7);
  // Where a value split in two goes: into two strings, at a random place.
  const cut = 1 + Math.floor(r() * Math.max(1, text.length - 1));
  const [a, b] = [text.slice(0, cut), text.slice(cut)];
  let params: unknown;
  if (where === 0) params = { name: 'echo', arguments: { [key]: text } };
  else if (where === 1) params = { name: 'echo', arguments: { [text]: 1 } }; // as a key
  else if (where === 2) params = { name: 'calc', arguments: { [key]: Number(text.replace(/[^0-9]/g, '').slice(0, 19)) || 0 } }; // as a number
  else if (where === 3) params = { name: 'echo', arguments: { [key]: a, more: b } }; // split across two neighbouring values
  else if (where === 4) params = { name: 'echo', arguments: { parts: [a, b] } }; // across two array items
  else if (where === 5) params = { content: [{ type: 'text', text: a }, { type: 'text', text: b }] }; // across two content parts
  else params = { content: [{ type: 'text', text }], meta: { [key]: [text, r()] } };
  const msg = { jsonrpc: '2.0', id: Math.floor(r() * 1000), method: 'tools/call', params };
  let line = JSON.stringify(msg);
  if (r() < 0.2) line = line.replace(/[^\x00-\x7f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (r() < 0.1) line = line.replace(/@/g, '\\u0040');
  return { msg: JSON.parse(line), line: Buffer.from(line) };
}

test('property: gate clear => inspection finds nothing (8000 seeded cases)', () => {
  const r = rng(20240611);
  let found = 0;
  let cleared = 0;
  for (let i = 0; i < 8000; i++) {
    const { msg, line } = randomMessage(r);
    // What the gate must see by itself: inspection with short base64 decoded only where a name
    // introduces it (everywhere else it is decoded once something else sends the message to inspection).
    const res = inspectMessage(msg as object, r() < 0.5 ? 'request' : 'response', det, undefined, line, { shortBase64: 'named' });
    const g = gate.needsInspection(line);
    if (!g) cleared++;
    if (res.findings.length > 0) {
      found++;
      assert.ok(g, `gate cleared a message with findings ${res.findings.map((f) => f.rule).join(',')}: ${line.toString().slice(0, 300)}`);
    }
  }
  // The corpus must exercise both sides, or the property says nothing.
  assert.ok(found > 1000, `only ${found} cases with findings`);
  assert.ok(cleared > 200, `only ${cleared} cases cleared`);
});

test('every rule example that inspection finds is flagged by the gate, in each JSON position', () => {
  for (const rl of RULES) {
    for (const ex of rl.examples.match) {
      for (const msg of [
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { q: ex } } },
        { jsonrpc: '2.0', id: 1, result: { [ex]: true } },
        { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: '\n' + ex + '\n' }] } },
      ]) {
        const line = Buffer.from(JSON.stringify(msg));
        if (inspectMessage(msg, 'response', det).findings.length) assert.ok(gate.needsInspection(line), `${rl.id} example cleared by gate`);
      }
    }
  }
});

test('built-in gate patterns derived automatically cannot match JSON-escaped characters', () => {
  for (const rl of RULES) if (rl.gate === undefined && !rl.context) assert.equal(escapeUnsafe(gatePattern(rl)), false, `${rl.id} needs an explicit gate`);
  assert.equal(escapeUnsafe('EMP-[0-9]{6}'), false);
  assert.equal(escapeUnsafe('TK\\d+\\s\\w+'), true);
  assert.equal(escapeUnsafe('a.b'), true);
  assert.equal(escapeUnsafe('[^x]'), true);
  assert.equal(escapeUnsafe('[ -~]+'), true);
});

test('ordinary protocol traffic is cleared without inspection', () => {
  // (The suite-wide config has a custom pattern that can match escaped characters, which makes every
  // backslash a trigger; ordinary configs do not.)
  const gate = compileGate(PiiSchema.parse({ custom_types: { employee_id: { patterns: [{ regex: '\\bEMP-[0-9]{6}\\b' }] } } }));
  const clean = [
    { jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 'get_weather', arguments: { city: 'Paris', units: 'metric' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-code', version: '1.0.3' } } },
    { jsonrpc: '2.0', id: 3, method: 'resources/templates/list', params: { _meta: { progressToken: 7 } } },
    { jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: 'The weather in Paris is sunny, 21 degrees.\nHave a nice day!' }], isError: false } },
    { jsonrpc: '2.0', id: 4, method: 'tools/list' },
    { jsonrpc: '2.0', id: 5, result: { tools: [{ name: 'read_file', description: 'Read a file from disk', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }] } },
  ];
  for (const m of clean) assert.equal(gate.needsInspection(Buffer.from(JSON.stringify(m))), false, JSON.stringify(m));
  // and dirty ones are not
  assert.equal(gate.needsInspection(Buffer.from('{"q":"mail alice@example.com"}')), true);
  assert.equal(gate.needsInspection(Buffer.from('{"q":"EMP-123456"}')), true);
  assert.equal(gate.needsInspection(Buffer.from('{"q":"4111 1111 1111 1111"}')), true);
});

test('a custom pattern that can match escaped characters makes backslashes a trigger', () => {
  const line = Buffer.from(JSON.stringify({ ticket: 'TK12\nABC' }));
  assert.equal(gate.needsInspection(line), true);
  assert.ok(inspectMessage(JSON.parse(line.toString()), 'request', det).findings.some((f) => f.type === 'ticket'));
});

test('the tiered gate decides exactly what one set of all its patterns decides (random messages and the corpus)', () => {
  const one = new RE2.Set(gate.patterns, 'u');
  const r = rng(7);
  let fired = 0;
  const lines: Buffer[] = [];
  for (let i = 0; i < 3000; i++) lines.push(randomMessage(r).line);
  for (const c of generateCorpus(600, 99)) lines.push(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: c.n, method: 'tools/call', params: { name: c.name, arguments: c.arguments } })));
  for (const line of lines) {
    const want = one.test(line);
    if (want) fired++;
    assert.equal(gate.needsInspection(line), want, line.toString().slice(0, 200));
  }
  assert.ok(fired > 500 && fired < lines.length - 500, `fired on ${fired} of ${lines.length}`);
});

test('every match of a digit-dense rule holds a DIGIT_RUN (the gate runs those rules behind it)', () => {
  const run = new RE2(DIGIT_RUN, 'u');
  for (const rl of RULES) {
    if (!rl.digitDense) continue;
    for (const ex of rl.examples.match) assert.ok(run.test(ex), `${rl.id}: ${ex}`);
  }
});

// The 2026 envelope's keys read as base64 runs; they must not send every 2026 message to inspection,
// and nothing else may hide behind them.
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { sampling: {}, elicitation: { form: {} } },
  'io.modelcontextprotocol/clientInfo': { name: 'claude-code', version: '2.1.0' },
  'io.modelcontextprotocol/logLevel': 'info',
};
const withEnvelope = (msg: any) => ({ ...msg, params: { ...msg.params, _meta: { ...msg.params?._meta, ...ENVELOPE } } });

test('the 2026 envelope keys do not set off the gate: the corpus is cleared about as often with them as without', () => {
  let differ = 0;
  let cleared = 0;
  for (const c of generateCorpus(2000, 5)) {
    const msg = { jsonrpc: '2.0', id: c.n, method: 'tools/call', params: { name: c.name, arguments: c.arguments } };
    const plain = gate.needsInspection(Buffer.from(JSON.stringify(msg)));
    const modern = gate.needsInspection(Buffer.from(JSON.stringify(withEnvelope(msg))));
    if (plain !== modern) differ++;
    if (!modern) cleared++;
  }
  // The envelope's values stay conditions like any value (a version string can be the second half
  // of a number split across strings), so a few more messages go to inspection; its keys do not.
  assert.ok(differ < 200, `${differ} of 2000 decided otherwise with the envelope`);
  assert.ok(cleared > 200, `cleared ${cleared}`);
  assert.equal(gate.needsInspection(Buffer.from(JSON.stringify(withEnvelope({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })))), false);
});

test('property with the 2026 envelope: gate clear => inspection finds nothing; other names under the prefix are not looked past', () => {
  const r = rng(2026);
  let found = 0;
  for (let i = 0; i < 3000; i++) {
    const msg = withEnvelope(randomMessage(r).msg);
    const line = Buffer.from(JSON.stringify(msg));
    const res = inspectMessage(msg as object, 'request', det, undefined, line, { shortBase64: 'named' });
    if (res.findings.length > 0) {
      found++;
      assert.ok(gate.needsInspection(line), line.toString().slice(0, 300));
    }
  }
  assert.ok(found > 300, `only ${found} cases with findings`);
  // A key of another name under the prefix, or a value next to a known one, is read as it is.
  const hidden = Buffer.from('AKIAIOSFODNN7EXAMPLE').toString('base64');
  for (const meta of [{ [`io.modelcontextprotocol/${hidden}`]: 1 }, { 'io.modelcontextprotocol/clientInfo': { name: hidden } }, { [`io.modelcontextprotocol/protocolVersion${hidden}`]: 1 }]) {
    assert.equal(gate.needsInspection(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }))), true, JSON.stringify(meta));
  }
});
