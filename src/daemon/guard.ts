// Everything the daemon shares between sessions: the config snapshot, the stages built from it,
// identity checks, the audit log and the inspection pool. Swapped atomically on reload.
import type { Socket } from 'node:net';
import { loadConfig, type LoadedConfig } from '../config/loader.js';
import type { Credentials } from '../protocol/hello.js';
import type { Identity } from '../identity/identity.js';
import type { Stage } from '../session/stage.js';
import type { Logger } from './log.js';
import { currentUser } from './daemon.js';

export interface Snapshot extends LoadedConfig {
  cleanLog?: (s: string) => string;
}

export class Guard {
  audit?: unknown;
  private snap: Snapshot;

  private constructor(
    loaded: LoadedConfig,
    private readonly log: Logger,
  ) {
    this.snap = loaded;
  }

  static async create(loaded: LoadedConfig, log: Logger): Promise<Guard> {
    return new Guard(loaded, log);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  stagesFor(_server: string, _snap: Snapshot): Stage[] {
    return [];
  }

  async authenticate(_sock: Socket, _creds: Credentials | undefined, _server: string): Promise<Identity> {
    const { auth } = this.snap.config;
    if (auth.mode !== 'os') throw new Error(`auth mode '${auth.mode}' is not available in this build`);
    const uid = process.getuid?.() ?? -1;
    const name = currentUser();
    const roles = [...auth.default_roles, ...(auth.os?.users[name] ?? [])];
    return { id: `uid:${uid}`, name, kind: 'os', roles, uid };
  }

  async reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      const next = loadConfig(this.snap.path);
      this.snap = next;
      this.log.info('config reloaded', { config: next.path });
      return { ok: true };
    } catch (err) {
      this.log.error('config reload failed; keeping the running config', { error: (err as Error).message });
      return { ok: false, error: (err as Error).message };
    }
  }

  status(): Record<string, unknown> {
    return {};
  }

  async close(): Promise<void> {}
}
