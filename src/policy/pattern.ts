// Pattern lists from policy config (exact strings, globs, RE2 regexes), compiled once and
// matched against values that the caller has already normalised (uri.ts, normalizeName here).
// User-supplied patterns only ever run on RE2 (linear time); V8 RegExp is used only on our own
// constant patterns below.
import RE2 from 're2';
import { MAX_VALUE_LENGTH, normalizePathPattern, normalizeUriPattern, normalizeUri } from './uri.js';

export { MAX_VALUE_LENGTH };

/**
 * What a list of patterns is matched against:
 * - `name`: tool and prompt names. `*` matches any run of characters except `/`, `**` anything.
 * - `uri`:  resource URIs. `*` matches within one `/` segment, `**` any depth; a pattern that
 *           starts with `/` is shorthand for `file://` + pattern. Regexes only as `re:...` here,
 *           because `/.../` would be ambiguous with a path.
 * - `path`: file-system paths in tool arguments; same glob rules as `uri`.
 */
export type PatternKind = 'name' | 'uri' | 'path';

export interface CompileOptions {
  kind: PatternKind;
  /** Deny lists are case-insensitive so that `Write_File` cannot dodge `write_file`. */
  caseInsensitive: boolean;
  /** Config location of the list, used in error messages: `permissions.denied_tools`. */
  label: string;
}

export interface PatternSet {
  readonly label: string;
  readonly kind: PatternKind;
  readonly caseInsensitive: boolean;
  readonly patterns: readonly string[];
  /** Index of a pattern matching the normalised value, or -1. */
  matchIndex(value: string): number;
  /** True when the list certainly matches every value (`**`); used to hide a whole capability. */
  readonly matchesEverything: boolean;
}

export class PatternCompileError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'PatternCompileError';
  }
}

type ParsedPattern =
  | { form: 'exact'; text: string }
  | { form: 'glob'; text: string }
  | { form: 'regex'; source: string; flags: string };

const REGEX_FLAGS = /^[imsu]*$/;

/** Splits a pattern string into its form. `re:` always means RE2; `/src/flags` only for names. */
export function parsePattern(pattern: string, kind: PatternKind): ParsedPattern {
  if (pattern.startsWith('re:')) return { form: 'regex', source: pattern.slice(3), flags: '' };
  if (kind === 'name' && pattern.length >= 2 && pattern[0] === '/') {
    const end = pattern.lastIndexOf('/');
    if (end > 0) {
      const flags = pattern.slice(end + 1);
      if (REGEX_FLAGS.test(flags)) return { form: 'regex', source: pattern.slice(1, end), flags };
    }
  }
  if (pattern.includes('*') || pattern.includes('?')) return { form: 'glob', text: pattern };
  return { form: 'exact', text: pattern };
}

/** True when the pattern is a plain literal (used by the floor merge to intersect lists exactly). */
export function isLiteralPattern(pattern: string, kind: PatternKind): boolean {
  return parsePattern(pattern, kind).form === 'exact';
}

const RE_META = /[\\^$.|?*+()[\]{}\/]/g;
function escapeRe(s: string): string {
  return s.replace(RE_META, '\\$&');
}

/** Glob to an anchored RE2 source. `**` any depth, `*` within a segment, `?` one character. */
export function globToRe2Source(glob: string): string {
  let out = '';
  let i = 0;
  let literal = '';
  const flush = () => {
    if (literal) out += escapeRe(literal);
    literal = '';
  };
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*') {
      flush();
      if (glob[i + 1] === '*') {
        // `/**` at the end also matches the directory itself; `**/` matches zero or more segments.
        const atEnd = i + 2 === glob.length;
        const followedBySlash = glob[i + 2] === '/';
        if (atEnd && out.endsWith('\\/')) {
          out = out.slice(0, -2) + '(?:/.*)?';
        } else if (followedBySlash) {
          out += '(?:.*/)?';
          i += 1; // swallow the slash too
        } else {
          out += '.*';
        }
        i += 2;
        while (glob[i] === '*') i++;
        continue;
      }
      out += '[^/]*';
      i++;
      continue;
    }
    if (c === '?') {
      flush();
      out += '[^/]';
      i++;
      continue;
    }
    literal += c;
    i++;
  }
  flush();
  return `^(?:${out})$`;
}

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** NFKC unless the string is printable ASCII (already NFKC; skips an ICU call on the hot path). */
export function nfkc(s: string): string {
  return ASCII_PRINTABLE.test(s) ? s : s.normalize('NFKC');
}

// Controls, format characters (zero-width, bidi), lone surrogates, line/paragraph separators.
const NAME_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
// Stripped for deny lists: format characters, whitespace, and the other default-ignorable code points
// (the combining grapheme joiner, Hangul fillers, variation selectors) that render as nothing.
const NAME_INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\s]/gu;

export type NameCheck = { ok: true; value: string; forDeny: string[] } | { ok: false; reason: string };

/**
 * The one form of a name that its case, width and invisible variants share (NFKC, lower case,
 * invisible characters and whitespace removed): what a per-tool rate limit counts under, so that
 * `Echo`, `ｅｃｈｏ`, `echo ` and `ec\u200bho` all draw on the limit of `echo`.
 */
