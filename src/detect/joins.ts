// Values split in two: a card across a line break (`4111 1111\n1111 1111`), a token across two JSON
// strings (`["ghp_aB3dE5", "fG7hJ9…"]`). A join is the run of value characters that ends at the
// split joined to the run that starts after it, with where each character came from; the scanner
// runs the rules whose joined form can be told from chance (a checksum or a known prefix) over it and
// keeps only the matches that cross the split. Pure functions of the texts.

/** Each side of a join holds at most this many characters. */
const SIDE_MAX = 256;

export interface JoinWindow {
  /** The joined text. */
  text: string;
  /** Indices in `text` of the first character after each split. */
  seams: number[];
  /** For each character of `text`, which text it came from (0: the first, 1: the second). */
  part: Uint8Array;
  /** For each character of `text`, its offset in the text it came from. */
  offset: Int32Array;
}

const isUD = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** Characters of a token or number: letters, digits, `_ + / = . -`. */
const isRunChar = (c: number): boolean => isAlnum(c) || c === 95 || c === 43 || c === 47 || c === 61 || c === 46 || c === 45;

/**
 * Whether text[i] belongs to a run: a token or number character, or a single space inside a group of
 * digits and capitals (`4111 1111`, `DE89 3704`). `edge` is the neighbour on the far side of a split
 * when text[i] is the last (or first) character before it.
 */
function inRun(text: string, i: number, edge: number): boolean {
  const c = text.charCodeAt(i);
  if (isRunChar(c)) return true;
  if (c !== 32) return false;
  const prev = i > 0 ? text.charCodeAt(i - 1) : edge;
  const next = i + 1 < text.length ? text.charCodeAt(i + 1) : edge;
  return isUD(prev) && isUD(next);
}

/** Start of the run that ends at `end` (exclusive); `edge`: the character after the split. */
function runStart(text: string, end: number, edge: number): number {
  let i = end;
  while (i > 0 && end - i < SIDE_MAX && inRun(text, i - 1, i === end ? edge : -1)) {
    // A literal `\n` or `\r` (backslash and letter) before: the run stops at it.
    const c = text.charCodeAt(i - 1);
    if ((c === 110 || c === 114) && i >= 2 && text.charCodeAt(i - 2) === 92) break;
    i--;
  }
  return i;
}

/** End (exclusive) of the run that starts at `start`; `edge`: the character before the split. */
function runEnd(text: string, start: number, edge: number): number {
  let i = start;
  while (i < text.length && i - start < SIDE_MAX && inRun(text, i, i === start ? edge : -1)) {
    if (text.charCodeAt(i) === 92) break;
    i++;
  }
  return i;
}

/** Length of the line break at `i` (`\n`, `\r\n`, or the same written as backslash escapes), else 0. */
function breakAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 10) return 1;
  if (c === 13) return text.charCodeAt(i + 1) === 10 ? 2 : 0;
  if (c === 92) {
    const n = text.charCodeAt(i + 1);
    if (n === 110) return 2;
    if (n === 114 && text.charCodeAt(i + 2) === 92 && text.charCodeAt(i + 3) === 110) return 4;
  }
  return 0;
}

/** Whether `text` has a line break between two run characters (cheap test before `lineJoins`). */
export function hasInnerBreak(text: string): boolean {
  let i = text.indexOf('\n');
  if (i < 0 && text.indexOf('\\') < 0) return false;
  for (i = 1; i < text.length - 1; i++) {
    const b = breakAt(text, i);
    if (b && isRunChar(text.charCodeAt(i - 1)) && i + b < text.length && isRunChar(text.charCodeAt(i + b))) return true;
    if (b) i += b - 1;
  }
  return false;
}

/**
 * The joins of one text at its line breaks: for each break between two run characters, the run
 * before it joined to the run after it (which goes on across further breaks between run characters).
 */
/**
 * Whether a join can hold a joinable match (`left[leftStart, leftEnd)` is the run before the split,
 * `right` from `rightStart` the text after it): a grouped number, with digits next to the split and
 * a separator within six characters of it on each side (or at it), or a known prefix in the run before
 * the split (a token; `prefix` tests for them). Most neighbouring numbers (an id and a date) fail this
 * and cost no join.
 */
export type JoinWorth = (left: string, leftStart: number, leftEnd: number, right: string, rightStart: number) => boolean;

const isSepCode = (c: number): boolean => c === 32 || c === 45 || c === 46;

export function worthJoining(prefix: RegExp | undefined): JoinWorth {
  return (left, leftStart, leftEnd, right, rightStart) => {
    const last = left.charCodeAt(leftEnd - 1);
    const first = right.charCodeAt(rightStart);
    const lastDigit = isDigitCode(last) || (isSepCode(last) && isDigitCode(left.charCodeAt(leftEnd - 2)));
    const firstDigit = isDigitCode(first) || (isSepCode(first) && isDigitCode(right.charCodeAt(rightStart + 1)));
    if (lastDigit && firstDigit) {
      if (isSepCode(last) || isSepCode(first)) return true;
      let sepLeft = false;
      for (let k = leftEnd - 1; k >= Math.max(leftStart, leftEnd - 6); k--) if (isSepCode(left.charCodeAt(k))) sepLeft = true;
      let sepRight = false;
      for (let k = rightStart; k < Math.min(right.length, rightStart + 6); k++) if (isSepCode(right.charCodeAt(k))) sepRight = true;
      if (sepLeft && sepRight) return true;
    }
    const run = left.slice(leftStart, leftEnd);
    // An IBAN: two capitals and two digits, then groups of capitals and digits up to the split.
    if (IBAN_START.test(run) && (isDigitCode(first) || (first >= 65 && first <= 90) || first === 32)) return true;
    return prefix !== undefined && prefix.test(run);
  };
}

