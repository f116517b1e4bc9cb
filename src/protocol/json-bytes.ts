// Byte-level reading of JSON text that was already parsed once (so it is valid): the characters
// that structure it, and where a string ends. Shared by the passes that read a message's bytes
// without parsing it again (duplicate keys, splicing one value).

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_OBJ = 0x7b;
export const CLOSE_OBJ = 0x7d;
export const OPEN_ARR = 0x5b;
export const CLOSE_ARR = 0x5d;
export const COLON = 0x3a;
export const COMMA = 0x2c;

export function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Index of the closing quote of the string whose opening quote is at `open` (buf.length when it
 * never closes): the first quote after it not escaped by an odd run of backslashes, found natively
 * (most of a message's bytes are inside strings).
 */
export function stringEnd(buf: Buffer, open: number): number {
  let j = open + 1;
  for (;;) {
    j = buf.indexOf(QUOTE, j);
    if (j === -1) return buf.length;
    let b = j - 1;
    while (b > open && buf[b] === BACKSLASH) b--;
    if ((j - 1 - b) % 2 === 0) return j;
    j++;
  }
}
