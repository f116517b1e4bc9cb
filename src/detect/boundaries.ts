// Where a number-shaped value may start and end, beyond what a pattern's consumed boundaries can say
// (RE2 has no look-around): a value is a whole run of digits, never a piece of a longer run written
// with the same separators, and never a strict part of a digest or UUID. Pure checks on the scanned
// text and the value's offsets in it, applied by the scanner to every rule that asks for them.

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHexChar = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isHexLetter = (c: number): boolean => (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/**
 * Whether text[start, end) (hex digits and dashes) is a strict part of a digest or UUID: a run of
 * 24 or more hex digits and dashes with at least 6 hex letters (`cafe-4111-1111-1111-1111` has 4).
 */
export function inHexRun(text: string, start: number, end: number): boolean {
  const ok = (c: number): boolean => isHexChar(c) || c === 45;
  for (let i = start; i < end; i++) if (!ok(text.charCodeAt(i))) return false;
  let a = start;
  while (a > 0 && ok(text.charCodeAt(a - 1))) a--;
  let b = end;
  while (b < text.length && ok(text.charCodeAt(b))) b++;
  if (b - a < 24 || b - a === end - start) return false;
  let letters = 0;
  for (let i = a; i < b; i++) if (isHexLetter(text.charCodeAt(i)) && ++letters >= 6) return true;
  return false;
}

/**
 * Whether text[start, end), a number written with separators, is a piece of a longer run of digits
 * written with the same separators: the character before it is one of its separators with a digit
 * before that, or the character after it is one with a digit after that. `order 1234 5678 9012 3456`
 * holds a Luhn-valid 12-digit Maestro shape (`5678 9012 3456`) and a 19-digit group holds 16-digit
 * prefixes: neither piece is a card, the whole run is the number. A value written without separators
 * is bounded by any non-digit (`4111111111111111 5555555555554444` is two cards).
 */
export function inLongerRun(text: string, start: number, end: number): boolean {
  let seps = '';
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c) && seps.indexOf(text[i]!) < 0) seps += text[i];
  }
  if (seps === '') return false;
  if (start >= 2 && seps.indexOf(text[start - 1]!) >= 0 && isDigit(text.charCodeAt(start - 2))) return true;
  if (end + 1 < text.length && seps.indexOf(text[end]!) >= 0 && isDigit(text.charCodeAt(end + 1))) return true;
  return false;
}
