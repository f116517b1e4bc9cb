// One daemon per home directory: an exclusive lock file holding the owner's pid, created with
// O_EXCL. A lock whose pid is gone is stale and taken over (atomically, by rename).
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class AlreadyRunning extends Error {
  constructor(readonly pid: number) {
    super(`mcp-guard daemon is already running (pid ${pid})`);
  }
}

export function lockPath(home: string): string {
  return join(home, 'daemon.pid');
}

export function readLockPid(home: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath(home), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const PROC = existsSync('/proc/self/stat');

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!PROC) return true;
  // A zombie (exited, not yet reaped) answers the signal but holds nothing, neither lock nor socket.
  // A daemon's parent is gone by then, and in a container whose PID 1 does not reap it stays a
  // zombie: `stop` waited for it until its timeout and then said the daemon was still running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false; // gone since the signal
  }
}

/** Waits up to `ms` for `pid` to be gone (see pidAlive); true if it is. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Take the lock or throw AlreadyRunning. Returns a release function. */
export function acquireLock(home: string): () => void {
  const path = lockPath(home);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        if (readLockPid(home) === process.pid) {
          try {
            unlinkSync(path);
          } catch {
            /* already gone */
          }
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = readLockPid(home);
    if (pid !== undefined && pid !== process.pid && pidAlive(pid)) throw new AlreadyRunning(pid);
    if (pid === undefined) {
      // Another starter may be between creating the file and writing its pid.
      const t = Date.now() + 50;
      while (Date.now() < t) {
        /* brief spin: the window is a few microseconds */
      }
      const again = readLockPid(home);
      if (again !== undefined && pidAlive(again)) throw new AlreadyRunning(again);
    }
    // Stale: move it aside atomically so that only one contender removes it.
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
      const moved = Number(readFileSync(aside, 'utf8').trim());
      if (moved !== pid && moved > 0 && pidAlive(moved)) {
        // We moved a live owner's fresh lock: put it back and yield to it.
        try {
          linkSync(aside, path);
        } finally {
          unlinkSync(aside);
        }
        throw new AlreadyRunning(moved);
      }
      unlinkSync(aside);
    } catch (err) {
      if (err instanceof AlreadyRunning) throw err;
      /* someone else took it over first; try again */
    }
  }
  throw new Error(`cannot take the daemon lock ${path}`);
}