export function nameKey(name: string): string {
  const n = nfkc(name);
  return (ASCII_PRINTABLE.test(n) && !n.includes(' ') ? n : n.replace(NAME_INVISIBLE, '')).toLowerCase();
}

/**
 * Normalises a tool or prompt name. `value` (NFKC) is what allow lists see; `forDeny` holds every
 * form a deny list must also see (NFKC and with invisible characters removed).
 */
export function normalizeName(raw: unknown, what: string): NameCheck {
  if (typeof raw !== 'string') return { ok: false, reason: `${what} name is missing or not a string` };
  if (raw.length === 0) return { ok: false, reason: `${what} name is empty` };
  if (raw.length > MAX_VALUE_LENGTH)
    return { ok: false, reason: `${what} name is longer than ${MAX_VALUE_LENGTH} characters` };
  if (ASCII_PRINTABLE.test(raw)) {
    if (raw.includes(' ')) return { ok: true, value: raw, forDeny: [raw, raw.replace(NAME_INVISIBLE, '')] };
    return { ok: true, value: raw, forDeny: [raw] };
  }
  if (NAME_FORBIDDEN.test(raw)) return { ok: false, reason: `${what} name contains control or invisible characters` };
  const n = raw.normalize('NFKC');
  const stripped = n.replace(NAME_INVISIBLE, '');
  const forDeny = stripped === n ? [n] : [n, stripped];
  return { ok: true, value: n, forDeny };
}

/** A value shown in an error message: quoted, escaped, and cut short (never echo huge values). */
export function quote(value: unknown, max = 80): string {
  let s = typeof value === 'string' ? value : String(value);
  if (s.length > max) s = s.slice(0, max) + '…';
  return JSON.stringify(s);
}

function normalizePatternText(text: string, kind: PatternKind, form: 'exact' | 'glob', where: string): string[] {
  if (kind === 'name') return [nfkc(text)];
  if (kind === 'uri') {
    if (form === 'glob') return [normalizeUriPattern(nfkc(text))];
    const u = normalizeUri(text.startsWith('/') ? 'file://' + text : text);
    if (!u.ok) throw new PatternCompileError(where, `not a valid URI (${u.reason})`);
    return u.forms;
  }
  return [normalizePathPattern(nfkc(text))];
}

/** Compiles a pattern list. Throws PatternCompileError naming `label[i]` for a bad pattern. */
export function compilePatterns(patterns: readonly string[], opts: CompileOptions): PatternSet {
  const exact = new Map<string, number>();
  const res: RE2[] = [];
  const setSources: string[] = [];
  const reIndex: number[] = [];
  let matchesEverything = false;
  const ci = opts.caseInsensitive;
  patterns.forEach((pattern, i) => {
    const where = `${opts.label}[${i}]`;
    if (typeof pattern !== 'string' || pattern.length === 0) throw new PatternCompileError(where, 'empty pattern');
    if (pattern.length > MAX_VALUE_LENGTH) throw new PatternCompileError(where, 'pattern too long');
    const p = parsePattern(pattern, opts.kind);
    if (p.form === 'regex') {
      let flags = p.flags;
      if (ci && !flags.includes('i')) flags += 'i';
      try {
        res.push(new RE2(p.source, flags));
        const inline = flags.replace('u', '');
        setSources.push(inline ? `(?${inline}:${p.source})` : p.source);
      } catch (e) {
        throw new PatternCompileError(where, `RE2 cannot compile this regex: ${(e as Error).message}`);
      }
      reIndex.push(i);
      return;
    }
    const texts = normalizePatternText(p.text, opts.kind, p.form, where);
    for (const t of texts) {
      if (p.form === 'exact') {
        const key = ci ? t.toLowerCase() : t;
        if (!exact.has(key)) exact.set(key, i);
      } else {
        if (t === '**' || (opts.kind !== 'name' && /^\*\*(\/\*\*)*$/.test(t))) matchesEverything = true;
        try {
          const src = globToRe2Source(t);
          res.push(new RE2(src, ci ? 'i' : ''));
          setSources.push(ci ? `(?i:${src})` : src);
        } catch (e) {
          throw new PatternCompileError(where, `glob cannot be compiled: ${(e as Error).message}`);
        }
        reIndex.push(i);
      }
    }
  });
  const n = res.length;
  const hasExact = exact.size > 0;
  // re2 converts a JS string to UTF-8 on every call (~0.6 µs for a fresh string); one Buffer
  // per value and one RE2.Set pass over it is several times cheaper when there are many patterns.
  const set = n >= 3 ? new RE2.Set(setSources, { anchor: 'unanchored' }) : undefined;
  return {
    label: opts.label,
    kind: opts.kind,
    caseInsensitive: ci,
    patterns,
    matchesEverything,
    matchIndex(value: string): number {
      if (hasExact) {
        const hit = exact.get(ci ? value.toLowerCase() : value);
        if (hit !== undefined) return hit;
      }
      if (n === 0) return -1;
      const buf = Buffer.from(value, 'utf8');
      if (set && !set.test(buf)) return -1;
      for (let k = 0; k < n; k++) if (res[k]!.test(buf)) return reIndex[k]!;
      return -1;
    },
  };
}
