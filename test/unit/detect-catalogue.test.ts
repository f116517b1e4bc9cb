// The vendor catalogue (src/detect/catalogue/): its size, the literals every rule carries for a
// keyword prefilter, literal-led gates, the checksums (against node's own CRC32), keyed values found
// as JSON fields, the generic prefixed rule, and the README listing every type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import RE2 from 're2';
import { RULES } from '../../src/detect/rules.js';
import { CATALOGUE, CATALOGUE_FAMILIES } from '../../src/detect/catalogue/index.js';
import { VENDOR_PREFIXES } from '../../src/detect/catalogue/keys.js';
import {
  atlassianChecksum, base62, bech32, bech32Encode, crc32, discordBotToken, githubChecksum, grafanaChecksum, withAtlassianChecksum, withGithubChecksum, withGrafanaChecksum,
} from '../../src/detect/catalogue/checksums.js';
import { BUILTIN_TYPES, compileDetector, validatePiiConfig } from '../../src/detect/detector.js';
import { inspectMessage } from '../../src/detect/scan.js';
import { PiiSchema } from '../../src/config/pii-schema.js';
import { prng as rng } from '../../src/bench/stats.js';

const det = compileDetector(PiiSchema.parse({}), Buffer.from('test-key'));
const find = (args: Record<string, unknown>) => inspectMessage({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: args } }, 'request', det).findings;

const AN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (r: () => number, n: number, alphabet = AN) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');

test('the catalogue has at least 220 rules in all, with unique ids, each with a type', () => {
  assert.ok(RULES.length >= 220, `only ${RULES.length} rules`);
  assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length);
  for (const r of RULES) assert.match(r.type, /^[a-z][a-z0-9_]*$/, r.id);
  assert.equal(CATALOGUE.length, Object.values(CATALOGUE_FAMILIES).reduce((a, f) => a + f.length, 0));
  for (const r of CATALOGUE) assert.ok(RULES.includes(r), `${r.id} is not in RULES`);
});

test('every literal-led catalogue rule carries lowercase keywords, one of which is in each match', () => {
  for (const r of CATALOGUE) {
    if (r.shape === 'token') continue;
    assert.ok(r.keywords?.length, `${r.id} has no keywords`);
    for (const k of r.keywords!) assert.equal(k, k.toLowerCase(), `${r.id}: keyword ${k} not lowercase`);
    const re = new RE2(r.pattern, 'gu' + (r.flags ?? ''));
    for (const ex of r.examples.match) {
      re.lastIndex = 0;
      const m = re.exec(ex);
      if (!m) continue; // found in another form (decoded, key=value): checked by the rule test
      const whole = m[0].toLowerCase();
      assert.ok(r.keywords!.some((k) => whole.includes(k)), `${r.id}: no keyword in the match of ${ex.slice(0, 60)}`);
    }
  }
});

test('catalogue gates are led by a literal (so that a set of them stays a small DFA)', () => {
  for (const r of CATALOGUE) {
    if (r.shape === 'token') continue;
    assert.ok(r.gate, `${r.id} has no gate`);
    // Strip a leading boundary and group openings; what remains must start with a literal character.
    let g = r.gate!;
    for (let k = 0; k < 4; k++) g = g.replace(/^\(\?:\^\|\[\^A-Za-z(?:0-9)?\]\|\\\\\[nrt\]\)/, '').replace(/^\((?:\?i:|\?:(?!\^\|))/, '');
    assert.match(g, /^(?:[A-Za-z0-9_:;@.=+<-]|\\[.+$/-]|\[[^\]]{1,3}\][A-Za-z0-9])/, `${r.id}: gate ${r.gate} is not literal-led`);
  }
});

test('GitHub and npm checksums: the CRC32 of the 30 random characters in base62, as zlib computes it', () => {
  const r = rng(7);
  for (let i = 0; i < 300; i++) {
    const random = rand(r, 30);
    const tok = withGithubChecksum('ghp', random);
    assert.equal(tok.slice(-6), base62(zlibCrc32(random), 6));
    assert.equal(crc32(random), zlibCrc32(random));
    assert.ok(githubChecksum(tok), tok);
    assert.ok(githubChecksum(withGithubChecksum('npm', random)));
    // Any single character changed is caught (a CRC32 catches every burst of 8 bits).
    const at = Math.floor(r() * 36);
    const c = tok[4 + at]!;
    const other = AN[(AN.indexOf(c) + 1 + Math.floor(r() * 61)) % 62]!;
    assert.equal(githubChecksum(tok.slice(0, 4 + at) + other + tok.slice(5 + at)), false);
  }
  assert.equal(githubChecksum('ghp_' + 'a'.repeat(36)), false);
});

test('GitHub tokens: a valid checksum is blocked, a wrong one passes, in a message', () => {
  const good = withGithubChecksum('ghp', 'Zx9Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7');
  assert.ok(find({ q: `token ${good}` }).some((f) => f.type === 'github_token'));
  const bad = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
  assert.equal(find({ q: `token ${bad}` }).filter((f) => f.type === 'github_token').length, 0);
});

