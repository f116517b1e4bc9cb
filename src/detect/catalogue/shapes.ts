// The shapes of the vendor catalogue, as builders that turn a vendor's public format into a rule:
// `token` for a value that carries a literal (a prefix such as `dop_v1_`, or a signature such as
// Azure's `+ASt`), `keyed` for a value with no mark of its own that its vendor names in the key
// (`TWITTER_API_SECRET=…`). Each builder writes the pattern (bounded by any character outside the
// token's alphabet, so `ref_<token>_end` is still cut out), a gate led by the literal (so a set of
// them stays a small DFA), the lowercase keywords found in every match, an entropy floor, and
// examples: fresh values of the format that must match, and near misses that must not (one character
// short, a character outside the alphabet, a placeholder, the prefix in the wrong case).
import type { DirectionActions, Rule } from '../rules.js';

/** A run of one character class (RE2 class body), `min` to `max` characters (`max` -1: no limit). */
export interface Run {
  cls: string;
  min: number;
  max?: number;
}
/** RE2 source with a sample that it matches (an alternation, an optional part). */
export interface Re {
  re: string;
  sample: string;
}
export type Part = string | Run | Re;

export const run = (cls: string, min: number, max?: number): Run => (max === undefined ? { cls, min } : { cls, min, max });
export const re = (source: string, sample: string): Re => ({ re: source, sample });

export const SECRET: DirectionActions = { request: 'block', response: 'block' };

/** Character classes of token alphabets. */
export const AN = 'A-Za-z0-9';
export const HEX = 'a-f0-9';
export const HEXU = 'A-F0-9';
export const HEXA = 'A-Fa-f0-9';
export const B64 = 'A-Za-z0-9+/';
export const B64U = 'A-Za-z0-9_-';
export const LOWER_AN = 'a-z0-9';
export const UPPER_AN = 'A-Z0-9';
/** A UUID in lower-case hex (`cls`: its alphabet, for vendors that write it in upper case). */
export const uuid = (cls = HEX): Part[] => [run(cls, 8), '-', run(cls, 4), '-', run(cls, 4), '-', run(cls, 4), '-', run(cls, 12)];

const isRun = (p: Part): p is Run => typeof p === 'object' && 'cls' in p;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

function partSource(p: Part): string {
  if (typeof p === 'string') return escape(p);
  if (!isRun(p)) return p.re;
  // RE2 counts up to 1000; a longer bound is no bound.
  const q = p.max === undefined ? `{${p.min}}` : p.max < 0 || p.max > 1000 ? `{${p.min},}` : `{${p.min},${p.max}}`;
  return `[${p.cls}]${q}`;
}

/** The characters of a class body (ranges and escapes; no negation). */
export function classChars(cls: string, fold = false): string[] {
  const out = new Set<string>();
  const chars: string[] = [];
  for (let i = 0; i < cls.length; i++) {
    if (cls[i] === '\\') chars.push('\\' + cls[++i]);
    else chars.push(cls[i]!);
  }
  const lit = (c: string): string => (c.length === 2 ? c[1]! : c);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '-' || chars[i + 1] !== '-' || i + 2 >= chars.length) {
      out.add(lit(c));
      continue;
    }
    const lo = lit(c).charCodeAt(0);
    const hi = lit(chars[i + 2]!).charCodeAt(0);
    for (let k = lo; k <= hi; k++) out.add(String.fromCharCode(k));
    i += 2;
  }
  if (fold) for (const c of [...out]) out.add(c.toLowerCase()).add(c.toUpperCase());
  return [...out];
}

/** Deterministic characters of a class, seeded by a name: synthetic values, never real ones. */
export function fill(cls: string, n: number, seed: string): string {
  const chars = classChars(cls);
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  let s = '';
  for (let i = 0; i < n; i++) {
    h ^= h << 13;
    h >>>= 0;
    h ^= h >>> 17;
    h ^= h << 5;
    h >>>= 0;
    s += chars[h % chars.length];
  }
  return s;
}

