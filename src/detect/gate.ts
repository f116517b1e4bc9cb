// The gate: a pass of RE2.Sets over a message's raw bytes deciding whether full inspection is needed
// (one pass of a small DFA for most messages, see `compileGate`). Conservative by construction: it
// fires on every evasion the normaliser undoes (non-ASCII bytes, %XX, %uXXXX, &entities;, backslash
// escapes other than \n \r \t \" \\, base64 runs, short base64 after a name, hex runs that decode to
// text, exponent numbers), on values split in two that inspection joins, and on a necessary condition
// of every rule (its gate, its family's, its keywords or its assertion-free pattern).
// A property test (test/unit/detect-gate.test.ts) checks: gate clear => inspection finds nothing.
import RE2 from 're2';
import type { PiiConfig } from '../config/pii-schema.js';
import { FAMILY_GATES, RULES, SHORT_BASE64_NAMES, type Rule } from './rules.js';
import { customRules, joinable, joinPrefixes, keywordGate, ruleGate } from './detector.js';
import { BASE64_MIN, HEX_MIN } from './normalize.js';
import { stripAssertions } from './assertions.js';

export { stripAssertions };

export interface Gate {
  needsInspection(buf: Buffer): boolean;
  /** The patterns of the set, for tests and benchmarks. */
  readonly patterns: readonly string[];
}

function base64Windows(): string {
  // A run of BASE64_MIN base64 characters with at least one uppercase letter, as every window
  // position of that letter: exact, and linear for RE2.
  const c = '[A-Za-z0-9+/_-]';
  const alts: string[] = [];
  for (let k = 0; k < BASE64_MIN; k++) alts.push(`${c}{${k}}[A-Z]${c}{${BASE64_MIN - 1 - k}}`);
  return alts.join('|');
}

/**
 * Hex that decodes to text: six characters in a row, each printable ASCII, a tab or newline, or a
 * UTF-8 multi-byte sequence (what `printable()` in normalize.ts keeps and NFKC may turn into ASCII).
 * Every match of every built-in rule holds six such characters in a row (the shortest matches are
 * `a@b.cd` and `a::b:c`; no value class admits control characters except after a longer literal,
 * as in a PEM block), so a hex run without them (a digest, a random id) cannot hide anything.
 * Random hex has such a stretch once in ~350 positions. Custom rules keep the plain hex trigger.
 */
const HEX_TEXT = (() => {
  const cont = '[89abAB][0-9a-fA-F]';
  const ch = `(?:[2-7][0-9a-fA-F]|0[9aAdD]|[c-dC-D][0-9a-fA-F]${cont}|[eE][0-9a-fA-F]${cont}${cont}|[fF][0-7]${cont}${cont}${cont})`;
  return `${ch}{6}`;
})();

/**
 * A short base64 run that a name introduces (normalize.ts `shortBase64Form`): the name not after a
 * letter (in raw JSON the character before may end a \n, \r or \t escape), up to four printable
 * characters that are not letters or digits in the text (each at most two in raw JSON: `\"`, `\\`),
 * or the `":"` between a key and its value (with spaces), then the run's first eight characters.
 */
export const SHORT_BASE64_NAMED = `(?:^|[^A-Za-z]|\\\\[nrt])(?i:${SHORT_BASE64_NAMES.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})[^A-Za-z0-9]{1,24}[A-Za-z0-9+/_-]{8}`;

/** Evasion triggers every message is checked for in the first pass: literal-led, cheap for a DFA. */
export const DIRECT_TRIGGERS: readonly string[] = [
  '[^\\x00-\\x7F]', // any non-ASCII: fullwidth, zero-width, bidi, homoglyph-like input, other scripts' digits
  '%[0-9A-Fa-f]{2}', // percent-encoding
  '%u[0-9A-Fa-f]{4}', // the old JavaScript escape() notation
  '&#?[A-Za-z0-9]+;', // HTML entities
  '\\\\[^nrt"\\\\]', // JSON escapes other than \n \r \t \" \\ (\u, \/, \b, \f) and literal \u, \x, \U, octal in text
  '[:,\\[][ ]*-?[0-9]+(?:\\.[0-9]+)?[eE]', // JSON number in exponent form (its decimal string differs)
  SHORT_BASE64_NAMED,
];

