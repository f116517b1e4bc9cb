// Canonical forms of resource URIs and argument paths, so that a deny list cannot be dodged with
// `..`, percent-encoding (single or double), backslashes, duplicate slashes or scheme/host case.
// Where a value has more than one plausible reading (decoded once or twice, `?` as query or as
// part of a file name, NFKC or not) every reading is returned: a deny list refuses if ANY form
// matches, an allow list admits only if EVERY form matches.

/** A value longer than this cannot be checked and is refused (no length escape). */
export const MAX_VALUE_LENGTH = 4096;

export type UriCheck = { ok: true; forms: string[] } | { ok: false; reason: string };

/** How many rounds of percent-decoding we follow; deeper encoding is refused. */
export const MAX_DECODE_ROUNDS = 3;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.\-]*):/;
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const PCT_TRIPLET = /%[0-9A-Fa-f]{2}/;
const NON_ASCII = /[^\x00-\x7f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * One round of percent-decoding. strict: a `%` not followed by two hex digits makes the value
 * malformed (null). Lenient: such a `%` stays literal. Invalid UTF-8 is always null.
 */
export function percentDecodeOnce(s: string, strict: boolean): string | null {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      const h = i + 2 < s.length ? hexVal(s.charCodeAt(i + 1)) : -1;
      const l = h >= 0 ? hexVal(s.charCodeAt(i + 2)) : -1;
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
      if (strict) return null;
      bytes.push(37);
      continue;
    }
    if (c < 0x80) bytes.push(c);
    else {
      // Re-encode the non-ASCII code point as UTF-8 bytes.
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/**
 * Resolves `.` and `..` (never above the root), collapses duplicate slashes and treats
 * backslashes as separators. Keeps whether the path was absolute; a relative path keeps its
 * leading `..` segments unless `clamp` is set.
 */
export function resolveDots(path: string, clamp = true): string {
  const p = path.includes('\\') ? path.replace(/\\/g, '/') : path;
  const absolute = p.startsWith('/');
  const parts = p.split('/');
  const out: string[] = [];
  let trailing = false;
  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i]!;
    const last = i === parts.length - 1;
    if (seg === '' || seg === '.') {
      if (last && i > 0) trailing = true;
      continue;
    }
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute && !clamp) out.push('..');
      if (last) trailing = true;
      continue;
    }
    out.push(seg);
  }
  let r = (absolute ? '/' : '') + out.join('/');
  if (trailing && out.length > 0) r += '/';
  return r;
}

interface Parts {
  scheme: string;
  authority: string | null;
  path: string;
  /** `?query#fragment` as written, or ''. */
  tail: string;
}

