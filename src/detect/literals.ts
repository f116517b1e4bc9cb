// The literal prefixes of a pattern: strings one of which starts every match of it (after a leading
// boundary), lower-cased. They are a rule's `keywords` when the catalogue does not write them: the
// prefilters look for them as plain literals, and a token split in two is joined when one is seen.
// A small reader of RE2 syntax: literals, escaped punctuation, small character sets and groups of
// alternatives; it stops at the first element that is not a literal (a class, a quantifier).

const MAX_PREFIXES = 64;

interface Prefix {
  text: string;
  /** Still growing: no element that is not a literal has been met on this branch. */
  open: boolean;
}

const LITERAL = /[A-Za-z0-9_:=~/@!%&'," <>-]/;
const ESCAPABLE = /[.\-/+_=:~*?()[\]{}|^$\\@#&%!,;'"<> ]/;

class Reader {
  i = 0;
  constructor(readonly src: string) {}
  peek(k = 0): string {
    return this.src[this.i + k] ?? '';
  }
  /** Whether a quantifier that allows zero or several of the preceding element follows at `at`. */
  quantifiedAt(at: number): boolean {
    const c = this.src[at];
    return c === '?' || c === '*' || c === '+' || c === '{';
  }
}

/** One element: a literal string, a set of alternatives, or undefined (not a literal). */
function element(r: Reader): Prefix[] | undefined {
  const c = r.peek();
  if (c === '\\') {
    const n = r.peek(1);
    if (!ESCAPABLE.test(n)) return undefined;
    if (r.quantifiedAt(r.i + 2)) return undefined;
    r.i += 2;
    return [{ text: n, open: true }];
  }
  if (c === '[') {
    const close = r.src.indexOf(']', r.i + 1);
    if (close < 0) return undefined;
    const body = r.src.slice(r.i + 1, close);
    if (!body || body.length > 4 || /[\\^-]/.test(body) || r.quantifiedAt(close + 1)) return undefined;
    r.i = close + 1;
    return [...body].map((ch) => ({ text: ch, open: true }));
  }
  if (c === '(' && (r.peek(1) !== '?' || r.peek(2) === ':')) {
    // A group of alternatives, capturing or not.
    const start = r.i;
    r.i += r.peek(1) === '?' ? 3 : 1;
    const alts: Prefix[] = [];
    for (;;) {
      const seq = sequence(r, true);
      if (seq === undefined) return undefined;
      alts.push(...seq);
      if (r.peek() === '|') {
        r.i++;
        continue;
      }
      if (r.peek() !== ')') return undefined;
      r.i++;
      break;
    }
    if (r.quantifiedAt(r.i)) {
      r.i = start;
      return undefined;
    }
    return alts;
  }
  if (c && LITERAL.test(c) && !r.quantifiedAt(r.i + 1)) {
    r.i++;
    return [{ text: c, open: true }];
  }
  return undefined;
}

/**
 * A sequence of elements up to `|`, `)` or the end; inside a group, an element that is not a literal
 * closes the branches and the rest of the alternative is skipped. Undefined when a group is malformed.
 */
function sequence(r: Reader, inGroup: boolean): Prefix[] | undefined {
  let out: Prefix[] = [{ text: '', open: true }];
  for (;;) {
    const c = r.peek();
    if (c === '' || (inGroup && (c === '|' || c === ')'))) return out;
    const el = element(r);
    if (el === undefined) {
      for (const p of out) p.open = false;
      if (!inGroup) return out;
      if (!skipToAlternativeEnd(r)) return undefined;
      return out;
    }
    const next: Prefix[] = [];
    for (const p of out) {
      if (!p.open) next.push(p);
      else for (const e of el) next.push({ text: p.text + e.text, open: e.open });
    }
    if (next.length > MAX_PREFIXES) return undefined;
    out = next;
  }
}

/** Move to the `|` or `)` that ends the current alternative (nested groups and classes skipped). */
function skipToAlternativeEnd(r: Reader): boolean {
  let depth = 0;
  while (r.i < r.src.length) {
    const c = r.peek();
    if (c === '\\') {
      r.i += 2;
      continue;
    }
    if (c === '[') {
      const close = r.src.indexOf(']', r.i + 2);
      if (close < 0) return false;
      r.i = close + 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return true;
      depth--;
    } else if (c === '|' && depth === 0) return true;
    r.i++;
  }
  return false;
}

function hasTopLevelAlternative(src: string): boolean {
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const close = src.indexOf(']', i + 2);
      if (close < 0) return true;
      i = close;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/** Leading boundaries that match no character of the value: `\b`, `(?:^|[^A-Za-z0-9])` and the like. */
const BOUNDARY = /^(?:\\b|\(\?:\^\|\[\^[A-Za-z0-9-]+\](?:\|\\\\\[nrt\])?\))/;

/**
 * The literal prefixes of `pattern`, lower-cased unless `keepCase`, each at least `min` characters
 * long; undefined when the pattern does not start with literals (or some branch is shorter than `min`).
 */
export function literalPrefixes(pattern: string, min = 3, keepCase = false): string[] | undefined {
  let src = pattern;
  for (let m = BOUNDARY.exec(src); m; m = BOUNDARY.exec(src)) src = src.slice(m[0].length);
  if (hasTopLevelAlternative(src)) return undefined;
  const r = new Reader(src);
  const seq = sequence(r, false);
  if (seq === undefined) return undefined;
  const out = [...new Set(seq.map((p) => (keepCase ? p.text : p.text.toLowerCase())))];
  if (out.length === 0 || out.some((p) => p.length < min)) return undefined;
  return out;
}