/**
 * Necessary conditions of the triggers that count characters of a frequent class (digits, hex,
 * base64): `DIGIT_RUN` of every `digitDense` rule and of a card split in two, a run of twelve hex
 * digits of HEX_TEXT (and of ANY_HEX_RUN), a run of sixteen base64 characters of the base64 windows.
 * Each is one counter over one class, which a DFA tracks in a handful of states.
 */
export const DIGIT_RUN = '[0-9][0-9 ().-]{5}';
const HEX_RUN = '[0-9A-Fa-f]{12}';
const BASE64_RUN = '[A-Za-z0-9+/_-]{16}';

/** Every trigger the gate can fire on, for tests and benchmarks (the gate's `patterns` list the configured ones). */
export const UNIVERSAL_TRIGGERS: readonly string[] = [...DIRECT_TRIGGERS, base64Windows(), HEX_TEXT];
/** A line break in raw JSON: the escapes \n and \r\n, or the same written as text (`\\n`). */
const BREAK = '\\\\\\\\?(?:r\\\\\\\\?)?n';

/**
 * What lies between two strings that inspection joins (scan.ts `stringPairs`), in raw JSON: the end
 * of one string and the start of the next, with only punctuation, short strings (keys, `"text"`),
 * numbers and literals between: two neighbours in an object or an array, or one key of two
 * neighbouring objects whose other values are short scalars (the text of two content parts).
 */
const GAP = '"(?:[\\s,:{}]|"(?:[^"\\\\]|\\\\.)*"|[-0-9.eE+]+|true|false|null){0,24}"';

/**
 * Values split in two (joins.ts) that inspection joins: a run of token characters after the literal
 * prefix of a joinable token (not after a letter or digit), reaching the end of a string or a line break; a card-shaped digit
 * run (first digit 2-6, one kind of separator) across a line break or two neighbouring strings, twelve
 * digits in all and three on each side (joins.ts `numberSplit`); an
 * IBAN-shaped start (two capitals, two digits) reaching a break or the end of a string. Rules that
 * need a keyword fire on it already.
 */
export function splitTriggers(rules: readonly Rule[]): { direct: string[]; digits: string[] } {
  const out: string[] = [];
  const digits: string[] = [];
  // Prefixes of rules that ignore case, in any case; of the others, as written (`AKIA`, not `Asia/Tokyo`).
  for (const ci of [true, false]) {
    const kws = [...new Set(rules.filter((r) => joinable(r) && (r.flags === 'i') === ci).flatMap((r) => joinPrefixes(r) ?? []))];
    if (!kws.length) continue;
    const alt = kws.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    out.push(`(?:^|[^A-Za-z0-9]|\\\\[nrt])${ci ? `(?i:${alt})` : `(?:${alt})`}[A-Za-z0-9_+/=. -]*(?:"|${BREAK})`);
  }
  if (rules.some((r) => r.family === 'card' && joinable(r))) {
    for (const split of [BREAK, GAP]) {
      // One kind of separator (or none); k >= 3 digits before the split, from a first digit 2-6 that
      // starts a run (joins.ts `wholeJoinedRun`), and 12 - k (at least 3) after it.
      const alts: string[] = [];
      for (const x of ['', ' ', '\\.', '-']) {
        const d = x ? `${x}?[0-9]` : '[0-9]';
        const e = x ? `${x}?` : '';
        for (let k = 3; k <= 9; k++) alts.push(`(?:${d}){${k - 1},}${e}${split}${e}[0-9](?:${d}){${Math.max(2, 11 - k)},}`);
      }
      digits.push(`(?:^|[^0-9 .-]|[^0-9][ .-])[2-6](?:${alts.join('|')})`);
    }
  }
  if (rules.some((r) => r.id === 'iban' && joinable(r))) out.push(`(?:^|[^A-Za-z0-9]|\\\\[nrt])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9])*[ ]?(?:"|${BREAK})`);
  return { direct: out, digits };
}

/** With custom rules (whose shortest match is unknown) every hex run of HEX_MIN is a trigger. */
const ANY_HEX_RUN = `[0-9A-Fa-f]{${HEX_MIN}}`;

/**
 * Whether a pattern could match a character that raw JSON writes as an escape (control characters,
 * `"` and `\`). Such a pattern, applied to raw bytes, could miss what it matches in the parsed text.
 */
