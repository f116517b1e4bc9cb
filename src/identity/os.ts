// os mode: the caller is the Unix user the kernel says is on the other end of the daemon socket.
// Who may connect and which roles users and groups get come from `auth.os`.
import type { Socket } from 'node:net';
import type { AuthConfig } from '../config/auth-schema.js';
import type { Identity } from '../protocol/identity.js';
import { nativeAccounts, peerCredentials } from './peercred.js';

type OsConfig = NonNullable<AuthConfig['os']>;

export class OsAuthenticator {
  private readonly allowed: Set<number>;

  constructor(
    private readonly auth: AuthConfig,
    daemonUid: number = process.getuid?.() ?? -1,
  ) {
    // Loading the addon here makes a missing build fail at daemon start, not at the first client.
    nativeAccounts();
    this.allowed = resolveAllowed(auth.os, daemonUid);
  }

  authenticate(socket: Socket | undefined): Identity {
    if (!socket) throw new Error('os authentication needs a local Unix socket connection; use api_key or oauth for remote clients');
    return this.identify(peerCredentials(socket));
  }

  /**
   * The identity of a user the kernel (or, on the HTTP front, possession of the 0600 dashboard
   * token) vouches for: allowed users only, roles from users (by name or uid) and groups.
   */
  identify(peer: { uid: number; gid: number; pid?: number }): Identity {
    if (!this.allowed.has(peer.uid)) {
      throw new Error(`user ${describeUid(peer.uid)} may not use this daemon; add it to auth.os.allowed_users in the config`);
    }
    const accounts = nativeAccounts();
    const user = accounts.user(peer.uid);
    const name = user?.name ?? String(peer.uid);
    const os: OsConfig = this.auth.os ?? { users: {}, groups: {} };
    const roles = new Set(this.auth.default_roles);
    for (const r of os.users[name] ?? []) roles.add(r);
    for (const r of os.users[String(peer.uid)] ?? []) roles.add(r);
    // The peer's effective gid from the kernel, plus the user's groups from the account database.
    const gids = new Set<number>([peer.gid]);
    if (user) for (const g of accounts.groups(user.name, user.gid)) gids.add(g);
    for (const gid of gids) {
      for (const r of os.groups[String(gid)] ?? []) roles.add(r);
      const gname = accounts.group(gid)?.name;
      if (gname !== undefined) for (const r of os.groups[gname] ?? []) roles.add(r);
    }
    return {
      id: `uid:${peer.uid}`,
      name,
      kind: 'os',
      roles: [...roles],
      uid: peer.uid,
      gid: peer.gid,
      ...(peer.pid !== undefined && peer.pid > 0 ? { pid: peer.pid } : {}),
    };
  }
}

/**
 * The uids allowed to connect. Absent `allowed_users`: the daemon's own uid only. Root is not
 * let in implicitly (a client started under sudo should not silently act for the daemon's user):
 * list `root` or `0` to allow it. Unknown user names are a config error, not a silent no-op.
 */
export function resolveAllowed(os: OsConfig | undefined, daemonUid: number): Set<number> {
  const out = new Set<number>([daemonUid]);
  for (const u of os?.allowed_users ?? []) {
    if (typeof u === 'number' || /^\d+$/.test(u)) {
      out.add(Number(u));
      continue;
    }
    const entry = nativeAccounts().user(u);
    if (!entry) throw new Error(`auth.os.allowed_users: no user named '${u}' on this machine`);
    out.add(entry.uid);
  }
  return out;
}

function describeUid(uid: number): string {
  const name = nativeAccounts().user(uid)?.name;
  return name ? `'${name}' (uid ${uid})` : `uid ${uid}`;
}
