// Checksums and structure checks of vendor tokens, from each vendor's public format: the CRC32 that
// GitHub and npm tokens end with (base62), Grafana service-account and Atlassian tokens (hex), the
// bech32 checksum of age keys, and tokens whose payload is base64 of JSON or of a numeric id. A rule
// names one by key (validators.ts registers them); the builders below make valid examples.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib) of the UTF-8 bytes of `s`. */
export function crc32(s: string | Uint8Array): number {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  let c = 0xffffffff;
  for (const b of bytes) c = (c >>> 8) ^ CRC_TABLE[(c ^ b) & 0xff]!;
  return (c ^ 0xffffffff) >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** `n` in base62 (0-9, A-Z, a-z), left-padded with 0 to `width`. */
export function base62(n: number, width: number): string {
  let out = '';
  while (n > 0) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(width, '0');
}

/**
 * GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens: after the prefix, 30
 * random base62 characters and the CRC32 of those 30 in base62, 6 characters.
 */
export function githubChecksum(value: string): boolean {
  const tail = value.slice(value.indexOf('_') + 1);
  if (tail.length !== 36) return false;
  return base62(crc32(tail.slice(0, 30)), 6) === tail.slice(30);
}
/** A GitHub-style token: `prefix_` + `random` (30 base62 characters) + its checksum. */
export const withGithubChecksum = (prefix: string, random: string): string => `${prefix}_${random}${base62(crc32(random), 6)}`;

/** Grafana service-account token `glsa_<32>_<8 hex>`: the hex is the CRC32 of `glsa_<32>`, little-endian. */
export function grafanaChecksum(value: string): boolean {
  const m = /^(glsa_[A-Za-z0-9]{32})_([0-9A-Fa-f]{8})$/.exec(value);
  if (!m) return false;
  return Buffer.from(m[2]!, 'hex').readUInt32LE(0) === crc32(m[1]!);
}
export function withGrafanaChecksum(body32: string): string {
  const head = `glsa_${body32}`;
  const b = Buffer.alloc(4);
  b.writeUInt32LE(crc32(head), 0);
  return `${head}_${b.toString('hex')}`;
}

/** Atlassian cloud tokens (`ATATT3…`, `ATCTT3…`, Bitbucket `ATBB…`): the last 8 characters are the hex CRC32 of the rest. */
export function atlassianChecksum(value: string): boolean {
  const hex = value.slice(-8);
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return false;
  return parseInt(hex, 16) === crc32(value.slice(0, -8));
}
export const withAtlassianChecksum = (head: string): string => head + crc32(head).toString(16).toUpperCase().padStart(8, '0');

function b64decode(s: string): Buffer | undefined {
  const t = s.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

/**
 * Atlassian Data Center tokens (Jira and Confluence personal access tokens, Bitbucket `BBDC-`):
 * base64 of `<numeric id>:<random bytes>`.
 */
export function atlassianIdToken(value: string): boolean {
  const v = value.startsWith('BBDC-') ? value.slice(5) : value;
  const d = b64decode(v);
  if (!d) return false;
  const colon = d.indexOf(0x3a);
  if (colon < 1 || colon > 20 || d.length - colon - 1 < 12) return false;
  for (let i = 0; i < colon; i++) if (d[i]! < 0x30 || d[i]! > 0x39) return false;
  return d[0] !== 0x30;
}

/** A Data Center token for examples: base64 of a 12-digit id, `:` and 20 bytes derived from `seed`. */
export function atlassianIdTokenSample(seed: string): string {
  let h = 2166136261;
  const bytes: number[] = [];
  for (let i = 0; i < 32; i++) {
    for (const c of seed + i) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    bytes.push(h & 0xff);
  }
  const id = String(100000000000 + (h % 899999999999));
  return Buffer.concat([Buffer.from(id + ':'), Buffer.from(bytes.slice(0, 20))]).toString('base64');
}

/** The value with its last character changed (a broken checksum). */
export const breakLast = (s: string): string => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
function polymod(values: number[]): number {
  const G = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= G[i]!;
  }
  return chk >>> 0;
}
const hrpExpand = (hrp: string): number[] => [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));

