// The generated attack variants of the detection suite: every planted value is what its format
// says (checksums, lengths, prefixes, checked here independently of the detector), the disguises
// really hide the value, near misses really fail their checksums, and a run is reproducible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { crc32 } from 'node:zlib';
import { DISGUISES, generatedCases, plantedValues, vendorNearMisses } from '../../bench/detection/generated.js';
import { VENDOR_FORMATS } from '../../bench/detection/vendor-formats.js';
import { RULES } from '../../src/detect/rules.js';
import { bech32 as bech32Valid } from '../../src/detect/catalogue/checksums.js';
import { CATEGORIES, type DetectionCase } from '../../bench/detection/cases.js';
import { scoreSamplingVariant } from '../../bench/detection/score.js';

const values = plantedValues(3);

function luhn(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let x = Number(d[d.length - 1 - i]);
    if (i % 2 === 1) x *= 2;
    if (x > 9) x -= 9;
    sum += x;
  }
  return sum % 10 === 0;
}

function ibanOk(s: string): boolean {
  const r = (s.slice(4) + s.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let m = 0;
  for (const ch of r) m = (m * 10 + Number(ch)) % 97;
  return m === 1;
}

test('planted values: cards pass Luhn with their brand prefix and length, IBANs mod-97, SSNs and national ids their rules', () => {
  const cards = values.filter((v) => v.type === 'credit_card');
  assert.ok(cards.length >= 30);
  const brands: Record<string, RegExp> = {
    'visa-16': /^4\d{15}$/, 'visa-13': /^4\d{12}$/, 'mastercard-5x': /^5[1-5]\d{14}$/, 'mastercard-2x': /^2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}$/, amex: /^3[47]\d{13}$/,
    discover: /^6(?:011|5\d\d|4[4-9]\d)\d{12}$/, jcb: /^35(?:2[89]|[3-8]\d)\d{12}$/, diners: /^3(?:0[0-5]|[68]\d)\d{11}$/, unionpay: /^62\d{14,17}$/, maestro: /^(?:5018|5020|6304|6759)\d{8,15}$/,
  };
  for (const v of cards) {
    const digits = v.value.replace(/[ -]/g, '');
    assert.ok(luhn(digits), `${v.format} ${v.value} fails Luhn`);
    if (brands[v.format]) assert.match(digits, brands[v.format]!, v.format);
  }
  for (const v of values.filter((x) => x.type === 'iban')) assert.ok(ibanOk(v.value.replace(/ /g, '')), `${v.format} ${v.value}`);
  for (const v of values.filter((x) => x.type === 'ssn')) {
    const [a, g, s] = v.value.split('-').map(Number);
    assert.ok(a! > 0 && a! < 900 && a !== 666 && g! > 0 && s! > 0, v.value);
  }
  for (const v of values.filter((x) => x.type === 'es_dni')) assert.equal(v.value.at(-1), 'TRWAGMYFPDXBNJZSQVHLCKE'[Number(v.value.slice(0, 8)) % 23]);
  for (const v of values.filter((x) => x.type === 'br_cpf')) {
    const d = v.value.replace(/\D/g, '').split('').map(Number);
    const check = (n: number) => ((d.slice(0, n).reduce((acc, x, i) => acc + x * (n + 1 - i), 0) * 10) % 11) % 10;
    assert.deepEqual([d[9], d[10]], [check(9), check(10)], v.value);
  }
  const phones = values.filter((x) => x.type === 'phone' && x.value.startsWith('+'));
  assert.ok(phones.length >= 20);
  for (const v of phones) assert.ok(isValidPhoneNumber(v.value), `${v.format} ${v.value} is not a valid number`);
});

