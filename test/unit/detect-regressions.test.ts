// Regressions, one test per bug: numbers between word characters (tool names), direction of a
// server's requests (sampling), es_dni false positives in logs, JSON numbers past double precision,
// and the prefilter (it must find exactly what running every rule everywhere finds, and stay fast on
// random data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDetector } from '../../src/detect/detector.js';
import { inspectMessage, inspectMessageExhaustive, lossyNumberTokens } from '../../src/detect/scan.js';
import { detectionStage, scanDirection } from '../../src/detect/stage.js';
import { compileBatchInspector } from '../../src/detect/batch.js';
import { compileGate } from '../../src/detect/gate.js';
import { RULES } from '../../src/detect/rules.js';
import { PiiSchema } from '../../src/config/pii-schema.js';
import { GuardError } from '../../src/protocol/errors.js';
import { generateCorpus, ORDINARY_KINDS } from '../../bench/detection/corpus.js';
import type { MessageContext } from '../../src/protocol/stage.js';
import { prng as rng } from '../../src/bench/stats.js';

const KEY = Buffer.from('regression-key');
const pii = PiiSchema.parse({});
const det = compileDetector(pii, KEY);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const call = (name: string, args: unknown = {}) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } });

function ctx(msg: any, direction: 'c2s' | 's2c', line = Buffer.from(JSON.stringify(msg))): MessageContext {
  return {
    session: { id: 's', server: 'srv', identity: {} as any },
    direction,
    kind: msg.method ? (msg.id !== undefined ? 'request' : 'notification') : 'response',
    method: msg.method ?? 'tools/call',
    id: msg.id,
    line,
    msg,
    now: 0,
    audit: { decision: 'allow' },
  };
}

// ---------------------------------------------------------------- 1. numbers next to word characters

test('a card number inside a tool name blocks the request (`_` before the digits is not a boundary)', async () => {
  const r = inspectMessage(call('lookup_4111111111111111'), 'request', det);
  assert.equal(r.action, 'block');
  assert.deepEqual(r.blockedTypes, ['credit_card']);
  assert.equal(r.findings[0]!.path, 'params.name');
  const v = (await detectionStage({ pii, hashKey: KEY }).handle(ctx(call('lookup_4111111111111111'), 'c2s'))) as any;
  assert.ok(v.block instanceof GuardError);
  assert.deepEqual(v.block.data, { kind: 'blocked', types: ['credit_card'], direction: 'request' });
});

test('a token glued into an identifier with `_` is found (`\\b` counts `_` as part of a word)', () => {
  const glued = [
    ['ref_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_end', 'github_token'],
    ['backup_AKIAZ3MXQ7RTWY4PLK2N_old', 'aws_access_key'],
    ['x_sk_live_51HxQ2kL9mN3pR7sT0vW4yZ8a_y', 'stripe_key'],
    ['cfg_npm_aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW00snvpY_v2', 'npm_token'],
    ['ref_postgres://app:Xk9vQ2mPz7LwR4tY@db.internal:5432/prod', 'database_url'],
    ['ref_https://deploy:gh7Kq2mZ9x@git.example.com/repo.git', 'url_credentials'],
  ];
  for (const [text, type] of glued) {
    const r = inspectMessage(call('echo', { t: text }), 'request', det);
    assert.equal(r.action, 'block', text);
    assert.ok(r.blockedTypes!.includes(type!), `${text}: ${r.blockedTypes}`);
  }
  const mail = inspectMessage(call('echo', { t: 'ref_jane.doe@acme-widgets.io_end' }), 'request', det);
  assert.equal(mail.action, 'modify');
  assert.ok(!JSON.stringify(mail.message).includes('jane.doe@acme-widgets.io'));
  // A boundary is still needed where letters or digits run on: these are not tokens.
  for (const text of ['monkey-0123456789abcdef0123456789abcdef', 'npm_install_aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY2zA4', 'xAKIAZ3MXQ7RTWY4PLK2N']) {
    assert.equal(inspectMessage(call('echo', { t: text }), 'request', det).action, 'allow', text);
  }
});

test('an AWS secret key that ends in / or + is found (there is no \\b after those)', () => {
  for (const key of ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE/', 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKE+']) {
    for (const text of [`aws_secret_access_key = ${key}`, `aws_secret_access_key = ${key} and more`, `AWS_SECRET_ACCESS_KEY=${key}_old`]) {
      const r = inspectMessage(call('echo', { t: text }), 'request', det);
      assert.equal(r.action, 'block', text);
      assert.deepEqual(r.blockedTypes, ['aws_secret_key'], text);
    }
  }
});