/** Bech32 (BIP 173) string, one case throughout, with a valid checksum. */
export function bech32(value: string): boolean {
  if (value !== value.toLowerCase() && value !== value.toUpperCase()) return false;
  const s = value.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || s.length - sep - 1 < 6) return false;
  const data: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const v = BECH32.indexOf(c);
    if (v < 0) return false;
    data.push(v);
  }
  return polymod([...hrpExpand(s.slice(0, sep)), ...data]) === 1;
}
/** Bech32 encoding of `bytes` under `hrp` (lower case). */
export function bech32Encode(hrp: string, bytes: Uint8Array): string {
  const data: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      data.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) data.push((acc << (5 - bits)) & 31);
  const pm = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ 1;
  for (let i = 0; i < 6; i++) data.push((pm >>> (5 * (5 - i))) & 31);
  return `${hrp}1${data.map((d) => BECH32[d]).join('')}`;
}

/** Discord bot token: its first part is the base64 of the bot's numeric id (a snowflake, 17 to 20 digits). */
export function discordBotToken(value: string): boolean {
  const d = b64decode(value.slice(0, value.indexOf('.')));
  return d !== undefined && /^[1-9][0-9]{16,19}$/.test(d.toString('latin1'));
}

function jsonObject(b64: string): Record<string, unknown> | undefined {
  const d = b64decode(b64.replace(/=+$/, ''));
  if (!d) return undefined;
  try {
    const v = JSON.parse(d.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
/** Grafana Cloud token `glc_<base64 JSON>` (its payload names the org, the key and the region). */
export const grafanaCloudToken = (v: string): boolean => jsonObject(v.slice(4)) !== undefined;
/** Grafana API key `eyJrIjoi…`: base64 of a JSON object with `k`. */
export const grafanaApiKey = (v: string): boolean => typeof jsonObject(v)?.k === 'string';
/** Sentry organisation token `sntrys_<base64 JSON with iat>_<secret>`. */
export const sentryOrgToken = (v: string): boolean => jsonObject(v.slice(7, v.lastIndexOf('_')))?.iat !== undefined;
/** 1Password service-account token `ops_<base64 JSON>`. */
export const onePasswordServiceToken = (v: string): boolean => jsonObject(v.slice(4)) !== undefined;
/** JWE compact form: five base64url parts, the first a JSON header with `alg` and `enc`. */
export function jwe(v: string): boolean {
  const parts = v.split('.');
  if (parts.length !== 5) return false;
  const h = jsonObject(parts[0]!);
  return typeof h?.alg === 'string' && typeof h?.enc === 'string';
}

const PLACEHOLDER_PASSWORDS = new Set(['pass', 'password', 'passwd', 'pwd', 'secret', 'changeme', 'xxx', 'xxxx', '****', 'pass123', 'password123', '123456', 'admin', 'root', 'test']);
/** Base64 of `user:password` (HTTP Basic, Docker `auth`), printable, with a password that is not a placeholder. */
export function basicCredentials(value: string): boolean {
  const d = b64decode(value);
  if (!d || d.length < 3) return false;
  const s = d.toString('latin1');
  if (!/^[\x20-\x7e]+$/.test(s)) return false;
  const colon = s.indexOf(':');
  if (colon < 1) return false;
  const pw = s.slice(colon + 1);
  return pw.length >= 3 && !PLACEHOLDER_PASSWORDS.has(pw.toLowerCase()) && !/^(.)\1*$/.test(pw) && !/^[<$%{]/.test(pw);
}

/**
 * The tail of a token with a vendor prefix and no rule of its own (`generic_prefixed_token`): a run
 * of 16 or more letters and digits with both in it and 3.5 bits a character, as random tokens have
 * and identifiers (`tskey_old_value_2`, `pdl_live_apikey_docs`) do not.
 */
export function prefixedTokenTail(value: string): boolean {
  let best = '';
  for (const run of value.split(/[^A-Za-z0-9]/)) if (run.length > best.length) best = run;
  if (best.length < 16 || !/[0-9]/.test(best) || !/[A-Za-z]/.test(best)) return false;
  const freq = new Map<string, number>();
  for (const ch of best) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of freq.values()) h -= (c / best.length) * Math.log2(c / best.length);
  return h >= 3.5;
}

export const TOKEN_VALIDATORS: Readonly<Record<string, (s: string) => boolean>> = {
  github_checksum: githubChecksum,
  grafana_checksum: grafanaChecksum,
  atlassian_checksum: atlassianChecksum,
  atlassian_id_token: atlassianIdToken,
  bech32,
  discord_bot_token: discordBotToken,
  grafana_cloud_token: grafanaCloudToken,
  grafana_api_key: grafanaApiKey,
  sentry_org_token: sentryOrgToken,
  onepassword_service_token: onePasswordServiceToken,
  jwe,
  basic_credentials: basicCredentials,
  prefixed_token_tail: prefixedTokenTail,
};