test('planted values: secrets have their documented shapes', () => {
  const shapes: Record<string, RegExp> = {
    'aws-akia': /^(?:AKIA|ASIA)[A-Z2-7]{16}$/,
    'github-ghp': /^ghp_[A-Za-z0-9]{36}$/,
    'github-pat': /^github_pat_[A-Za-z0-9_]{82}$/,
    'slack-bot': /^xoxb-\d{12}-\d{13}-[A-Za-z0-9]{24}$/,
    'stripe-live': /^[sr]k_live_[A-Za-z0-9]{24,99}$/,
    'google-api': /^AIza[A-Za-z0-9_-]{35}$/,
    'openai-legacy': /^sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}$/,
    'anthropic': /^sk-ant-api03-[A-Za-z0-9_-]{95}$/,
    'npm': /^npm_[A-Za-z0-9]{36}$/,
    'sendgrid': /^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/,
    'jwt': /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
  };
  for (const [format, re] of Object.entries(shapes)) {
    const vs = values.filter((v) => v.format === format);
    assert.equal(vs.length, 3, format);
    for (const v of vs) assert.match(v.value, re, format);
  }
  for (const v of values.filter((x) => x.type === 'private_key')) assert.match(v.value, /^-----BEGIN [A-Z0-9 ]+-----\n[\s\S]+\n-----END [A-Z0-9 ]+-----$/);
  // No two values alike: every case plants a fresh one.
  assert.equal(new Set(values.map((v) => v.value)).size, values.length);
});

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const b62 = (n: number) => {
  let s = '';
  for (; n > 0; n = Math.floor(n / 62)) s = B62[n % 62] + s;
  return s.padStart(6, '0');
};

test('vendor formats: a planted value of every catalogue type, with its checksum where the format has one', () => {
  // Types without one: national ids that need a keyword beside them, and IP addresses (warn only).
  const exempt = new Set(['us_itin', 'uk_nhs', 'ca_sin', 'de_tax_id', 'nl_bsn', 'au_tfn', 'in_aadhaar', 'bank_account', 'ip_address']);
  const planted = new Set(values.map((v) => v.type));
  for (const t of new Set(RULES.map((r) => r.type))) if (!exempt.has(t)) assert.ok(planted.has(t), `no planted value of type ${t}`);
  for (const f of VENDOR_FORMATS) assert.ok(values.some((v) => v.format === f.format), f.format);
  for (const v of values.filter((x) => /^(?:gh[pousr]|npm)_/.test(x.value))) {
    assert.match(v.value, /^[a-z]{3}_[A-Za-z0-9]{36}$/);
    assert.equal(v.value.slice(-6), b62(crc32(v.value.slice(4, 34))), v.value);
  }
  for (const v of values.filter((x) => x.format === 'grafana-service-account')) assert.equal(Buffer.from(v.value.slice(38), 'hex').readUInt32LE(0), crc32(v.value.slice(0, 37)));
  for (const v of values.filter((x) => x.format === 'atlassian-api-token' || x.format === 'bitbucket-app-password')) assert.equal(parseInt(v.value.slice(-8), 16), crc32(v.value.slice(0, -8)));
  for (const v of values.filter((x) => x.type === 'age_secret_key')) assert.ok(bech32Valid(v.value), v.value);
  for (const v of values.filter((x) => x.format === 'discord-bot')) assert.match(Buffer.from(v.value.split('.')[0]!, 'base64url').toString(), /^[1-9][0-9]{16,19}$/);
  // A value named in its key carries the secret part, looked for on its own too.
  for (const v of values.filter((x) => x.core !== undefined)) assert.ok(v.value.endsWith(v.core!) && v.core!.length >= 12, `${v.format}: ${v.core}`);
});

test('vendor near misses fail their checksum or shape', () => {
  const misses = Object.fromEntries(vendorNearMisses());
  const gh = misses['GitHub token with its CRC32 broken']!;
  assert.notEqual(gh.slice(-6), b62(crc32(gh.slice(4, 34))));
  assert.equal(misses['DigitalOcean token one character short']!.length, 'dop_v1_'.length + 63);
});

test('disguises hide the value, and decode back to it', () => {
  const v = values.find((x) => x.format === 'visa-16')!;
  const hidden = ['base64', 'base64url', 'base64-twice', 'hex', 'hex-upper', 'percent', 'html-dec', 'html-hex', 'json-u', 'literal-u', 'fullwidth', 'math-digits', 'zwsp', 'zwj-wj', 'soft-hyphen', 'nbsp-groups', 'unicode-dashes', 'dots'];
  hidden.push('literal-u-brace', 'literal-u8', 'percent-u', 'arabic-digits', 'devanagari-json-u');
  for (const d of DISGUISES) {
    const text = d.apply(v);
    if (d.id === 'short-base64-named') continue; // values of 11 bytes or fewer (below)
    assert.ok(text !== undefined, d.id);
    if (hidden.includes(d.id)) assert.ok(!text.includes(v.value), `${d.id} leaves the value in plain sight`);
  }
  const ssn = values.find((x) => x.type === 'ssn')!;
  const short = DISGUISES.find((d) => d.id === 'short-base64-named')!.apply(ssn)!;
  assert.match(short, /^ssn: [A-Za-z0-9+/]{8,15}=*$/);
  assert.equal(Buffer.from(short.slice(5), 'base64').toString(), ssn.value);
  const by = Object.fromEntries(DISGUISES.map((d) => [d.id, d.apply(v)!]));
  assert.ok(Buffer.from(by.base64!, 'base64').toString().includes(v.value));
  assert.ok(Buffer.from(Buffer.from(by['base64-twice']!, 'base64').toString(), 'base64').toString().includes(v.value));
  assert.ok(Buffer.from(by.hex!, 'hex').toString().includes(v.value));
  assert.equal(decodeURIComponent(by.percent!), v.value);
  assert.equal(JSON.parse(`"${by['json-u']}"`), v.value);
  assert.equal(by.fullwidth!.normalize('NFKC'), v.value);
  assert.equal(by['math-digits']!.normalize('NFKC'), v.value);
  assert.equal(by.zwsp!.replace(/\u200b/g, ''), v.value);
});

