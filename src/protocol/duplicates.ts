// Duplicate object keys make a message mean different things to different parsers: JSON.parse
// keeps the last value, other parsers the first. The proxy checks the parsed form and forwards the
// original bytes, so a message with a duplicate key could carry past inspection a value that an
// upstream then uses. Such messages are refused. One linear pass over the bytes of a valid JSON line.

import { CLOSE_ARR, CLOSE_OBJ, COLON, OPEN_ARR, OPEN_OBJ, QUOTE, isSpace, stringEnd } from './json-bytes.js';

/** True if some object in this (already valid) JSON text has the same key twice. */
export function hasDuplicateKeys(buf: Buffer): boolean {
  const stack: (Set<string> | null)[] = [];
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const c = buf[i]!;
    if (c === QUOTE) {
      const start = i + 1;
      const j = stringEnd(buf, i);
      if (j === n) return false; // unterminated: not valid JSON, the parser refused it already
      // A string directly followed by ':' (after whitespace) is a key of the innermost object.
      let k = j + 1;
      while (k < n && isSpace(buf[k])) k++;
      const top = stack[stack.length - 1];
      if (k < n && buf[k] === COLON && top) {
        // Keys are compared as JSON.parse sees them, so "a" and "\u0061" are the same key.
        const raw = buf.toString('utf8', start, j);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.has(key)) return true;
        top.add(key);
      }
      i = j + 1;
      continue;
    }
    if (c === OPEN_OBJ) stack.push(new Set());
    else if (c === OPEN_ARR) stack.push(null);
    else if (c === CLOSE_OBJ || c === CLOSE_ARR) stack.pop();
    i++;
  }
  return false;
}