test('tool names, resource URIs and prompt names are redacted where the action is a rewrite; envelope fields block', () => {
  const d = compileDetector(PiiSchema.parse({ actions: { credit_card: { request: 'redact' } } }), KEY);
  const r1 = inspectMessage(call('lookup_4111111111111111'), 'request', d);
  assert.equal((r1.message as any).params.name, 'lookup_[REDACTED:credit_card]');
  const r2 = inspectMessage({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///cards/card4111111111111111.txt' } }, 'request', d);
  assert.equal((r2.message as any).params.uri, 'file:///cards/card[REDACTED:credit_card].txt');
  const r3 = inspectMessage({ jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'card_4111111111111111' } }, 'request', d);
  assert.equal((r3.message as any).params.name, 'card_[REDACTED:credit_card]');
  const r4 = inspectMessage({ jsonrpc: '2.0', id: 1, method: 'tools/x_4111111111111111' }, 'request', d);
  assert.equal(r4.action, 'block', 'method cannot be rewritten');
});

test('every number-shaped rule finds its value between word characters, and adjacent values one character apart', () => {
  const cases: [string, string][] = [
    ['ssn_536-90-4321', 'ssn'],
    ['iban_DE89370400440532013000', 'iban'],
    ['tel_415-867-5309', 'phone'],
    ['ni_AB123456C', 'uk_nino'],
    ['dni_12345678Z', 'es_dni'],
    ['cpf_111.444.777-35', 'br_cpf'],
    ['card4111111111111111x', 'credit_card'],
  ];
  for (const [text, type] of cases) {
    assert.ok(inspectMessage(call('echo', { text }), 'request', det).findings.some((f) => f.type === type), `${type} in ${text}`);
  }
  const r = inspectMessage({ jsonrpc: '2.0', id: 1, result: { text: 'cards 4111111111111111,5555555555554444 and 378282246310005' } }, 'response', det);
  assert.equal((r.message as any).result.text, 'cards [REDACTED:credit_card],[REDACTED:credit_card] and [REDACTED:credit_card]');
  // still not inside longer digit runs
  assert.deepEqual(inspectMessage(call('echo', { text: 'id 14111111111111111 and 41111111111111110' }), 'request', det).findings, []);
});

// ---------------------------------------------------------------- 2. a server's requests are requests

test('a base64 card in a server-to-client sampling request is blocked like in a client request', async () => {
  const st = detectionStage({ pii, hashKey: KEY });
  const text = `decode ${b64('card 4111111111111111')}`;
  const sampling = { jsonrpc: '2.0', id: 9, method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens: 100 } };
  const v = (await st.handle(ctx(sampling, 's2c'))) as any;
  assert.ok(v?.block instanceof GuardError, 'sampling request blocked');
  assert.deepEqual(v.block.data, { kind: 'blocked', types: ['credit_card'], direction: 'request' });
  // the same in a client request, and in a response (redacted there, as before)
  assert.ok(((await st.handle(ctx(call('echo', { text }), 'c2s'))) as any).block);
  const resp = { jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text }] } };
  assert.equal(((await st.handle(ctx(resp, 's2c'))) as any).replace.result.content[0].text, '[REDACTED:credit_card]');
});

test('scanDirection: requests in either direction and everything a client sends use the request actions', () => {
  const dir = (direction: 'c2s' | 's2c', kind: MessageContext['kind']) => scanDirection({ direction, kind });
  assert.equal(dir('c2s', 'request'), 'request');
  assert.equal(dir('c2s', 'notification'), 'request');
  assert.equal(dir('c2s', 'response'), 'request');
  assert.equal(dir('s2c', 'request'), 'request');
  assert.equal(dir('s2c', 'response'), 'response');
  assert.equal(dir('s2c', 'notification'), 'response');
});

// ---------------------------------------------------------------- 3. false positives

test('es_dni does not match hex ids in log lines (UUID groups, short SHAs); real DNI/NIE still do', () => {
  // 1234574a and 1234568c pass the DNI check letter (1234574 mod 23 -> A, 1234568 mod 23 -> C)
  const logs = [
    '2024-05-01T12:00:03Z INFO [api] req=1234574a-9d4a-4b7e-8f21-6c0d5a9e3b12 took=12ms commit=7654321f v=1.2.3',
    'req=0000000b-0000-4000-8000-000000000000 commit=1234568c',
    'ids 12345678z 0123456789Z a12345678Z 12345678Zb',
  ];
  for (const text of logs) assert.deepEqual(inspectMessage(call('analyze_logs', { lines: text }), 'request', det).findings, [], text);
  for (const text of ['DNI 12345678Z', 'NIE X1234567L', 'dni: 12345678-Z']) {
    assert.ok(inspectMessage(call('echo', { text }), 'request', det).findings.some((f) => f.type === 'es_dni'), text);
  }
});