function splitUri(raw: string, splitTail: boolean): Parts | null {
  const m = SCHEME.exec(raw);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  let rest = raw.slice(m[0].length).replace(/\\/g, '/');
  let tail = '';
  if (splitTail) {
    const q = rest.search(/[?#]/);
    if (q >= 0) {
      tail = rest.slice(q);
      rest = rest.slice(0, q);
    }
  }
  let authority: string | null = null;
  let path = rest;
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    path = slash < 0 ? '' : rest.slice(slash);
  }
  return { scheme, authority, path, tail };
}

function canonicalAuthority(scheme: string, authority: string | null): string | null {
  if (authority === null) return null;
  const a = authority.toLowerCase();
  if (scheme === 'file' && a === 'localhost') return '';
  return a;
}

function compose(scheme: string, authority: string | null, path: string, tail: string): string {
  if (authority !== null) {
    if (path === '') path = '/';
    return `${scheme}://${authority}${path}${tail}`;
  }
  return `${scheme}:${path}${tail}`;
}

/**
 * Every canonical reading of a resource URI, or a reason to refuse it (malformed, too long,
 * control characters, encoded more than MAX_DECODE_ROUNDS times).
 */
export function normalizeUri(raw: unknown, maxLength = MAX_VALUE_LENGTH): UriCheck {
  if (typeof raw !== 'string') return { ok: false, reason: 'the URI is missing or not a string' };
  if (raw.length === 0) return { ok: false, reason: 'the URI is empty' };
  if (raw.length > maxLength) return { ok: false, reason: `the URI is longer than ${maxLength} characters` };
  if (CONTROL.test(raw)) return { ok: false, reason: 'the URI contains control characters' };
  const parts = splitUri(raw, true);
  if (!parts) return { ok: false, reason: 'the URI has no scheme' };

  const forms: string[] = [];
  const add = (f: string) => {
    if (!forms.includes(f)) forms.push(f);
    if (NON_ASCII.test(f)) {
      const n = f.normalize('NFKC');
      if (!forms.includes(n)) forms.push(n);
    }
  };

  let { authority, path, tail } = parts;
  for (let round = 1; ; round++) {
    const strict = round === 1;
    const a = authority === null ? null : percentDecodeOnce(authority, strict);
    const p = percentDecodeOnce(path, strict);
    const t = percentDecodeOnce(tail, strict);
    if ((authority !== null && a === null) || p === null || t === null)
      return { ok: false, reason: 'the URI has a malformed percent-encoding' };
    if (CONTROL.test(p) || CONTROL.test(t) || (a !== null && CONTROL.test(a)))
      return { ok: false, reason: 'the URI contains encoded control characters' };
    const auth = canonicalAuthority(parts.scheme, a);
    if (auth !== null && auth.includes('/')) return { ok: false, reason: 'the URI has an encoded slash in its host' };
    const resolved = resolveDots(p);
    add(compose(parts.scheme, auth, resolved, t));
    // A server may not treat `?` or `#` as the end of the path: read it as part of the path too.
    if (t) add(compose(parts.scheme, auth, resolveDots(p + t.replace(/\\/g, '/')), ''));
    const again = p + t + (a ?? '');
    if (!PCT_TRIPLET.test(again)) break;
    if (round >= MAX_DECODE_ROUNDS) return { ok: false, reason: 'the URI is percent-encoded too many times' };
    authority = a;
    path = p;
    tail = t;
  }
  return { ok: true, forms };
}

/**
 * Canonical form of a URI glob from config: one decoding round, scheme and host lower-cased,
 * separators and dots resolved like a value. `?` is a wildcard here, never a query.
 * A pattern starting with `/` means `file://` + pattern; other scheme-less patterns stay as written.
 */
export function normalizeUriPattern(pattern: string): string {
  let p = pattern;
  if (p.startsWith('/')) p = 'file://' + p;
  const parts = splitUri(p, false);
  if (!parts) return resolveDots(percentDecodeOnce(p, false) ?? p);
  const auth = canonicalAuthority(parts.scheme, parts.authority === null ? null : (percentDecodeOnce(parts.authority, false) ?? parts.authority));
  const path = resolveDots(percentDecodeOnce(parts.path, false) ?? parts.path);
  return compose(parts.scheme, auth, path, '');
}

/** Canonical form of a path glob from config (argument rules). `file://` patterns become paths. */
export function normalizePathPattern(pattern: string): string {
  let p = pattern;
  if (/^file:/i.test(p)) {
    const parts = splitUri(p, false);
    if (parts) p = parts.path;
  }
  return resolveDots(p, false);
}

const HAS_URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.\-]+:/; // two or more letters: `C:` is a drive

/**
 * Every reading of a string tool argument as a path, for glob conditions. A URI gives its URI
 * forms plus, for `file:`, its path. A relative path gives its resolved relative form and the
 * form rooted at `/` with `..` clamped (`../../etc/passwd` -> `/etc/passwd`), since we do not
 * know the server's working directory. Percent-encoded paths also give their decoded forms.
 */
export function pathForms(raw: string, maxLength = MAX_VALUE_LENGTH): UriCheck {
  if (raw.length > maxLength) return { ok: false, reason: `the value is longer than ${maxLength} characters` };
  if (CONTROL.test(raw)) return { ok: false, reason: 'the value contains control characters' };
  if (HAS_URI_SCHEME.test(raw)) {
    const u = normalizeUri(raw, maxLength);
    if (!u.ok) return u;
    const forms = [...u.forms];
    for (const f of u.forms) {
      if (/^file:/.test(f)) {
        const parts = splitUri(f, false);
        if (parts && !forms.includes(parts.path)) forms.push(parts.path);
      }
    }
    return { ok: true, forms };
  }
  const forms: string[] = [];
  const addPath = (s: string) => {
    const variants = NON_ASCII.test(s) ? [s, s.normalize('NFKC')] : [s];
    for (const v of variants) {
      const rel = resolveDots(v, false);
      if (!forms.includes(rel)) forms.push(rel);
      if (!rel.startsWith('/')) {
        const rooted = '/' + resolveDots(v, true);
        const r = resolveDots(rooted);
        if (!forms.includes(r)) forms.push(r);
      }
    }
  };
  addPath(raw);
  let cur = raw;
  for (let round = 1; round <= MAX_DECODE_ROUNDS && PCT_TRIPLET.test(cur); round++) {
    const d = percentDecodeOnce(cur, false);
    if (d === null) return { ok: false, reason: 'the value has an invalid percent-encoding' };
    if (CONTROL.test(d)) return { ok: false, reason: 'the value contains encoded control characters' };
    addPath(d);
    cur = d;
  }
  return { ok: true, forms };
}
