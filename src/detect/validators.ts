// Built-in validators: checksums and structure checks applied to a rule's candidate match.
// Pure functions of the matched text; a rule (or a custom type from config) names one by key.
import { isIPv6 } from 'node:net';
import { isValidPhoneNumber, type CountryCode } from 'libphonenumber-js/max';
import { TOKEN_VALIDATORS } from './catalogue/checksums.js';

export type Validator = (match: string) => boolean;

const digitsOf = (s: string): string => s.replace(/[^0-9]/g, '');

export function luhn(s: string): boolean {
  const d = digitsOf(s);
  if (d.length < 2) return false;
  let sum = 0;
  let dbl = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let n = d.charCodeAt(i) - 48;
    if (dbl) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** Payment card: 12-19 digits, not all one digit, Luhn. */
export function card(s: string): boolean {
  const d = digitsOf(s);
  if (d.length < 12 || d.length > 19) return false;
  if (/^(\d)\1+$/.test(d)) return false;
  return luhn(d);
}

// ISO 13616 lengths per country (main SEPA and common others).
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22,
  GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31,
  MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24,
  SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** IBAN: known country length, mod-97 == 1. Trailing characters past the country length are ignored. */
export function iban(s: string): boolean {
  const c = s.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  const len = IBAN_LENGTHS[c.slice(0, 2)];
  if (!len || c.length < len) return false;
  const v = c.slice(0, len);
  const moved = v.slice(4) + v.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const part = code >= 65 ? String(code - 55) : ch;
    for (const p of part) rem = (rem * 10 + (p.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** UK NHS number: 10 digits, mod 11 weighted check digit. */
export function nhs(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 10 || /^(\d)\1+$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10) return false;
  return check === d.charCodeAt(9) - 48;
}

/** Canadian SIN: 9 digits, Luhn, first digit not 0 or 8. */
export function sin(s: string): boolean {
  const d = digitsOf(s);
  return d.length === 9 && d[0] !== '8' && !/^(\d)\1+$/.test(d) && luhn(d);
}

/** US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000; not a known advertising number. */
export function ssn(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 9) return false;
  const area = d.slice(0, 3), group = d.slice(3, 5), serial = d.slice(5);
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (group === '00' || serial === '0000') return false;
  return true;
}

/** US ITIN: 9xx-[50-65,70-88,90-92,94-99]-xxxx. */
export function itin(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 9 || d[0] !== '9') return false;
  const g = Number(d.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

/** UK National Insurance number: prefix rules (HMRC). */
export function nino(s: string): boolean {
  const c = s.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{6}[A-D]$/.test(c)) return false;
  const p = c.slice(0, 2);
  if (/[DFIQUV]/.test(p) || p[1] === 'O') return false;
  return !['BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ'].includes(p);
}

/** Spanish DNI / NIE: control letter = table[number mod 23]. */
export function dni(s: string): boolean {
  const c = s.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  const m = /^([XYZ]?)(\d{7,8})([A-Z])$/.exec(c);
  if (!m) return false;
  const prefix = m[1] ? String('XYZ'.indexOf(m[1])) : '';
  const num = Number(prefix + m[2]);
  return 'TRWAGMYFPDXBNJZSQVHLCKE'[num % 23] === m[3];
}

/** German tax id (Steuerliche Identifikationsnummer): 11 digits, ISO 7064 mod 11,10. */
export function deTaxId(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 11 || d[0] === '0') return false;
  const counts = new Map<string, number>();
  for (const ch of d.slice(0, 10)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const repeats = [...counts.values()].filter((n) => n > 1);
  if (repeats.length !== 1 || repeats[0]! > 3) return false;
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (d.charCodeAt(i) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  let check = 11 - product;
  if (check === 10) check = 0;
  return check === d.charCodeAt(10) - 48;
}

/** Dutch BSN: 9 digits, "11-proef". */
export function bsn(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 9 || /^(\d)\1+$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (d.charCodeAt(i) - 48) * (9 - i);
  sum -= d.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

/** Australian TFN: 9 digits, weighted mod 11. */
export function tfn(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 9) return false;
  const w = [1, 4, 3, 7, 5, 8, 6, 9, 10];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * w[i]!;
  return sum % 11 === 0;
}

const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
/** Indian Aadhaar: 12 digits, first 2-9, Verhoeff. */
export function aadhaar(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 12 || d[0] === '0' || d[0] === '1') return false;
  let c = 0;
  const rev = [...d].reverse();
  for (let i = 0; i < rev.length; i++) c = VERHOEFF_D[c]![VERHOEFF_P[i % 8]![Number(rev[i])]!]!;
  return c === 0;
}

/** Brazilian CPF: two mod-11 check digits. */
export function cpf(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 11 || /^(\d)\1+$/.test(d)) return false;
  const dig = (n: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (d.charCodeAt(i) - 48) * (n + 1 - i);
    const r = (sum * 10) % 11;
    return r === 10 ? 0 : r;
  };
  return dig(9) === d.charCodeAt(9) - 48 && dig(10) === d.charCodeAt(10) - 48;
}

const PHONE_COUNTRIES: CountryCode[] = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'NL', 'IN', 'AU', 'BR', 'JP'];
/** Phone number as libphonenumber-js (full metadata) understands it. */
export function phone(s: string): boolean {
  const t = s.trim();
  const d = digitsOf(t);
  if (d.length < 7 || d.length > 15) return false;
  if (t.startsWith('+')) return isValidPhoneNumber(t);
  return PHONE_COUNTRIES.some((c) => isValidPhoneNumber(t, c));
}

