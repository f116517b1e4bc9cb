// Files only their owner can read. Everything mcp-guard writes (audit and state databases with their
// -wal and -shm files, keys, tokens, the daemon log) is 0600 and every directory it creates 0700,
// whatever the umask and wherever the config puts them: a permissive umask (022) otherwise leaves
// an audit database outside the home readable by anyone.
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Creates `dir` and any missing parents with mode 0700 (an existing directory is left as it is). */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Makes `path` a file of mode 0600: created so when missing (the umask cannot widen 0600), tightened
 * when it exists with looser bits. A loose file owned by someone else cannot be made private: that
 * is an error rather than a secret written where others read it.
 */
export function privateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  tighten(path);
}

/**
 * A SQLite database and its companions, before SQLite opens it: the database file 0600 (SQLite
 * would create it with 0644 & ~umask), and any -wal, -shm or -journal left by an earlier version
 * tightened. SQLite gives the companions it creates the database file's mode.
 */
export function privateDatabase(path: string): void {
  privateFile(path);
  for (const suffix of ['-wal', '-shm', '-journal']) tighten(path + suffix, true);
}

function tighten(path: string, mayBeMissing = false): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    if (mayBeMissing && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((st.mode & 0o077) === 0) return;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && uid !== 0) {
    throw new Error(`${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}) and owned by uid ${st.uid}, not by this user; move it away or chmod 600 it`);
  }
  chmodSync(path, 0o600);
}