export function escapeUnsafe(src: string): boolean {
  if (/\(\?[a-zA-Z]*s/.test(src)) return true;
  let inClass = false;
  let prev = -1;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      const n = src[i + 1] ?? '';
      i++;
      if ('sSWDpPxnrtfvCQu0"\\'.includes(n)) return true;
      prev = n.charCodeAt(0);
      continue;
    }
    if (inClass) {
      if (ch === ']') {
        inClass = false;
        continue;
      }
      if (ch === '-' && prev >= 0 && src[i + 1] && src[i + 1] !== ']') {
        let hi = src[i + 1]!;
        if (hi === '\\') return true;
        const lo = prev, h = hi.charCodeAt(0);
        if ((lo <= 0x22 && h >= 0x22) || (lo <= 0x5c && h >= 0x5c) || lo < 0x20) return true;
        i++;
        prev = -1;
        continue;
      }
      if (ch === '"' || ch.charCodeAt(0) < 0x20) return true;
      prev = ch.charCodeAt(0);
      continue;
    }
    if (ch === '[') {
      inClass = true;
      prev = -1;
      if (src[i + 1] === '^') return true;
      continue;
    }
    if (ch === '.' || ch === '"' || ch.charCodeAt(0) < 0x20) return true;
  }
  return false;
}

/**
 * The gate pattern of one rule: its keywords when it needs context (rarer in ordinary traffic than
 * its value), else its explicit gate, else its pattern without assertions.
 */
export function gatePattern(rule: Rule): string {
  // Scanning requires the keyword not inside a longer word (see keywordGate).
  if (rule.context && rule.keywords?.length) return keywordGate(rule.keywords.map((k) => k.toLowerCase()));
  if (rule.family !== undefined && FAMILY_GATES[rule.family] !== undefined) return FAMILY_GATES[rule.family]!;
  const g = ruleGate(rule);
  if (g !== undefined) return g;
  const src = stripAssertions(rule.pattern);
  return rule.flags === 'i' ? `(?i:${src})` : src;
}

/**
 * Whether a keyword can stand for its rule in the first pass: three characters or more (`s.` ends
 * every other sentence of prose, which would send prose through every pass), and none that JSON
 * writes as an escape. A rule with another keyword keeps its own condition in the literal set.
 */
