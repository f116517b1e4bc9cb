// Tamper evidence: every row's hash is SHA-256(previous row's hash || canonical row content).
// The canonical content is the JSON array of the stored (post-encryption) column values in
// HASHED_COLUMNS order, so `verify` needs no key and hashes exactly what SQLite returns.
// Columns added after schema 1 are hashed only up to the last one that is set: a row written before
// they existed hashes as it did, and the encoding stays one-to-one (arrays of different lengths differ).
import { createHash } from 'node:crypto';
import { SCHEMA1_HASHED_COUNT } from './schema.js';

export type StoredValue = string | number | null;

/** Hash of a row given the previous hash (32 bytes) and its stored values in HASHED_COLUMNS order. */
export function rowHash(prev: Buffer, values: readonly StoredValue[]): Buffer {
  let n = values.length;
  while (n > SCHEMA1_HASHED_COUNT && values[n - 1] === null) n--;
  return createHash('sha256').update(prev).update(JSON.stringify(n === values.length ? values : values.slice(0, n))).digest();
}

/**
 * Normalise a value to what SQLite will hand back, so the hash computed at write time equals the
 * one recomputed at verify time: lone surrogates become U+FFFD (SQLite stores UTF-8), non-finite
 * numbers become NULL, anything else becomes a string.
 */
export function storable(v: unknown): StoredValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return (v as string & { toWellFormed(): string }).toWellFormed();
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return (String(v) as string & { toWellFormed(): string }).toWellFormed();
}
