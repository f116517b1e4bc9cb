// Hidden text in what an agent reads but a person reviewing it does not see: a tool description
// with a zero-width or bidi character, an ANSI escape that a terminal swallows, tag characters or
// variation selectors that carry a second message, an HTML comment that a Markdown view drops, or
// a run of blank space that pushes an instruction out of the visible part. Pure and linear; the
// pinning stage quarantines a definition with any of these (src/daemon/pinning.ts).

export interface HiddenFinding {
  /** JSON path of the string, e.g. `description` or `inputSchema.properties.path.description`. */
  path: string;
  /** What was found, for a person: `U+200B ZERO WIDTH SPACE`, `ANSI escape`, `HTML comment`. */
  what: string;
}

/** Findings kept per definition: enough to say what is wrong, bounded for hostile input. */
export const MAX_FINDINGS = 16;
/** A run of this many whitespace characters in one string hides what follows it. */
export const WHITESPACE_RUN = 64;

// Everything that is not printable ASCII, tab, LF or CR needs a closer look.
const NOT_PLAIN = /[^\x20-\x7e\t\n\r]/;
const WS_LONG = /[ \t\n\r]{64}/;
// Controls (C0 and C1 but tab, LF, CR), format characters (zero-width, bidi, tags, soft hyphen),
// private use, the other default-ignorable code points (variation selectors, Hangul fillers, the
// combining grapheme joiner), line and paragraph separators, lone surrogates.
const HIDDEN_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\p{Co}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\p{Cs}]/gu;
const WS_RUN = new RegExp(`[ \\t\\n\\r]{${WHITESPACE_RUN},}`, 'g');

const NAMES: Record<number, string> = {
  0x00ad: 'SOFT HYPHEN',
  0x034f: 'COMBINING GRAPHEME JOINER',
  0x061c: 'ARABIC LETTER MARK',
  0x180e: 'MONGOLIAN VOWEL SEPARATOR',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2060: 'WORD JOINER',
  0x2061: 'FUNCTION APPLICATION',
  0x2062: 'INVISIBLE TIMES',
  0x2063: 'INVISIBLE SEPARATOR',
  0x2064: 'INVISIBLE PLUS',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
  0x3164: 'HANGUL FILLER',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE',
  0xffa0: 'HALFWIDTH HANGUL FILLER',
};

export function codePointName(cp: number): string {
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  const name = NAMES[cp];
  if (name) return `${hex} ${name}`;
  if (cp === 0x1b) return `${hex} ESCAPE (ANSI escape sequence)`;
  if (cp === 0x9b) return `${hex} CONTROL SEQUENCE INTRODUCER (ANSI escape sequence)`;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `${hex} control character`;
  if (cp >= 0xe0000 && cp <= 0xe007f) return `${hex} TAG character`;
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef)) return `${hex} VARIATION SELECTOR`;
  if ((cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000) return `${hex} private-use character`;
  if (cp >= 0xd800 && cp <= 0xdfff) return `${hex} lone surrogate`;
  return `${hex} invisible character`;
}

/** The cheap test, run on every string: most definitions are plain text and stop here. */
function needsLook(s: string): boolean {
  return NOT_PLAIN.test(s) || s.includes('<!--') || (s.length >= WHITESPACE_RUN && WS_LONG.test(s));
}

/** Whether a JSON value has hidden text anywhere (one walk, no allocation). */
export function hasHiddenText(value: unknown): boolean {
  if (typeof value === 'string') return needsLook(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasHiddenText(value[i])) return true;
    return false;
  }
  for (const k in value) {
    if (needsLook(k) || hasHiddenText((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/** Hidden text in one string, or none. */
export function hiddenInString(s: string, path: string, out: HiddenFinding[] = []): HiddenFinding[] {
  if (!needsLook(s)) return out;
  const seen = new Set<string>();
  const add = (what: string) => {
    if (out.length >= MAX_FINDINGS || seen.has(what)) return;
    seen.add(what);
    out.push({ path, what });
  };
  for (const m of s.matchAll(HIDDEN_CHAR)) {
    add(codePointName(m[0].codePointAt(0)!));
    if (out.length >= MAX_FINDINGS) return out;
  }
  if (s.includes('<!--')) add('HTML comment (hidden when rendered)');
  for (const m of s.matchAll(WS_RUN)) {
    add(`a run of ${m[0].length} whitespace characters (pushes what follows out of view)`);
    break;
  }
  return out;
}

/** Hidden text anywhere in a JSON value: every string and every object key, depth first. */
export function findHiddenText(value: unknown): HiddenFinding[] {
  return hasHiddenText(value) ? collect(value, '', []) : [];
}

function collect(value: unknown, path: string, out: HiddenFinding[]): HiddenFinding[] {
  if (out.length >= MAX_FINDINGS) return out;
  if (typeof value === 'string') return hiddenInString(value, path || '(value)', out);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && out.length < MAX_FINDINGS; i++) collect(value[i], `${path}[${i}]`, out);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      hiddenInString(k, `${p} (key)`, out);
      collect(v, p, out);
      if (out.length >= MAX_FINDINGS) break;
    }
  }
  return out;
}

/** A string with its hidden characters made visible (`⟨U+200B⟩`), for a diff a person reads. */
export function revealHidden(s: string): string {
  if (!NOT_PLAIN.test(s)) return s;
  return s.replace(HIDDEN_CHAR, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);
}