const IBAN_START = /(?:^|[^A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9])* ?$/;

export function lineJoins(text: string, worth?: JoinWorth): JoinWindow[] {
  const out: JoinWindow[] = [];
  let done = 0;
  for (let i = 1; i < text.length - 1; i++) {
    const b = breakAt(text, i);
    if (!b) continue;
    if (i < done || !isRunChar(text.charCodeAt(i - 1)) || i + b >= text.length || !isRunChar(text.charCodeAt(i + b))) {
      i += b - 1;
      continue;
    }
    const start = runStart(text, i, text.charCodeAt(i + b));
    if (worth && !worth(text, start, i, text, i + b)) {
      i += b - 1;
      continue;
    }
    const chars: number[] = [];
    const seams: number[] = [];
    for (let k = start; k < i; k++) chars.push(k);
    let at = i;
    let len = b;
    for (;;) {
      seams.push(chars.length);
      const from = at + len;
      const end = runEnd(text, from, text.charCodeAt(at - 1));
      for (let k = from; k < end; k++) chars.push(k);
      const nb = end < text.length ? breakAt(text, end) : 0;
      if (!nb || end === from || end + nb >= text.length || !isRunChar(text.charCodeAt(end + nb)) || chars.length > 2 * SIDE_MAX) {
        done = end;
        break;
      }
      at = end;
      len = nb;
    }
    const offset = Int32Array.from(chars);
    out.push({ text: chars.map((k) => text[k]).join(''), seams, part: new Uint8Array(chars.length), offset });
    i = done - 1;
  }
  return out;
}

/** The join of the run that ends `a` and the run that starts `b` (two JSON strings), if both are runs. */
export function crossJoin(a: string, b: string, worth?: JoinWorth): JoinWindow | undefined {
  if (!a.length || !b.length || !isRunChar(a.charCodeAt(a.length - 1)) && a.charCodeAt(a.length - 1) !== 32) return undefined;
  const start = runStart(a, a.length, b.charCodeAt(0));
  if (start === a.length || (worth && !worth(a, start, a.length, b, 0))) return undefined;
  const end = runEnd(b, 0, a.charCodeAt(a.length - 1));
  if (end === 0) return undefined;
  const n = a.length - start + end;
  const part = new Uint8Array(n);
  const offset = new Int32Array(n);
  let k = 0;
  for (let i = start; i < a.length; i++, k++) offset[k] = i;
  for (let i = 0; i < end; i++, k++) {
    part[k] = 1;
    offset[k] = i;
  }
  return { text: a.slice(start) + b.slice(0, end), seams: [a.length - start], part, offset };
}

/** Whether a number-shaped value is written with at most one kind of separator (a joined number must be). */
export function oneSeparatorKind(value: string): boolean {
  let sep = -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isAlnum(c)) continue;
    if (sep >= 0 && c !== sep) return false;
    sep = c;
  }
  return true;
}

/**
 * Whether a joined number match text[at, end) is a whole run of the joined text: no separator with a
 * digit beyond it on either side, whatever the separators inside it (stricter than `inLongerRun`:
 * `000-169-5722` and `0824769844` do not join into the card-shaped `57220824769844`).
 */
export function wholeJoinedRun(text: string, at: number, end: number): boolean {
  const sep = (c: number): boolean => c === 32 || c === 45 || c === 46;
  if (at >= 2 && sep(text.charCodeAt(at - 1)) && isDigitCode(text.charCodeAt(at - 2))) return false;
  if (end + 1 < text.length && sep(text.charCodeAt(end)) && isDigitCode(text.charCodeAt(end + 1))) return false;
  return true;
}

/**
 * Whether a joined number match text[at, end) is two grouped halves: three digits (or capitals, in
 * an IBAN) on each side of a seam, and a separator on each side (one next to the seam counts for both). A number is joined from
 * two halves of one grouped number (`4111 1111` + `1111 1111`), not from a bare id that ends one text
 * and a date or version that starts the next.
 */
export function numberSplit(w: JoinWindow, at: number, end: number): boolean {
  const isSep = (c: number): boolean => c === 32 || c === 45 || c === 46;
  for (const seam of w.seams) {
    if (seam <= at || seam >= end) continue;
    let before = 0;
    let after = 0;
    let sepBefore = false;
    let sepAfter = false;
    // Digits, or capitals too (the body of an IBAN holds letters in some countries).
    for (let k = at; k < seam; k++) {
      const c = w.text.charCodeAt(k);
      if (isDigitCode(c) || (c >= 65 && c <= 90)) before++;
      else if (isSep(c)) sepBefore = true;
    }
    for (let k = seam; k < end; k++) {
      const c = w.text.charCodeAt(k);
      if (isDigitCode(c) || (c >= 65 && c <= 90)) after++;
      else if (isSep(c)) sepAfter = true;
    }
    const atSeam = isSep(w.text.charCodeAt(seam - 1)) || isSep(w.text.charCodeAt(seam));
    if (before >= 3 && after >= 3 && (atSeam || (sepBefore && sepAfter))) return true;
  }
  return false;
}

const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