test('generated cases: thousands, every generated category, unique ids, the same on every run', () => {
  const script: Record<string, string> = {};
  const cases = generatedCases({ script });
  assert.ok(cases.length >= 5000, `${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length);
  const cats = new Set(cases.map((c) => c.category));
  for (const c of ['pii-request-leak', 'pii-response-leak', 'pii-evasion', 'sampling-injection', 'permission-bypass', 'resource-traversal']) assert.ok(cats.has(c as any), c);
  for (const c of cats) assert.ok(CATEGORIES.includes(c));
  // Every response case has its scripted reply, so a leak cannot hide behind an empty answer.
  for (const c of cases.filter((x) => x.check === 'response')) {
    const key = c.request?.method === 'resources/read' ? `resource:${(c.request.params as any).uri}` : (c.request?.params as any).arguments.key;
    assert.equal(script[key], c.upstreamReply, c.id);
  }
  const again = generatedCases({ script: {} });
  assert.deepEqual(again.map((c) => [c.id, c.request ?? c.raw]), cases.map((c) => [c.id, c.request ?? c.raw]));
  // Near misses really fail their checksums.
  for (const c of cases.filter((x) => x.kind === 'must-pass' && x.category === 'pii-request-leak')) {
    if (/Luhn/.test(c.description)) assert.ok(!luhn(c.secret), c.secret);
    if (/IBAN|iban/.test(c.description)) assert.ok(!ibanOk(c.secret), c.secret);
  }
});

test('sampling variants are scored by the case named in the request metadata, not by the prompt', () => {
  const c = (kind: 'must-block' | 'must-redact'): DetectionCase => ({ id: 'g-samp-1', category: 'sampling-injection', kind, check: 'sampling', description: 'd', secret: 'g-samp-1', alsoLookFor: ['4111111111111111'] });
  const req = (text: string, key = 'g-samp-1') => ({ method: 'sampling/createMessage', params: { messages: [{ content: { type: 'text', text } }], metadata: { case: key } } });
  const refused = { result: { isError: true, _sampling: { error: { code: -32008, message: 'blocked' } } } };
  const answered = { result: { _sampling: { result: { role: 'assistant' } } } };
  assert.equal(scoreSamplingVariant(c('must-block'), refused, []).pass, true);
  // Another case's request carrying the same text does not count against this one.
  assert.equal(scoreSamplingVariant(c('must-block'), refused, [req('4111111111111111', 'g-samp-2')]).pass, true);
  assert.equal(scoreSamplingVariant(c('must-block'), refused, [req('[REDACTED]')]).pass, false, 'a blocked request must not reach the client at all');
  assert.equal(scoreSamplingVariant(c('must-block'), answered, []).pass, false, 'the server must get a refusal');
  assert.equal(scoreSamplingVariant(c('must-block'), undefined, []).pass, false);
  assert.equal(scoreSamplingVariant(c('must-redact'), answered, [req('[REDACTED:credit_card]')]).pass, true);
  assert.equal(scoreSamplingVariant(c('must-redact'), answered, [req('card 4111111111111111')]).pass, false);
  assert.equal(scoreSamplingVariant(c('must-redact'), answered, []).pass, false, 'a redacted request must still reach the client');
  assert.equal(scoreSamplingVariant(c('must-redact'), refused, [req('[REDACTED]')]).pass, false, 'the server must get the answer');
});
