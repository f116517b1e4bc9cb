// The gate: one RE2.Set pass over a message's raw bytes deciding whether full inspection is needed.
// Conservative by construction: it fires on every evasion the normaliser undoes (non-ASCII bytes,
// %XX, &entities;, backslash escapes other than \n \r \t \" \\, base64 runs, hex runs that decode
// to text, exponent numbers) and on a necessary condition of every rule (its gate, its family's,
// its keywords or its assertion-free pattern).
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

export const UNIVERSAL_TRIGGERS: readonly string[] = [
  '[^\\x00-\\x7F]', // any non-ASCII: fullwidth, zero-width, bidi, homoglyph-like input
  '%[0-9A-Fa-f]{2}', // percent-encoding
  '%u[0-9A-Fa-f]{4}', // the old JavaScript escape() notation
  '&#?[A-Za-z0-9]+;', // HTML entities
  '\\\\[^nrt"\\\\]', // JSON escapes other than \n \r \t \" \\ (\u, \/, \b, \f) and literal \u, \x in text
  base64Windows(),
  HEX_TEXT,
  '[:,\\[][ ]*-?[0-9]+(?:\\.[0-9]+)?[eE]', // JSON number in exponent form (its decimal string differs)
  SHORT_BASE64_NAMED,
];
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
export function splitTriggers(rules: readonly Rule[]): string[] {
  const out: string[] = [];
  const kws = [...new Set(rules.filter(joinable).flatMap((r) => joinPrefixes(r) ?? []))];
  if (kws.length) {
    const alt = kws.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    out.push(`(?:^|[^A-Za-z0-9]|\\\\[nrt])(?i:${alt})[A-Za-z0-9_+/=. -]*(?:"|${BREAK})`);
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
      out.push(`(?:^|[^0-9 .-]|[^0-9][ .-])[2-6](?:${alts.join('|')})`);
    }
  }
  if (rules.some((r) => r.id === 'iban' && joinable(r))) out.push(`(?:^|[^A-Za-z0-9]|\\\\[nrt])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9])*[ ]?(?:"|${BREAK})`);
  return out;
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

export function compileGate(pii: PiiConfig): Gate {
  const patterns = [...UNIVERSAL_TRIGGERS];
  const disabled = new Set(pii.disabled_types ?? []);
  const rules = [...RULES, ...customRules(pii)].filter((r) => !disabled.has(r.id) && !disabled.has(r.type));
  let anyBackslash = false;
  if (rules.some((r) => r.id.startsWith('custom_'))) patterns.push(ANY_HEX_RUN);
  for (const r of rules) {
    const isCustom = r.id.startsWith('custom_');
    // Custom patterns are used as written (minus assertions); a pattern that can match escaped
    // characters makes every backslash a trigger. Their keywords only narrow, so are ignored here.
    const p = isCustom ? stripAssertions(r.pattern) : gatePattern(r);
    if (isCustom && escapeUnsafe(r.pattern)) anyBackslash = true;
    if (!patterns.includes(p)) patterns.push(p);
  }
  for (const p of splitTriggers(rules)) if (!patterns.includes(p)) patterns.push(p);
  if (anyBackslash) patterns.push('\\\\');
  const set = new RE2.Set(patterns, 'u');
  return {
    patterns,
    needsInspection: (buf: Buffer): boolean => set.test(buf),
  };
}