type Lengths = 'min' | 'long' | 'short' | 'x';
function sample(parts: Part[], id: string, mode: Lengths, finish?: (s: string) => string): string {
  let shortAt = -1;
  if (mode === 'short') for (let i = parts.length - 1; i >= 0 && shortAt < 0; i--) if (isRun(parts[i]!) && (parts[i] as Run).min >= 2) shortAt = i;
  const s = parts
    .map((p, i) => {
      if (typeof p === 'string') return p;
      if (!isRun(p)) return p.sample;
      let n = p.min;
      if (mode === 'long') n = p.max === undefined ? p.min : p.max < 0 ? p.min + 11 : Math.min(p.max, p.min + 11);
      if (i === shortAt) n = p.min - 1;
      if (mode === 'x') {
        const cs = classChars(p.cls);
        return (cs.includes('x') ? 'x' : cs[0]!).repeat(n);
      }
      return fill(p.cls, n, `${id}:${i}:${mode === 'short' ? 'min' : mode}`);
    })
    .join('');
  return finish ? finish(s) : s;
}

/** The value with one character of its longest run replaced by one outside the run's alphabet. */
function wrongAlphabet(parts: Part[], id: string, fold: boolean, finish?: (s: string) => string): string | undefined {
  let at = -1;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (isRun(p) && p.min >= 4 && (at < 0 || p.min > (parts[at] as Run).min)) at = i;
  }
  if (at < 0) return undefined;
  const p = parts[at] as Run;
  const cs = new Set(classChars(p.cls, fold));
  const bad = [...'zZgG9018', '-', '.', '~', '!'].find((c) => !cs.has(c));
  if (bad === undefined) return undefined;
  const text = parts.map((q, i) => (typeof q === 'string' ? q : isRun(q) ? fill(q.cls, q.min, `${id}:${i}:min`) : q.sample));
  const mid = Math.floor(p.min / 2);
  text[at] = text[at]!.slice(0, mid) + bad + text[at]!.slice(mid + 1);
  const s = text.join('');
  return finish ? finish(s) : s;
}

function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
}

/** The longest literal part (the rarest condition a gate can start with), -1 when none. */
function longestLiteral(parts: Part[]): number {
  let at = -1;
  parts.forEach((p, i) => {
    if (typeof p === 'string' && (at < 0 || p.length > (parts[at] as string).length)) at = i;
  });
  return at;
}

/** Gate: the longest literal part and what follows it, up to `need` characters of runs. */
function literalGate(parts: Part[], fold: boolean): string {
  const first = longestLiteral(parts);
  if (first < 0) throw new Error('a token rule without a literal part needs an explicit gate');
  const lit = parts[first] as string;
  // A short prefix occurs inside words and ids (`acfc-…` holds `fc-`): not after a letter or digit,
  // except where raw JSON ends an escape (`\n`).
  let src = (first === 0 && lit.length <= 4 && /^[A-Za-z0-9]/.test(lit) ? '(?:^|[^A-Za-z0-9]|\\\\[nrt])' : '') + escape(lit);
  // A literal of 4 or more characters alone: a set of such gates is an Aho-Corasick automaton, while a
  // class run after each (`hf_[A-Za-z0-9]{8}`) multiplies the DFA states on random text (base64).
  let need = lit.length >= 4 ? 0 : 6;
  for (let i = first + 1; i < parts.length && need > 0; i++) {
    const p = parts[i]!;
    if (typeof p === 'string') {
      src += escape(p);
      need -= p.length;
    } else if (isRun(p)) {
      const n = Math.min(need, p.min);
      if (n > 0) src += `[${p.cls}]{${n}}`;
      if (n < need) break;
      need = 0;
    } else break;
  }
  return fold ? `(?i:${src})` : src;
}

/**
 * An entropy floor that random values of the format clear (0.6 of the most a value of that
 * alphabet and length can have, at most 3) and placeholders (`xxxx…`, `0000…`) do not.
 */
function defaultEntropy(parts: Part[]): number | undefined {
  const runs = parts.filter(isRun);
  const n = runs.reduce((a, p) => a + p.min, 0);
  if (n < 12) return undefined;
  const widest = Math.max(...runs.map((p) => classChars(p.cls).length));
  return Math.min(3, Math.round(6 * Math.min(Math.log2(widest), Math.log2(n))) / 10);
}

