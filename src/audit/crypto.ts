// Encryption at rest of the sensitive columns (AES-256-GCM, fresh 96-bit IV per value) and keyed
// blind indexes (HMAC-SHA256) so equality filters still work on encrypted columns.
// Two subkeys are derived from the configured key with HKDF so neither use weakens the other.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const PREFIX = 'v1:';

export class AuditKeys {
  private readonly enc: Buffer;
  private readonly mac: Buffer;
  /** Fingerprint stored in the database to detect a wrong key (not the key, not reversible). */
  readonly check: string;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`audit encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.enc = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'mcp-guard audit encryption v1', 32));
    this.mac = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'mcp-guard audit blind index v1', 32));
    this.check = createHmac('sha256', this.mac).update('mcp-guard key check').digest('hex').slice(0, 32);
  }

  /** Encrypt one column value; `aad` binds the ciphertext to its column and row. */
  encrypt(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.enc, iv);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([iv, c.update(plain, 'utf8'), c.final(), c.getAuthTag()]);
    return PREFIX + body.toString('base64');
  }

  decrypt(stored: string, aad: string): string {
    if (!stored.startsWith(PREFIX)) throw new Error('not an encrypted value');
    const body = Buffer.from(stored.slice(PREFIX.length), 'base64');
    if (body.length < 28) throw new Error('encrypted value too short');
    const d = createDecipheriv('aes-256-gcm', this.enc, body.subarray(0, 12));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]).toString('utf8');
  }

  /** Deterministic keyed index of a value for equality lookups; `scope` separates columns. */
  blindIndex(scope: string, value: string): string {
    return createHmac('sha256', this.mac).update(scope).update('\0').update(value).digest('base64url').slice(0, 22);
  }
}

/** AAD for a column value: column name and row id, so ciphertexts cannot be moved around. */
export function aadFor(column: string, id: number): string {
  return `${column}:${id}`;
}
