// The dashboard token: a random secret created at first start in <home>/dashboard.token (0600).
// It guards /metrics and every other non-health endpoint of the daemon's HTTP port.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'dashboard.token';

/** Read the token, creating it (0600, in a 0700 home) when absent. */
export function ensureDashboardToken(home: string): string {
  const file = join(home, TOKEN_FILE);
  try {
    const t = readFileSync(file, 'utf8').trim();
    if (t.length >= 32) {
      // A token others can read is no secret: tighten it if it is ours.
      const st = statSync(file);
      if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(file, 0o600);
      return t;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it meanwhile: then read theirs.
  try {
    writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
  return token;
}

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The bearer credential of an Authorization header, if it has one. */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
