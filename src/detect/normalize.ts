// Normalisation: the forms of one text that detection scans besides the original. Unicode NFKC with
// invisible characters removed and decimal digits of every script read as ASCII digits, percent /
// HTML-entity / escape notations decoded (\uXXXX, \u{X}, \UXXXXXXXX, \xXX, %uXXXX, octal \NNN), and
// base64 or hex blobs decoded when they decode to mostly printable text (bounded depth and size);
// base64 runs of 8-15 characters too, where `shortForm` is asked for them.
// The gate (gate.ts) mirrors these triggers: every transform here needs a byte pattern it watches for.
// `needsVariants` is the cheap test (one pass, no allocation) that a text has no other form.
import RE2 from 're2';

/** Base64 candidates: a run of >= 16 base64/base64url characters containing an uppercase letter. */
export const BASE64_MIN = 16;
/** Hex candidates: a run of >= 16 hex digits. */
export const HEX_MIN = 16;
const MAX_DEPTH = 2;
const MAX_DECODED_PER_TEXT = 4 * 1024 * 1024;

// Zero-width, bidi controls, soft hyphen, word joiners, BOM, Mongolian vowel separator.
const INVISIBLE = new RE2('[\\x{00AD}\\x{034F}\\x{061C}\\x{115F}\\x{1160}\\x{17B4}\\x{17B5}\\x{180E}\\x{200B}-\\x{200F}\\x{202A}-\\x{202E}\\x{2060}-\\x{2064}\\x{2066}-\\x{206F}\\x{3164}\\x{FE00}-\\x{FE0F}\\x{FEFF}\\x{FFA0}]', 'g');
// Unicode dashes and minus signs to ASCII hyphen (NFKC keeps most of them).
const DASHES = new RE2('[\\x{2010}-\\x{2015}\\x{2212}\\x{FE58}\\x{FE63}\\x{FF0D}]', 'g');
const NON_ASCII = new RE2('[^\\x00-\\x7F]');
const PERCENT = new RE2('(?:%[0-9A-Fa-f]{2})+', 'g');
const ENTITY = new RE2('&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});', 'g');
// \u{1F600} (JS, Rust, Swift), \uXXXX (JSON, JS, Java), \UXXXXXXXX (Python, C), \xXX, %uXXXX (the old
// JavaScript escape()), octal \NNN (C, Python, shells).
const UESC = new RE2('\\\\u\\{([0-9A-Fa-f]{1,6})\\}|\\\\u([0-9A-Fa-f]{4})|\\\\U([0-9A-Fa-f]{8})|\\\\x([0-9A-Fa-f]{2})|%u([0-9A-Fa-f]{4})|\\\\([0-3][0-7]{2})', 'g');
const B64 = new RE2(`[A-Za-z0-9+/_-]{${BASE64_MIN},}={0,2}`, 'g');
const HEX = new RE2(`[0-9A-Fa-f]{${HEX_MIN},}`, 'g');

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', commat: '@', period: '.', colon: ':', sol: '/',
  plus: '+', hyphen: '-', dash: '-', lowbar: '_', num: '#', percnt: '%', equals: '=', dollar: '$', excl: '!',
  quest: '?', comma: ',', semi: ';', lpar: '(', rpar: ')', ast: '*', bsol: '\\', verbar: '|', tilde: '~',
  lbrace: '{', rbrace: '}', lsqb: '[', rsqb: ']', hat: '^', grave: '`', ensp: ' ', emsp: ' ', thinsp: ' ',
  zwj: '', zwnj: '', shy: '', lrm: '', rlm: '', minus: '-', ndash: '-', mdash: '-',
};

// Decimal digits NFKC leaves alone (Arabic-Indic, Devanagari, Thai, ... ): every block of them is ten
// code points in a row from zero (two blocks are several tens in a row).
const SCRIPT_DIGIT = /\p{Nd}/gu;
const isScriptDigit = (cp: number): boolean => /\p{Nd}/u.test(String.fromCodePoint(cp));
function asciiDigit(d: string): string {
  const cp = d.codePointAt(0)!;
  if (cp < 0x80) return d;
  let start = cp;
  while (cp - start < 49 && isScriptDigit(start - 1)) start--;
  return String((cp - start) % 10);
}

/** Unicode clean-up: NFKC, invisible characters removed, dashes unified, digits of every script as ASCII. Identity on ASCII. */
export function cleanUnicode(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  const t = (s.normalize('NFKC').replace(INVISIBLE, '') as string).replace(DASHES, '-') as string;
  return NON_ASCII.test(t) ? t.replace(SCRIPT_DIGIT, asciiDigit) : t;
}

function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  return s.replace(PERCENT, (run: string) => {
    const bytes = Buffer.from(run.replace(/%/g, ''), 'hex');
    return bytes.toString('utf8');
  });
}

function entityDecode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY, (ent: string) => {
    const body = ent.slice(1, -1);
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : ent;
    }
    const v = NAMED[body.toLowerCase()];
    return v === undefined ? ent : v;
  });
}

