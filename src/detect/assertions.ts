// Assertion removal, shared by the gate (over raw bytes) and the detector's prefilter (over text).
// Without `^ $ \b \B \A \z` a pattern matches every string the original matches somewhere in
// it, and keeps matching it when more text surrounds it: the property both prefilters rely on.

/** Remove assertions (`^ $ \b \B \A \z`) outside character classes: the result matches a superset. */
export function stripAssertions(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      const n = src[i + 1] ?? '';
      if (!inClass && (n === 'b' || n === 'B' || n === 'A' || n === 'z')) {
        i++;
        continue;
      }
      out += ch + n;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (src[i + 1] === '^') out += src[++i];
      if (src[i + 1] === ']') out += src[++i];
      continue;
    }
    if (ch === '^' || ch === '$') continue;
    out += ch;
  }
  return out;
}