export interface TokenSpec {
  id: string;
  type: string;
  description: string;
  parts: Part[];
  /** Class body of the characters that may not touch the token (default: letters and digits). */
  edge?: string;
  validator?: string;
  /** Minimum entropy of the value, bits a character (default from its length); false: none. */
  entropy?: number | false;
  /** Turns a sample into a valid value (appends a checksum). */
  finish?: (s: string) => string;
  /** The must-match examples are only `match` (a value the samples cannot make valid). */
  ownMatch?: boolean;
  /** The vendor accepts the prefix in either case. */
  fold?: boolean;
  gate?: string;
  keywords?: string[];
  /** Without a literal lead: the rule's prefilter set (detector.ts). */
  shape?: 'token';
  match?: string[];
  noMatch?: string[];
  actions?: DirectionActions;
}

/** A token led by (or carrying) a literal. */
export function token(s: TokenSpec): Rule {
  const edge = s.edge ?? 'A-Za-z0-9';
  const fold = s.fold === true;
  const src = s.parts.map(partSource).join('');
  const lead = longestLiteral(s.parts);
  const firstLit = lead < 0 ? undefined : (s.parts[lead] as string);
  const entropy = s.entropy === false ? undefined : (s.entropy ?? defaultEntropy(s.parts));
  const match = [sample(s.parts, s.id, 'min', s.finish)];
  const long = sample(s.parts, s.id, 'long', s.finish);
  if (long !== match[0]) match.push(`token: ${long}`);
  const own = s.ownMatch ? [] : match;
  const noMatch: string[] = [];
  const short = sample(s.parts, s.id, 'short', s.finish);
  if (short !== match[0]) noMatch.push(short);
  const wrong = wrongAlphabet(s.parts, s.id, fold, s.finish);
  if (wrong) noMatch.push(wrong);
  const x = sample(s.parts, s.id, 'x', s.finish);
  if (entropy !== undefined && x !== match[0]) noMatch.push(x);
  if (!fold && firstLit && /[A-Za-z]/.test(firstLit) && swapCase(firstLit) !== firstLit) {
    noMatch.push(match[0]!.replace(firstLit, swapCase(firstLit)));
  }
  // A prefix-led token (its literal first, bounded by letters and digits) joins a vendor family.
  const family = lead === 0 && edge === 'A-Za-z0-9' && !fold && s.gate === undefined && s.shape === undefined ? vendorFamily(firstLit!) : undefined;
  return {
    id: s.id,
    type: s.type,
    description: s.description,
    ...(family ? { family } : {}),
    pattern: `(?:^|[^${edge}])(${fold ? `(?i:${src})` : src})(?:$|[^${edge}])`,
    group: 1,
    boundaryGroup: true,
    gate: s.gate ?? literalGate(s.parts, fold),
    keywords: s.keywords ?? (firstLit ? [firstLit.toLowerCase()] : undefined),
    ...(s.validator ? { validator: s.validator } : {}),
    ...(entropy !== undefined ? { entropy } : {}),
    ...(s.shape ? { shape: s.shape } : {}),
    actions: s.actions ?? SECRET,
    examples: { match: [...own, ...(s.match ?? [])], noMatch: [...noMatch, ...(s.noMatch ?? [])] },
  } as Rule;
}

/** What a key that holds a credential says after the vendor's name. */
export const SECRET_WORDS = 'key|secret|token|passw|pwd|auth|cred|pat';

/**
 * Token rules led by their literal (a prefix, bounded by letters and digits) share a necessary
 * condition per first character (`FAMILY_GATES['vendor:a-f']`…): one alternation of literals instead
 * of one pattern each. 250 patterns in one RE2.Set made its DFA states too big for the cache on
 * random text (a base64 screenshot), which then scanned at 4 MB/s; an alternation of literals
 * compiles to one factored trie. A text with one of the prefixes runs the family's rules on it.
 */
const vendorLiterals = new Map<string, Set<string>>();
const VENDOR_BUCKETS: [string, RegExp][] = [['vendor:0-9', /^[0-9]/], ['vendor:a-f', /^[a-fA-F]/], ['vendor:g-m', /^[g-mG-M]/], ['vendor:n-r', /^[n-rN-R]/], ['vendor:s-z', /^[s-zS-Z]/], ['vendor:other', /./]];
function vendorFamily(lit: string): string {
  const name = VENDOR_BUCKETS.find(([, re]) => re.test(lit))![0];
  let set = vendorLiterals.get(name);
  if (!set) vendorLiterals.set(name, (set = new Set()));
  set.add(escape(lit));
  return name;
}
/** The shared conditions of the literal-led token rules, by family name (rules.ts FAMILY_GATES). */
export function vendorFamilyGates(): Record<string, string> {
  const out: Record<string, string> = {};
  // In raw JSON a letter before the prefix may end a \n, \r or \t escape.
  for (const [name, lits] of vendorLiterals) out[name] = `(?:^|[^A-Za-z0-9]|\\\\[nrt])(?:${[...lits].sort((a, b) => b.length - a.length).join('|')})`;
  return out;
}