const corpus = generateCorpus(1300, 4242);
const corpusMessages = corpus.flatMap((c) => [
  { msg: call(c.name, c.arguments), dir: 'request' as const },
  { msg: { jsonrpc: '2.0', id: c.n, result: { content: [{ type: 'text', text: JSON.stringify(c.arguments) }] } }, dir: 'response' as const },
]);

test('legitimate corpus (UUIDs, SHAs, digests, logs, images, numbers): every message passes unchanged', () => {
  for (const { msg, dir } of corpusMessages) {
    const line = Buffer.from(JSON.stringify(msg));
    const r = inspectMessage(msg, dir, det, undefined, line);
    assert.ok(r.action === 'allow' || r.action === 'warn', `${r.action} ${r.findings.map((f) => f.rule).join(',')}: ${line.toString().slice(0, 200)}`);
  }
});

test('the gate clears most ordinary traffic of the legitimate corpus (hex digests no longer trigger it)', () => {
  const gate = compileGate(pii);
  let clear = 0;
  // The near-miss kinds (ARNs, snowflakes, barcodes, grouped numbers...) are built to reach inspection.
  const ordinary = corpusMessages.filter((_, i) => ORDINARY_KINDS.includes(corpus[i >> 1]!.kind));
  for (const { msg } of ordinary) if (!gate.needsInspection(Buffer.from(JSON.stringify(msg)))) clear++;
  assert.ok(clear / ordinary.length >= 0.5, `gate cleared only ${clear} of ${ordinary.length}`);
  const digest = { jsonrpc: '2.0', id: 1, result: { sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', sha: '9fceb02d0ae598e95dc970b74767f19372d61af8' } };
  assert.equal(gate.needsInspection(Buffer.from(JSON.stringify(digest))), false);
  // hex that decodes to text still triggers it (and is found)
  const hexMail = { jsonrpc: '2.0', id: 1, result: { blob: Buffer.from('mail alice@example.com').toString('hex') } };
  assert.equal(gate.needsInspection(Buffer.from(JSON.stringify(hexMail))), true);
  assert.ok(inspectMessage(hexMail, 'response', det).findings.some((f) => f.type === 'email'));
  // with a custom rule (shortest match unknown) every hex run triggers it
  const custom = compileGate(PiiSchema.parse({ custom_types: { x: { patterns: [{ regex: 'Q[0-9]{2}' }] } } }));
  assert.equal(custom.needsInspection(Buffer.from(JSON.stringify(digest))), true);
});

test('hex-encoded rule examples: whenever inspection finds one, the gate fires', () => {
  const gate = compileGate(pii);
  let found = 0;
  for (const rl of RULES) {
    for (const ex of [...rl.examples.match, ...rl.examples.noMatch]) {
      for (const text of [ex, `note: ${ex}`, `${ex}\u0001 tail`]) {
        const msg = { jsonrpc: '2.0', id: 1, result: { blob: Buffer.from(text).toString('hex') } };
        if (!inspectMessage(msg, 'response', det).findings.length) continue;
        found++;
        assert.ok(gate.needsInspection(Buffer.from(JSON.stringify(msg))), `${rl.id}: hex of ${JSON.stringify(text).slice(0, 60)} cleared by the gate`);
      }
    }
  }
  assert.ok(found > 100, `only ${found} hex examples found`);
});

// ---------------------------------------------------------------- 4. numbers past double precision

const CARD19 = '4111111111111111110'; // Luhn-valid; as a double it prints 4111111111111111000 (not a card)

test('a 19-digit card sent as a JSON number is found in the raw digits', async () => {
  const line = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pay","arguments":{"amount":12,"n":${CARD19}}}}`;
  const msg = JSON.parse(line);
  assert.equal(String(msg.params.arguments.n), '4111111111111111000', 'parsing loses the digits');
  const r = inspectMessage(msg, 'request', det, undefined, Buffer.from(line));
  assert.equal(r.action, 'block');
  assert.equal(r.findings[0]!.path, 'params.arguments.n');
  // the stage passes the raw line
  const v = (await detectionStage({ pii, hashKey: KEY }).handle(ctx(msg, 'c2s', Buffer.from(line)))) as any;
  assert.deepEqual(v.block.data, { kind: 'blocked', types: ['credit_card'], direction: 'request' });
  // the pool's batch inspector too
  const bytes = new Uint8Array(Buffer.from(line));
  const [b] = compileBatchInspector(pii, KEY)({ config: { id: 1, pii, hashKey: new Uint8Array(KEY) }, bytes, items: [{ start: 0, end: bytes.length, direction: 'request' }] });
  assert.equal(b!.action, 'block');
  // in a response the number is replaced
  const resp = `{"jsonrpc":"2.0","id":1,"result":{"rows":[1,${CARD19},2.5]}}`;
  const rr = inspectMessage(JSON.parse(resp), 'response', det, undefined, Buffer.from(resp));
  assert.deepEqual((rr.message as any).result.rows, [1, '[REDACTED:credit_card]', 2.5]);
  // digits past precision in a fraction, and a number a duplicate key hid from the parsed message
  const frac = `{"jsonrpc":"2.0","id":1,"result":{"x":0.${CARD19}}}`;
  assert.equal(inspectMessage(JSON.parse(frac), 'response', det, undefined, Buffer.from(frac)).action, 'modify');
  const dup = `{"jsonrpc":"2.0","id":1,"result":{"n":${CARD19},"n":1}}`;
  const rd = inspectMessage(JSON.parse(dup), 'response', det, undefined, Buffer.from(dup));
  assert.equal(rd.action, 'block', 'a value the parsed message does not have cannot be redacted');
  assert.equal(rd.findings[0]!.path, '<number>');
});

test('lossyNumberTokens: only numbers outside strings that parsing changes, 16 characters or more', () => {
  const raw = Buffer.from(`{"a":"${CARD19} \\" ${CARD19}","b":[${CARD19},-${CARD19},4111111111111111,1e5,12345678901234567.5],"c\\\\":${CARD19}}`);
  assert.deepEqual(lossyNumberTokens(raw), [CARD19, `-${CARD19}`, '12345678901234567.5', CARD19]);
  assert.deepEqual(lossyNumberTokens(Buffer.from('{"id":42,"ts":1717171717123}')), []);
});

// ---------------------------------------------------------------- 5. the prefilter


test('property: the prefilter finds exactly what every rule on every form of every field finds', () => {
  const d = compileDetector(
    PiiSchema.parse({ custom_types: { employee_id: { patterns: [{ regex: '\\bEMP-[0-9]{6}\\b' }] }, member: { patterns: [{ regex: 'M[0-9]{8}' }], keywords: ['member'] } } }),
    KEY,
  );
  const r = rng(99);
  const examples = RULES.flatMap((rl) => [...rl.examples.match, ...rl.examples.noMatch]).concat(['EMP-123456', 'member M12345678', 'x4111111111111111y']);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const words = ['ssn', 'phone', 'password', 'nhs', 'tax id', 'routing', 'note', 'a', '', ' ', '\n', '_', '-', '1234'];
  let found = 0;
  for (let i = 0; i < 1500; i++) {
    const parts = Array.from({ length: 1 + Math.floor(r() * 4) }, () => (r() < 0.6 ? pick(examples) : pick(words)));
    let text = parts.join(pick([' ', '', '\n', '_', ',']));
    const m = r();
    if (m < 0.15) text = b64(text);
    else if (m < 0.25) text = Buffer.from(text).toString('hex');
    else if (m < 0.3) text = encodeURIComponent(text);
    const key = pick(['text', 'ssn', 'password', 'phone', 'member', 'aws_secret_access_key', 'note']);
    const msg = pick([
      () => call('echo', { [key]: text, other: [pick(examples), Number(pick(['4111111111111111', '12', '536904321']))] }),
      () => ({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text }], [text.slice(0, 40)]: key } }),
      () => ({ jsonrpc: '2.0', id: 1, method: 'sampling/createMessage', params: { messages: [{ content: { text } }], meta: { [key]: text } } }),
    ])();
    const line = Buffer.from(JSON.stringify(msg));
    for (const dir of ['request', 'response'] as const) {
      const fast = inspectMessage(msg, dir, d, undefined, line);
      const ref = inspectMessageExhaustive(msg, dir, d, undefined, line);
      assert.deepEqual(fast, ref, line.toString().slice(0, 300));
      if (ref.findings.length) found++;
    }
  }
  assert.ok(found > 500, `only ${found} messages with findings`);
  for (const { msg, dir } of corpusMessages.slice(0, 600)) assert.deepEqual(inspectMessage(msg, dir, det), inspectMessageExhaustive(msg, dir, det));
});

test('inspection stays fast on fresh random data (base64, hex): the prefilter DFA does not thrash', () => {
  const r = rng(7);
  const blobs = Array.from({ length: 200 }, (_, i) =>
    call('describe_image', { data: Buffer.from(Array.from({ length: 900 }, () => Math.floor(r() * 256))).toString(i % 2 ? 'base64' : 'hex') }),
  );
  const t0 = process.hrtime.bigint();
  for (const m of blobs) inspectMessage(m, 'request', det);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // ~20-100 µs each when the sets' DFAs fit their caches; one set of every pattern took ~10 ms each.
  assert.ok(ms < 1000, `200 fresh random blobs took ${ms.toFixed(0)} ms`);
});
