// Kernel peer credentials of a connected Unix socket (SO_PEERCRED / getpeereid) and account
// look-ups, through the small N-API addon in native/peercred. Node has no API for either.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';

export interface PeerCred {
  uid: number;
  gid: number;
  /** -1 where the platform does not report it. */
  pid: number;
}

interface Addon {
  peercred(fd: number): PeerCred;
  user(idOrName: number | string): { name: string; uid: number; gid: number } | null;
  group(idOrName: number | string): { name: string; gid: number } | null;
  groups(name: string, gid: number): number[];
}

let addon: Addon | undefined;

/** The addon, installed as the `mcp-guard-peercred` dependency or built in the source tree. */
export function nativeAccounts(): Addon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require('mcp-guard-peercred') as Addon;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    // dist/src/identity/peercred.js → <repo>/native/peercred
    addon = require(fileURLToPath(new URL('../../../native/peercred/index.cjs', import.meta.url))) as Addon;
  }
  return addon;
}

/** The file descriptor behind a net.Socket (a libuv Pipe handle for Unix sockets). */
function socketFd(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: number; constructor?: { name?: string } } })._handle;
  // A TCP socket also has an fd, but SO_PEERCRED on it reports nothing meaningful.
  if (handle?.constructor?.name !== 'Pipe') throw new Error('peer credentials exist only for local Unix socket connections');
  const fd = handle.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the connection is closed; no peer credentials');
  return fd;
}

/** uid, gid and pid of the process at the other end of `socket`, as the kernel recorded them at connect. */
export function peerCredentials(socket: Socket): PeerCred {
  return nativeAccounts().peercred(socketFd(socket));
}