test('Grafana and Atlassian CRC32, age bech32, Discord bot ids', () => {
  const r = rng(11);
  for (let i = 0; i < 100; i++) {
    const g = withGrafanaChecksum(rand(r, 32));
    assert.ok(grafanaChecksum(g));
    const le = Buffer.alloc(4);
    le.writeUInt32LE(zlibCrc32(g.slice(0, 37)));
    assert.equal(g.slice(38), le.toString('hex'));
    assert.equal(grafanaChecksum(g.slice(0, 10) + (g[10] === 'a' ? 'b' : 'a') + g.slice(11)), false);
    const a = withAtlassianChecksum('ATATT3' + rand(r, 180, AN + '_-='));
    assert.ok(atlassianChecksum(a));
    assert.equal(parseInt(a.slice(-8), 16), zlibCrc32(a.slice(0, -8)));
    assert.equal(atlassianChecksum(a.slice(0, 20) + (a[20] === 'x' ? 'y' : 'x') + a.slice(21)), false);
    const k = bech32Encode('age-secret-key-', Uint8Array.from({ length: 32 }, () => Math.floor(r() * 256))).toUpperCase();
    assert.equal(k.length, 'AGE-SECRET-KEY-1'.length + 58);
    assert.ok(bech32(k));
    assert.equal(bech32(k.slice(0, 30) + (k[30] === 'Q' ? 'P' : 'Q') + k.slice(31)), false);
  }
  assert.ok(discordBotToken(`${Buffer.from('80351110224678912').toString('base64url')}.GQx8bA.abc`));
  assert.equal(discordBotToken(`${Buffer.from('not-a-snowflake!!').toString('base64url')}.GQx8bA.abc`), false);
});

test('a keyed value is found as a JSON field as well as in text', () => {
  for (const r of CATALOGUE.filter((x) => x.assignment && x.id !== 'docker_registry_auth')) {
    const ex = r.examples.match.find((m) => /^[A-Z0-9_]+=/.test(m));
    if (!ex) continue;
    const at = ex.indexOf('=');
    const found = find({ [ex.slice(0, at)]: ex.slice(at + 1) });
    assert.ok(found.some((f) => f.type === r.type), `${r.id}: ${ex.slice(0, at)} as a JSON key not found`);
    // The same value under a key that does not name the vendor is not this rule's.
    const other = find({ description: ex.slice(at + 1) });
    assert.equal(other.filter((f) => f.rule === r.id).length, 0, `${r.id} found without its key`);
  }
});

test('generic prefixed rule: every listed vendor prefix with a random tail is found; identifiers are not', () => {
  const r = rng(5);
  for (const p of VENDOR_PREFIXES) {
    for (const sep of ['_', '-']) {
      const tok = `${p}${sep}${rand(r, 20)}${rand(r, 4, '0123456789')}${rand(r, 8)}`;
      assert.ok(find({ q: `use ${tok} here` }).some((f) => f.type === 'prefixed_token'), `${p}: ${tok}`);
      assert.ok(find({ q: `ref_${tok}_end` }).length > 0, `${p} glued`);
    }
    for (const ident of [`${p}_settings_page_v2`, `${p}-docs-overview`, `${p}_xxxxxxxxxxxxxxxxxxxxxxxx`]) {
      assert.equal(find({ q: ident }).filter((f) => f.rule === 'generic_prefixed_token').length, 0, ident);
    }
  }
});

test('the README lists every type and the catalogue size', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Detection'), readme.indexOf('## Development'));
  for (const t of new Set(RULES.map((r) => r.type))) assert.ok(section.includes(`\`${t}\``), `README Detection section does not list type ${t}`);
  assert.ok(section.includes(`${RULES.length} rules`), `README Detection section does not state ${RULES.length} rules`);
});

test('pii config: every built-in type and rule id is accepted, a misspelt type is named', () => {
  for (const r of RULES) assert.ok(BUILTIN_TYPES.has(r.type) && BUILTIN_TYPES.has(r.id));
  const ok = validatePiiConfig({ actions: { github_token: { request: 'block' }, docker_hub_token: { response: 'redact' }, employee: { request: 'warn' } }, disabled_types: ['ip_address', 'generic_prefixed_token'], allowlist: [{ type: 'email', literal: 'a@b.co' }], custom_types: { employee: { patterns: [{ regex: 'E[0-9]{6}' }] } } } as any);
  assert.deepEqual(ok, []);
  const bad = validatePiiConfig({ actions: { github_tokens: { request: 'allow' } }, disabled_types: ['credit_cards'], allowlist: [{ type: 'emial' }] } as any);
  assert.deepEqual(bad.map((p) => p.path), [['actions', 'github_tokens'], ['disabled_types', 0], ['allowlist', 0, 'type']]);
  assert.match(bad[0]!.message, /unknown type 'github_tokens'/);
});
