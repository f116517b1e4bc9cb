// Loads the audit encryption key from `audit.encryption.key_file` or `key_env`. A key is 32 bytes
// given as 64 hex digits, base64, or (file only) 32 raw bytes. A key kept beside the database
// protects nothing, so a key file in the database's directory is refused unless explicitly allowed.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AuditConfig } from '../config/audit-schema.js';
import { KEY_BYTES } from './crypto.js';

export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

export interface LoadedKey {
  key: Buffer;
  source: string;
  warnings: string[];
}

/** Parse key material; throws AuditKeyError naming the source on anything but a 32-byte key. */
export function parseKey(material: Buffer | string, source: string): Buffer {
  const raw = typeof material === 'string' ? Buffer.from(material, 'utf8') : material;
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(text)) {
    const b = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === KEY_BYTES) return b;
  }
  if (typeof material !== 'string' && raw.length === KEY_BYTES) return Buffer.from(raw);
  throw new AuditKeyError(
    `${source}: the audit encryption key must be 32 bytes, written as 64 hex digits or base64 ` +
      `(generate one with: openssl rand -hex 32)`,
  );
}

function realDir(p: string): string {
  const dir = path.dirname(path.resolve(p));
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/**
 * The key configured in `audit.encryption`, or undefined when encryption is not configured.
 * `env` defaults to process.env.
 */
export function loadAuditKey(
  config: AuditConfig,
  dbPath: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadedKey | undefined {
  const enc = config.encryption;
  if (!enc || (!enc.key_file && !enc.key_env)) return undefined;
  const warnings: string[] = [];
  if (enc.key_file) {
    const file = path.resolve(enc.key_file);
    const source = `audit.encryption.key_file (${file})`;
    let material: Buffer;
    try {
      material = readFileSync(file);
    } catch (e) {
      throw new AuditKeyError(`${source}: cannot read the key file: ${(e as Error).message}`);
    }
    if (realDir(file) === realDir(dbPath) && !enc.allow_key_beside_db) {
      throw new AuditKeyError(
        `${source}: the key file is in the same directory as the audit database (${path.resolve(dbPath)}); ` +
          `anyone who can copy the database can copy the key. Move the key elsewhere, or set ` +
          `audit.encryption.allow_key_beside_db: true to accept this.`,
      );
    }
    const mode = statSync(file).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      warnings.push(`${source} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    }
    return { key: parseKey(material, source), source, warnings };
  }
  const name = enc.key_env!;
  const value = env[name];
  const source = `audit.encryption.key_env (${name})`;
  if (value === undefined || value === '') throw new AuditKeyError(`${source}: the environment variable is not set`);
  return { key: parseKey(value, source), source, warnings };
}
