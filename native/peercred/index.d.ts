export interface PeerCred {
  uid: number;
  gid: number;
  /** -1 where the platform does not report it. */
  pid: number;
}
/** Kernel credentials of the peer of a connected Unix domain socket file descriptor. */
export function peercred(fd: number): PeerCred;
/** Account database entry (getpwuid_r / getpwnam_r through NSS); null if unknown. */
export function user(idOrName: number | string): { name: string; uid: number; gid: number } | null;
/** Group database entry (getgrgid_r / getgrnam_r); null if unknown. */
export function group(idOrName: number | string): { name: string; gid: number } | null;
/** A user's groups from the account database (getgrouplist), including `gid`. */
export function groups(name: string, gid: number): number[];