const keyedWords = new Set<string>();
const keyedSays = new Set<string>();
/**
 * The shared necessary condition of every keyed rule (`FAMILY_GATES.keyed`): any vendor name, then
 * within 24 characters any credential word. One pattern for 130 rules instead of one each keeps the
 * gate's and the prefilter's sets small to compile (each `{0,24}` is 24 copies in the program).
 */
export function keyedFamilyGate(): string {
  return `(?:^|[^A-Za-z]|\\\\[nrt])(?i:(?:${[...keyedWords].join('|')})[A-Za-z0-9_. \\t-]{0,24}(?:${[...keyedSays].join('|')}))`;
}

export interface KeyedSpec {
  id: string;
  type: string;
  description: string;
  /** The vendor's names as they appear in keys (lowercase literals). */
  words: string[];
  value: Part[];
  /** RE2 alternation of what the key says after the name (default SECRET_WORDS). */
  says?: string;
  validator?: string;
  entropy?: number | false;
  /** The must-match examples are only `match` (a value the samples cannot make valid). */
  ownMatch?: boolean;
  match?: string[];
  noMatch?: string[];
}

/**
 * A value with no mark of its own, named in its key by the vendor and a credential word
 * (`TWILIO_API_SECRET=…`, `"datadog_api_key": "…"`, also as a JSON field: `assignment`).
 */
export function keyed(s: KeyedSpec): Rule {
  const words = s.words.map(escape).join('|');
  const says = s.says ?? SECRET_WORDS;
  const key = `(?:${words})[A-Za-z0-9_. \\t-]{0,24}(?:${says})`;
  for (const w of s.words) keyedWords.add(escape(w));
  for (const x of says.split('|')) keyedSays.add(x);
  const value = s.value.map(partSource).join('');
  const entropy = s.entropy === false ? undefined : (s.entropy ?? defaultEntropy(s.value));
  const w = s.words[0]!.replace(/[^a-z0-9]/g, '_');
  const suffix = (says.split('|')[0] ?? 'key').replace(/[^a-z]/g, '');
  const v = sample(s.value, s.id, 'min');
  const noMatch = [`${w}_project_name=${v}`, v];
  const short = sample(s.value, s.id, 'short');
  if (short !== v) noMatch.push(`${w}_${suffix}=${short}`);
  if (entropy !== undefined) noMatch.push(`${w}_${suffix}=${sample(s.value, s.id, 'x')}`);
  const wrong = wrongAlphabet(s.value, s.id, false);
  if (wrong) noMatch.push(`${w}_${suffix}=${wrong}`);
  return {
    id: s.id,
    type: s.type,
    description: s.description,
    pattern: `(?:^|[^A-Za-z])(?i:${key}[A-Za-z0-9_.-]{0,16})["']?[ \\t]{0,4}(?:=>|:{1,3}=|=|:)[ \\t]{0,4}["'\`]?(${value})(?:$|[^A-Za-z0-9])`,
    group: 1,
    // In raw JSON a letter before the name may end a \n, \r or \t escape.
    gate: `(?:^|[^A-Za-z]|\\\\[nrt])(?i:${key})`,
    keywords: [...s.words],
    family: 'keyed',
    assignment: true,
    ...(s.validator ? { validator: s.validator } : {}),
    ...(entropy !== undefined ? { entropy } : {}),
    actions: SECRET,
    examples: {
      match: [...(s.ownMatch ? [] : [`${w.toUpperCase()}_API_${suffix.toUpperCase()}=${v}`, `"${w}_${suffix}": "${sample(s.value, s.id, 'long')}"`]), ...(s.match ?? [])],
      noMatch: [...noMatch, ...(s.noMatch ?? [])],
    },
  };
}