/** North American number only (for rules whose format is North American). */
export function phoneUs(s: string): boolean {
  const d = digitsOf(s);
  return (d.length === 10 || (d.length === 11 && d[0] === '1')) && (isValidPhoneNumber(s, 'US') || isValidPhoneNumber(s, 'CA'));
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (!s) return 0;
  const freq = new Map<string, number>();
  for (const ch of s) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let h = 0;
  const n = s.length;
  for (const c of freq.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

function b64urlJson(part: string): any {
  try {
    const txt = Buffer.from(part, 'base64url').toString('utf8');
    const v = JSON.parse(txt);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
/** JWT / JWS: base64url JSON header with a string `alg`, base64url JSON payload. */
export function jwt(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 3) return false;
  const h = b64urlJson(parts[0]!);
  if (!h || typeof h.alg !== 'string') return false;
  return b64urlJson(parts[1]!) !== undefined;
}

const PLACEHOLDER_EXACT = new Set(['pass', 'pwd', 'pw', 'user', 'admin', 'root', 'guest', 'foo', 'bar', 'baz', 'qwerty', '1234', '12345', '123456', 'abc', 'abc123', 'letmein']);
const PLACEHOLDER = /^(?:x+|\*+|\.+|-+|_+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|%[A-Za-z_]+%|(?:your|my|the|some|example|sample|dummy|fake|test|changeme|placeholder|password|passwd|secret|redacted|null|none|undefined|true|false)[-_a-z0-9]*)$/i;

/** Credential value: not a placeholder, not an identifier or code expression. */
export function secretValue(s: string): boolean {
  const v = s.replace(/^["'`]+|["'`,;]+$/g, '');
  if (v.length < 8 || PLACEHOLDER.test(v) || PLACEHOLDER_EXACT.has(v.toLowerCase())) return false;
  if (/[()[\]{}<>]|=>|\s/.test(v)) return false;
  if (/^(?:process\.env|os\.environ|env\.|self\.|this\.|config\.|settings\.|import\.meta)/i.test(v)) return false;
  const hasLetter = /[A-Za-z]/.test(v), hasDigit = /\d/.test(v), hasSym = /[^A-Za-z0-9]/.test(v);
  if (!hasDigit && !hasSym) return v.length >= 16 && /[A-Z]/.test(v) && /[a-z]/.test(v) && entropy(v) >= 3.5;
  if (!hasDigit && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v)) return false; // dotted identifier
  return hasLetter && entropy(v) >= 3.0;
}

/** Password inside a URL: not a placeholder. */
export function urlPassword(s: string): boolean {
  const v = decodeSafe(s);
  return v.length >= 3 && !PLACEHOLDER_EXACT.has(v.toLowerCase()) && !PLACEHOLDER.test(v) && !/^[*x.]+$/i.test(v);
}
function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const FILE_TLDS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bmp', 'ico', 'js', 'ts', 'mjs', 'cjs', 'css', 'json', 'map', 'txt', 'md', 'html', 'py', 'rb', 'go', 'rs', 'java', 'lock', 'yaml', 'yml', 'xml', 'zip', 'gz', 'tgz', 'pdf']);
export function email(s: string): boolean {
  const at = s.lastIndexOf('@');
  if (at < 1) return false;
  const domain = s.slice(at + 1).toLowerCase();
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  if (FILE_TLDS.has(tld)) return false;
  const local = s.slice(0, at);
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  return domain.split('.').every((l) => l.length > 0 && l.length <= 63 && !l.startsWith('-') && !l.endsWith('-'));
}

export function ipv4(s: string): boolean {
  const o = s.split('.').map(Number);
  if (o.length !== 4 || o.some((n) => !(n >= 0 && n <= 255))) return false;
  if (o[0] === 0 || o[0] === 127 || o.every((n) => n === 255)) return false;
  return true;
}
export function ipv6(s: string): boolean {
  const base = s.split('%')[0]!;
  if (!isIPv6(base)) return false;
  const groups = base.split(':').filter((g) => g.length > 0);
  return groups.length >= 3;
}

/** US ABA routing number: weights 3,7,1. */
export function aba(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 9 || /^0+$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * [3, 7, 1][i % 3]!;
  return sum % 10 === 0;
}

export const VALIDATORS: Readonly<Record<string, Validator>> = {
  luhn, card, iban, mod97: iban, nhs, sin, ssn, itin, nino, dni, de_tax_id: deTaxId, bsn, tfn, aadhaar, cpf,
  aba, phone, phone_us: phoneUs, jwt, secret: secretValue, url_password: urlPassword, email, ipv4, ipv6,
  ...TOKEN_VALIDATORS,
};
