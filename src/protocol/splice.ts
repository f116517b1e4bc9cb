// Replaces one value inside a JSON message without parsing and serialising the rest. The HTTP
// front gives each stateless 2026 request an id of its own on the shared upstream and puts the
// client's back on the answer; a round trip through JSON.parse would change what the upstream
// reads (integers past 2^53, escapes, number spellings), so only the bytes of that one value move.
// One linear pass over a valid JSON text (it was parsed already), following a path of object keys.

import { CLOSE_ARR, CLOSE_OBJ, COLON, COMMA, OPEN_ARR, OPEN_OBJ, QUOTE, isSpace, stringEnd } from './json-bytes.js';

/** Index just past the JSON value that starts at `i`. */
function valueEnd(buf: Buffer, i: number): number {
  const c = buf[i];
  if (c === QUOTE) return stringEnd(buf, i) + 1;
  if (c === OPEN_OBJ || c === OPEN_ARR) {
    let depth = 0;
    for (let k = i; k < buf.length; k++) {
      const d = buf[k]!;
      if (d === QUOTE) k = stringEnd(buf, k);
      else if (d === OPEN_OBJ || d === OPEN_ARR) depth++;
      else if (d === CLOSE_OBJ || d === CLOSE_ARR) {
        if (--depth === 0) return k + 1;
      }
    }
    return buf.length;
  }
  let k = i;
  while (k < buf.length && buf[k] !== COMMA && buf[k] !== CLOSE_OBJ && buf[k] !== CLOSE_ARR && !isSpace(buf[k])) k++;
  return k;
}

/**
 * The byte range [start, end) of the value at `path` (object keys from the top), or undefined.
 * Keys are compared as JSON.parse reads them; with a duplicate key the last one counts, as there.
 */
export function locate(buf: Buffer, path: readonly string[]): [number, number] | undefined {
  let i = 0;
  while (isSpace(buf[i])) i++;
  let found: [number, number] | undefined;
  for (let depth = 0; depth < path.length; depth++) {
    if (buf[i] !== OPEN_OBJ) return undefined;
    const want = path[depth]!;
    found = undefined;
    let k = i + 1;
    const end = valueEnd(buf, i) - 1;
    while (k < end) {
      while (k < end && (isSpace(buf[k]) || buf[k] === COMMA)) k++;
      if (buf[k] !== QUOTE) break;
      const close = stringEnd(buf, k);
      const raw = buf.toString('utf8', k + 1, close);
      const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
      k = close + 1;
      while (isSpace(buf[k])) k++;
      if (buf[k] !== COLON) return undefined;
      k++;
      while (isSpace(buf[k])) k++;
      const vEnd = valueEnd(buf, k);
      if (key === want) found = [k, vEnd];
      k = vEnd;
    }
    if (!found) return undefined;
    i = found[0];
  }
  return found;
}

/** `buf` with the value at `path` replaced by `json` (a JSON text), or undefined when there is none. */
export function replaceValue(buf: Buffer, path: readonly string[], json: string): Buffer | undefined {
  const at = locate(buf, path);
  if (!at) return undefined;
  return Buffer.concat([buf.subarray(0, at[0]), Buffer.from(json), buf.subarray(at[1])]);
}
