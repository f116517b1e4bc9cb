// Precision (issue #18 item 4, issue #15 item 6): identifiers that are numbers but not PII. A
// number-shaped match is a whole run of digits (never a piece of a longer one with the same
// separators); account ids inside resource names, chat-platform object ids, barcodes, device and
// tracking numbers named as such are ids. Each case fails on one FP the earlier build made, and the
// cards next to them must still be found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDetector } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import { PiiSchema } from '../../src/config/pii-schema.js';
import { IDENTIFIER_SHAPES, gs1, isIdentifier } from '../../src/detect/identifiers.js';

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

test('AWS account ids inside ARNs, ECR hosts and account fields, and GCP project numbers, are not cards', () => {
  const acct = luhn('67123456789'); // a Luhn-valid 12-digit Maestro shape
  for (const args of [
    { text: `arn:aws:iam::${acct}:role/deploy` },
    { text: `arn:aws:lambda:us-east-1:${acct}:function:handler` },
    { principal: `arn:aws-us-gov:sts::${acct}:assumed-role/ci/session` },
    { image: `${acct}.dkr.ecr.eu-west-1.amazonaws.com/app:1.2.3` },
    { AccountId: acct },
    { account_id: acct },
    { name: `projects/${acct}/locations/us-central1/functions/fn` },
  ]) assert.deepEqual(rules(args), [], JSON.stringify(args));
  // the same digits elsewhere are still a Maestro card
  assert.deepEqual(types({ note: `card ${acct}` }), ['credit_card']);
});

test('chat-platform and payment object ids, Slack timestamps and Shopify gids are not PII', () => {
  // Discord and Twitter snowflakes of 17-19 digits (an older guild id starts with 6: Maestro-shaped)
  const snow = luhn('61342564868554754'); // 18 digits, Luhn-valid
  for (const args of [
    { id: snow },
    { channel_id: snow, guild_id: snow },
    { text: `<@${snow}> said hi in <#${snow}>` },
    { text: `https://discord.com/channels/${snow}/${snow}/${snow}` },
    { ts: '1712345678.123456', thread_ts: '1712345670.000200' },
    { id: 'ch_3MqBd2LkdIwHu7ix0snN0B15', customer: 'cus_NffrFeUfNV2Hib', created: 1712345678 },
    { admin_graphql_api_id: `gid://shopify/Order/${luhn('524312034512')}` },
    { order_id: luhn('524312034512') },
  ]) assert.deepEqual(rules(args), [], JSON.stringify(args));
  // a 16-digit card under an id key is still a card (ids are not exempt at card lengths)
  assert.deepEqual(types({ id: '4111111111111111' }), ['credit_card']);
});

test('image digests, SRI integrity hashes, ISBNs, EAN/UPC barcodes, IMEIs and masked cards are not PII', () => {
  const ean = gs1Complete('400638133393'); // 4006381333931, a German barcode
  const eanLuhn = (() => {
    for (let i = 0; ; i++) {
      const e = gs1Complete('40' + String(1234567890 + i));
      if (luhnDigit(e.slice(0, -1)) === e.slice(-1)) return e; // EAN-13 that is also Luhn-valid (Visa-13 shape)
    }
  })();
  const upcLuhn = (() => {
    for (let i = 0; ; i++) {
      const u = gs1Complete('5' + String(1234567890 + i)); // UPC-A of 12 digits starting with 5: Maestro-12 shape
      if (luhnDigit(u.slice(0, -1)) === u.slice(-1)) return u;
    }
  })();
  const imei = luhn('35209900176148'); // 15 digits, Luhn like every IMEI
  for (const args of [
    { image: 'ghcr.io/acme/app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    { integrity: 'sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC' },
    { integrity: 'sha512-' + Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256)).toString('base64') },
    { text: 'ISBN 978-3-16-148410-0, ISBN-10 0-306-40615-2' },
    { text: `EAN ${ean}` },
    { gtin: eanLuhn },
    { text: `barcode: ${eanLuhn}` },
    { upc: upcLuhn },
    { text: `IMEI ${imei}` },
    { device: { imei } },
    { text: 'card **** **** **** 4242, or 411111******1111, or XXXX-XXXX-XXXX-1111' },
  ]) assert.deepEqual(rules(args), [], JSON.stringify(args));
  // the same digits without the name are still card-shaped
  assert.deepEqual(types({ note: `pay with ${eanLuhn}` }), ['credit_card']);
});

test('tracking numbers named as such are not cards', () => {
  const fedex = luhn('62159146147'); // 12 digits, Maestro-shaped, Luhn-valid
  for (const args of [{ text: `tracking number ${fedex}` }, { tracking: fedex }, { text: `FedEx #${fedex}` }, { text: 'USPS 9400 1000 0000 0000 0000 00' }]) {
    assert.deepEqual(rules(args), [], JSON.stringify(args));
  }
});

test('identifier shapes: each one\'s own examples (the value marked «…») are ids, and its near misses are not', () => {
  const parse = (ex: string): { text: string; key?: string; start: number; end: number } => {
    let key: string | undefined;
    let text = ex;
    if (ex.startsWith('{')) {
      const [k, v] = Object.entries(JSON.parse(ex) as Record<string, string>)[0]!;
      key = k;
      text = v;
    }
    const start = text.indexOf('«');
    const end = text.indexOf('»') - 1;
    return { text: text.replace('«', '').replace('»', ''), key, start, end };
  };
  for (const shape of IDENTIFIER_SHAPES) {
    assert.ok(shape.examples.id.length && shape.examples.notId.length, `${shape.id} needs examples`);
    for (const ex of shape.examples.id) {
      const { text, key, start, end } = parse(ex);
      assert.ok(shape.lengths.includes(text.slice(start, end).replace(/\D/g, '').length), `${shape.id}: ${ex} has a length the shape does not list`);
      assert.equal(isIdentifier(text, start, end, key), true, `${shape.id}: ${ex}`);
    }
    for (const ex of shape.examples.notId) {
      const { text, key, start, end } = parse(ex);
      assert.equal(isIdentifier(text, start, end, key), false, `${shape.id} (not an id): ${ex}`);
    }
  }
  assert.equal(gs1('4006381333931'), true);
  assert.equal(gs1('036000291452'), true);
  assert.equal(gs1('4006381333932'), false);
});