function escapeDecode(s: string): string {
  if (s.indexOf('\\') < 0 && s.indexOf('%u') < 0) return s;
  return s.replace(UESC, (m: string, brace?: string, u?: string, big?: string, x?: string, pu?: string, oct?: string) => {
    const cp = oct !== undefined ? parseInt(oct, 8) : parseInt(brace ?? u ?? big ?? x ?? pu ?? '', 16);
    if (brace !== undefined || big !== undefined) return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    return String.fromCharCode(cp);
  });
}

/**
 * Mostly printable text (>= 90% printable, no NULs, <= 10% invalid UTF-8), as decoded blobs must be
 * to be scanned. Leaves early once the blob cannot qualify (random binary, the common case).
 */
function printable(buf: Buffer): string | undefined {
  const n = buf.length;
  if (n < 6) return undefined;
  const limit = n / 10;
  let bad = 0;
  // A lower bound of the U+FFFD count of the UTF-8 decoding: bytes that cannot start or continue a
  // sequence. Each one decodes to at least one U+FFFD, and the text has at most n code units.
  let invalid = 0;
  let need = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[i]!;
    if (b < 0x80) {
      if (b === 0) return undefined;
      if (need > 0) {
        need = 0;
        invalid++;
      }
      if (b < 32 && b !== 9 && b !== 10 && b !== 13 && ++bad > limit) return undefined;
    } else if (b < 0xc0) {
      if (need > 0) need--;
      else invalid++;
    } else {
      if (need > 0) invalid++;
      need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
      if (need === 0) invalid++;
    }
    if (invalid > limit) return undefined;
  }
  if (bad > limit) return undefined;
  const txt = buf.toString('utf8');
  let repl = 0;
  for (let i = 0; i < txt.length; i++) if (txt.charCodeAt(i) === 0xfffd) repl++;
  return repl > txt.length / 10 ? undefined : txt;
}

function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

function decodeBlobs(s: string, out: string[], budget: { left: number }): void {
  if (s.length < Math.min(BASE64_MIN, HEX_MIN)) return;
  for (const m of s.match(B64) ?? []) {
    if (budget.left <= 0) return;
    // Base64 of text has upper-case letters; a run without any (identifiers, lower-case hex digests)
    // is not decoded as base64 (hex runs are decoded as hex below).
    if (!hasUpper(m)) continue;
    const body = m.replace(/=+$/, '');
    const std = body.replace(/-/g, '+').replace(/_/g, '/');
    // Try every alignment: a blob may start mid-token (e.g. `key=<base64>` with letters before it).
    for (let off = 0; off < 4 && off + 8 <= std.length; off++) {
      const t = printable(Buffer.from(std.slice(off), 'base64'));
      if (t !== undefined) {
        out.push(t);
        budget.left -= t.length;
        break;
      }
    }
  }
  for (const m of s.match(HEX) ?? []) {
    if (budget.left <= 0) return;
    for (let off = 0; off < 2; off++) {
      const h = m.slice(off, off + ((m.length - off) & ~1));
      const t = printable(Buffer.from(h, 'hex'));
      if (t !== undefined) {
        out.push(t);
        budget.left -= t.length;
        break;
      }
    }
  }
}

// Character classes for needsVariants, one table lookup a character.
const C_B64 = 1;
const C_HEX = 2;
const C_UPPER = 4;
const C_SPECIAL = 8; // % & \ : percent-encoding, entities, escapes
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9+/_-]/.test(ch)) CLASS[c]! |= C_B64;
  if (/[0-9A-Fa-f]/.test(ch)) CLASS[c]! |= C_HEX;
  if (/[A-Z]/.test(ch)) CLASS[c]! |= C_UPPER;
  if (ch === '%' || ch === '&' || ch === '\\') CLASS[c]! |= C_SPECIAL;
}

/** Result bits of `classify`. */
export const NEEDS_VARIANTS = 1;
export const IS_NON_ASCII = 2;
/** A base64 run of SHORT_BASE64_MIN or more with an upper-case letter (`shortBase64Form` may apply). */
export const HAS_SHORT_BASE64 = 4;

/**
 * One pass, no allocation: NEEDS_VARIANTS when `variants(s)` can return more than `[s]` (non-ASCII,
 * `%`, `&` or `\\`, a base64 run of BASE64_MIN with an upper-case letter, or a hex run of HEX_MIN),
 * IS_NON_ASCII when it has a character past U+007F, HAS_SHORT_BASE64 for a shorter base64 run.
 */
export function classify(s: string): number {
  let b64Run = 0;
  let b64Upper = false;
  let hexRun = 0;
  let out = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return NEEDS_VARIANTS | IS_NON_ASCII;
    const k = CLASS[c]!;
    if (k & C_B64) {
      b64Run++;
      if (k & C_UPPER) b64Upper = true;
      if (k & C_HEX) hexRun++;
      else hexRun = 0;
      if (b64Upper && b64Run >= SHORT_BASE64_MIN) out |= HAS_SHORT_BASE64;
      if ((b64Upper && b64Run >= BASE64_MIN) || hexRun >= HEX_MIN) out |= NEEDS_VARIANTS;
    } else {
      if (k & C_SPECIAL) out |= NEEDS_VARIANTS;
      b64Run = 0;
      b64Upper = false;
      hexRun = 0;
    }
  }
  return out;
}