const usable = (k: string): boolean => k.length >= 3 && !/["\\\x00-\x1f]/.test(k);
const escapeRe = (k: string): string => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The 2026 era's `_meta` keys (ERAS.md) are fixed literals that read as base64 runs
 * (`modelcontextprotocol/protocolVersion`: 36 characters with capitals), so the base64 windows would
 * send every 2026 message to full inspection. Each key stands between `.` and `"`, neither of them a
 * base64 character, so its run is exactly the literal and decodes to the same bytes every time: it
 * can hide nothing. Only the base64 trigger looks past them, and only at these names (any other
 * name under the prefix could carry anything); every other condition reads the message as it is.
 */
const ENVELOPE_PREFIX = Buffer.from('"io.modelcontextprotocol/');
const ENVELOPE_KEYS = /"io\.modelcontextprotocol\/(?:protocolVersion|clientCapabilities|clientInfo|logLevel|subscriptionId|serverInfo|related-task)"/g;

function withoutEnvelopeKeys(buf: Buffer): Buffer {
  return Buffer.from(buf.toString('latin1').replace(ENVELOPE_KEYS, (m) => ' '.repeat(m.length)), 'latin1');
}

/**
 * The gate as passes of small DFAs. One RE2.Set holding every trigger was fast
 * on prose (650 MB/s) and collapsed on ordinary JSON (1-2 MB/s on the legitimate corpus, measured;
 * 0.5 MB/s with the vendor catalogue): the counting automata of the number formats, the base64
 * windows, HEX_TEXT and hundreds of token formats, tracked together over digits, hex and
 * identifiers, have more states than the DFA cache holds, so it rebuilt states on every byte. Now
 * the conditions are in three groups, each a set whose DFA stays small:
 * - literal: the evasion triggers, keyword conditions of rules that need one, split triggers and the
 *   gates of rules without keywords (a match means "inspect"), and each distinct keyword of the
 *   keyword-led rules (a vendor prefix, as gitleaks and trufflehog do: in effect an Aho-Corasick
 *   automaton), whose match runs the gates of that keyword's rules only;
 * - coarse: DIGIT_RUN, a hex run, a base64 run, whose match runs the counting triggers that need it
 *   (number formats, HEX_TEXT, the base64 windows), a set each.
 * A first pass over both groups stops at the first match and clears clean text (prose, most
 * protocol traffic) in one pass; otherwise the literal set, then the coarse set, say which conditions
 * to run (literals and counters in one set multiply their states: 7 MB/s on the corpus). Every
 * condition runs whenever it could match, so the gate decides exactly what one set decided, and the
 * cost of the literal-led rules grows with the keywords that occur, not with the number of rules.
 */
export function compileGate(pii: PiiConfig): Gate {
  const direct = [...DIRECT_TRIGGERS];
  const numbers: string[] = [];
  const hex: string[] = [HEX_TEXT];
  const base64 = [base64Windows()];
  const byKeyword = new Map<string, string[]>();
  const disabled = new Set(pii.disabled_types ?? []);
  const rules = [...RULES, ...customRules(pii)].filter((r) => !disabled.has(r.id) && !disabled.has(r.type));
  let anyBackslash = false;
  if (rules.some((r) => r.id.startsWith('custom_'))) hex.push(ANY_HEX_RUN);
  const add = (list: string[], p: string): void => {
    if (!list.includes(p)) list.push(p);
  };
  for (const r of rules) {
    const isCustom = r.id.startsWith('custom_');
    // Custom patterns are used as written (minus assertions); a pattern that can match escaped
    // characters makes every backslash a trigger. Their keywords only narrow, so are ignored here.
    const p = isCustom ? stripAssertions(r.pattern) : gatePattern(r);
    if (isCustom && escapeUnsafe(r.pattern)) anyBackslash = true;
    if (isCustom || r.context) add(direct, p); // a rule that needs a keyword is gated on the keyword
    else if (r.digitDense) add(numbers, p);
    else if (r.keywords?.length && r.keywords.every(usable)) for (const k of r.keywords) add(byKeyword.get(k) ?? (byKeyword.set(k, []), byKeyword.get(k)!), p);
    else add(direct, p);
  }
  const split = splitTriggers(rules);
  for (const p of split.direct) add(direct, p);
  for (const p of split.digits) add(numbers, p);
  if (anyBackslash) direct.push('\\\\');
  const keywords = [...byKeyword.keys()];
  const tiers = [
    { coarse: DIGIT_RUN, fine: numbers },
    { coarse: HEX_RUN, fine: hex },
    { coarse: BASE64_RUN, fine: base64 },
  ].filter((t) => t.fine.length > 0);
  const literal = [...direct, ...keywords.map((k) => `(?i:${escapeRe(k)})`)];
  const first = new RE2.Set([...literal, ...tiers.map((t) => t.coarse)], 'u');
  const literalSet = new RE2.Set(literal, 'u');
  const coarseSet = new RE2.Set(tiers.map((t) => t.coarse), 'u');
  // Compiled on first use: most keywords never occur in a given daemon's traffic.
  const kwSets: (InstanceType<typeof RE2.Set> | undefined)[] = new Array(keywords.length);
  const kwSet = (i: number): InstanceType<typeof RE2.Set> => (kwSets[i] ??= new RE2.Set(byKeyword.get(keywords[i]!)!, 'u'));
  const fineSets = tiers.map((t) => new RE2.Set(t.fine, 'u'));
  const nDirect = direct.length;
  const base64Tier = tiers.findIndex((t) => t.coarse === BASE64_RUN);
  return {
    patterns: [...direct, ...[...byKeyword.values()].flat().filter((p, i, all) => all.indexOf(p) === i), ...numbers, ...hex, ...base64],
    needsInspection(buf: Buffer): boolean {
      // One pass, stopping at the first match: most clean text ends here.
      if (!first.test(buf)) return false;
      // Which literal conditions occur (a full pass of a literal set); keywords run their rules' gates.
      const lits = literalSet.match(buf);
      for (const i of lits) if (i < nDirect) return true;
      for (const i of lits) if (kwSet(i - nDirect).test(buf)) return true;
      // Which coarse conditions occur; each runs its counting triggers (stopping at the first match:
      // the base64 windows, scanned to the end of a base64 blob, have too many states).
      for (const i of coarseSet.match(buf)) {
        if (!fineSets[i]!.test(buf)) continue;
        // The base64 windows fire on every 2026 message's envelope keys; see ENVELOPE_KEYS.
        if (i === base64Tier && buf.includes(ENVELOPE_PREFIX) && !fineSets[i]!.test(withoutEnvelopeKeys(buf))) continue;
        return true;
      }
      return false;
    },
  };
}
