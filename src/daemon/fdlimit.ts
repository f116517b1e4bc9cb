// The daemon's open-file limit and the session ceiling it allows. Out of descriptors, nothing
// works: no upstream can be spawned, no connection accepted, no database page read. So the daemon
// knows its limit and refuses sessions well before it, with a message that says why.
//
// Raising the soft limit to the hard one needs no code of ours: Node does it for every process at
// start (PlatformInit in src/node.cc, "Raise the open file descriptor limit"), so what is read here
// is already the raised value. A hard limit stays where the administrator put it.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/**
 * Descriptors one session holds: a stdio upstream keeps three pipes and its client one socket
 * (measured: 4 per bridge session); an HTTP session or an HTTP upstream may hold one more
 * connection (a GET stream, a second keep-alive socket).
 */
export const FDS_PER_SESSION = 5;

/**
 * Descriptors kept for the daemon itself: about 40 at rest (epoll and eventfds of the main thread,
 * the inspection pool and the audit writer, both SQLite databases with their -wal and -shm, the
 * log, the listening sockets, inotify), plus up to 8 for the moment of a spawn (three socket
 * pairs and the exec-error pipe), HTTP connections that belong to no session yet, and config reads.
 */
export const RESERVED_FDS = 100;

/** The session ceiling an open-file limit allows (at least 1). */
export function sessionsFor(limit: number): number {
  if (!Number.isFinite(limit)) return 1_000_000;
  return Math.max(1, Math.floor((limit - RESERVED_FDS) / FDS_PER_SESSION));
}

/** This process's RLIMIT_NOFILE; undefined when the platform tells neither way. */
export function openFileLimit(): OpenFileLimit | undefined {
  try {
    // Linux: "Max open files            1024                 4096                 files"
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line && /^Max open files\s+(\S+)\s+(\S+)/.exec(line);
    if (m) return { soft: parseLimit(m[1]!), hard: parseLimit(m[2]!) };
  } catch {
    /* not Linux */
  }
  // Elsewhere a shell inherits our limits and can print them.
  const r = spawnSync('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8', timeout: 5000 });
  const [soft, hard] = (r.stdout ?? '').trim().split('\n');
  if (r.status === 0 && soft && hard) return { soft: parseLimit(soft), hard: parseLimit(hard) };
  return undefined;
}

function parseLimit(s: string): number {
  return s === 'unlimited' ? Infinity : Number(s);
}