/** Whether `variants(s)` can return more than `[s]`. */
export function needsVariants(s: string): boolean {
  return (classify(s) & NEEDS_VARIANTS) !== 0;
}

/**
 * Every form of `s` to scan, original first. Forms other than the first carry no offsets into the
 * original: a finding in them is redacted by value or by replacing the whole field.
 */
export function variants(s: string, short?: ShortBase64Options): string[] {
  const out = [s];
  expand(s, out, 0, { left: MAX_DECODED_PER_TEXT }, short);
  return out;
}

function expand(s: string, out: string[], depth: number, budget: { left: number }, short?: ShortBase64Options): void {
  let cur = cleanUnicode(s);
  // Two rounds catch double encodings such as %26%23x40%3B or &#92;u0040.
  for (let round = 0; round < 2; round++) {
    const next = cleanUnicode(escapeDecode(entityDecode(percentDecode(cur))));
    if (next === cur) break;
    cur = next;
  }
  if (cur !== s && !out.includes(cur)) out.push(cur);
  if (short) {
    // Short runs of the text as written and as decoded (a short run of \u escapes).
    for (const t of cur === s ? [s] : [s, cur]) {
      const f = shortBase64Form(t, short);
      if (f !== undefined && !out.includes(f)) out.push(f);
    }
  }
  if (depth >= MAX_DEPTH) return;
  const blobs: string[] = [];
  decodeBlobs(s, blobs, budget);
  if (cur !== s) decodeBlobs(cur, blobs, budget);
  for (const b of blobs) {
    if (out.includes(b)) continue;
    out.push(b);
    expand(b, out, depth + 1, budget);
  }
}

/** Short base64 runs: 8 to 15 characters (6 to 11 bytes), below the blob decoder's BASE64_MIN. */
export const SHORT_BASE64_MIN = 8;

export interface ShortBase64Options {
  /** Decode every short run (the message is inspected for another reason), not only named ones. */
  everywhere: boolean;
  /** The text is an object value whose key names a sensitive value (see `namesSensitive`). */
  valueNamed: boolean;
  /** Lowercase words that name a sensitive value (`SHORT_BASE64_NAMES`). */
  names: readonly string[];
}

const isLetterCode = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAlnumCode = (c: number): boolean => isLetterCode(c) || (c >= 48 && c <= 57);

/** Whether `text` ends with one of `names` (not preceded by a letter). */
function endsWithName(text: string, names: readonly string[]): boolean {
  const lower = text.slice(-40).toLowerCase();
  for (const n of names) {
    if (!lower.endsWith(n)) continue;
    const before = lower.length > n.length ? lower.charCodeAt(lower.length - n.length - 1) : 32;
    if (!isLetterCode(before)) return true;
  }
  return false;
}

/** Whether an object key names a sensitive value: it ends with one of `names`, not preceded by a letter (`user_ssn`, `SSN`). */
export function namesSensitive(key: string, names: readonly string[]): boolean {
  return endsWithName(key, names);
}

/**
 * `s` with each short base64 run that decodes to printable text replaced by its decoding, or
 * undefined when there is none. A run is a whole run of base64 characters (and padding) with an
 * upper-case letter; without `everywhere` only a run that a name introduces is decoded: the name,
 * then one to four printable non-alphanumeric characters (`ssn: `, `password=`, `"card":"`), or the
 * start of a value whose key is the name. The gate watches for exactly these (gate.ts).
 */
export function shortBase64Form(s: string, opts: ShortBase64Options): string | undefined {
  let out: string | undefined;
  let last = 0;
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || !(CLASS[c]! & C_B64)) {
      i++;
      continue;
    }
    let j = i;
    let upper = false;
    while (j < n) {
      const d = s.charCodeAt(j);
      if (d >= 128 || !(CLASS[d]! & C_B64)) break;
      if (CLASS[d]! & C_UPPER) upper = true;
      j++;
    }
    let end = j;
    while (end < n && end - j < 2 && s.charCodeAt(end) === 61) end++;
    const len = j - i;
    const bounded = end >= n || s.charCodeAt(end) >= 128 || !(CLASS[s.charCodeAt(end)]! & C_B64);
    if (upper && bounded && len >= SHORT_BASE64_MIN && len < BASE64_MIN && (opts.everywhere || named(s, i, opts))) {
      const body = s.slice(i, j).replace(/-/g, '+').replace(/_/g, '/');
      const t = printable(Buffer.from(body, 'base64'));
      if (t !== undefined) {
        out = (out ?? '') + s.slice(last, i) + t;
        last = end;
      }
    }
    i = end;
  }
  return out === undefined ? undefined : out + s.slice(last);
}

function named(s: string, at: number, opts: ShortBase64Options): boolean {
  if (at === 0) return opts.valueNamed;
  let g = at;
  while (g > 0 && at - g < 4) {
    const c = s.charCodeAt(g - 1);
    if (c < 0x20 || c > 0x7e || isAlnumCode(c)) break;
    g--;
  }
  return g < at && endsWithName(s.slice(0, g), opts.names);
}
