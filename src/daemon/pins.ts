// The pin store: per server, the trusted definition of every tool, prompt and resource template
// and the latest one seen that is not trusted (pending a person's review), in the daemon's
// state.db (tables of their own beside the rate-limit state), so pins survive restarts. The
// daemon writes what it sees; `mcp-guard pins` writes a person's decisions. The daemon notices
// the CLI's writes by SQLite's data_version (which changes when another connection commits).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { HiddenFinding } from '../detect/hidden.js';
import type { PinKind, PinRecord, SeenDefinition } from '../policy/pinning.js';

export interface StoredPin {
  server: string;
  kind: PinKind;
  key: string;
  trustedHash?: string;
  /** Canonical JSON of the trusted definition. */
  trustedDef?: string;
  trustedAt?: number;
  /** `first listing`, or who approved it (`pins approve` as OS user NAME). */
  trustedBy?: string;
  seenHash: string;
  seenDef: string;
  seenHidden?: HiddenFinding[];
  seenAt: number;
}

export type PinStatus = 'pinned' | 'pending' | 'quarantined';

/** pinned: the latest definition seen is the trusted one; quarantined: it has hidden text; pending otherwise. */
export function statusOf(p: StoredPin): PinStatus {
  if (p.trustedHash === p.seenHash) return 'pinned';
  return p.seenHidden?.length ? 'quarantined' : 'pending';
}

export function recordOf(p: StoredPin | undefined): PinRecord | undefined {
  return p && { trusted: p.trustedHash, seen: p.seenHash, seenHidden: !!p.seenHidden?.length };
}

interface Row {
  server: string;
  kind: string;
  key: string;
  trusted_hash: string | null;
  trusted_def: string | null;
  trusted_at: number | null;
  trusted_by: string | null;
  seen_hash: string;
  seen_def: string;
  seen_hidden: string | null;
  seen_at: number;
}

function fromRow(r: Row): StoredPin {
  const p: StoredPin = { server: r.server, kind: r.kind as PinKind, key: r.key, seenHash: r.seen_hash, seenDef: r.seen_def, seenAt: r.seen_at };
  if (r.trusted_hash !== null) {
    p.trustedHash = r.trusted_hash;
    p.trustedDef = r.trusted_def ?? undefined;
    p.trustedAt = r.trusted_at ?? undefined;
    p.trustedBy = r.trusted_by ?? undefined;
  }
  if (r.seen_hidden) p.seenHidden = JSON.parse(r.seen_hidden) as HiddenFinding[];
  return p;
}

export class PinStore {
  private readonly db: Database.Database;
  private readonly q;

  private constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // The CLI and the daemon write the same file; a short wait beats a refused write.
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS pins (
        server TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
        trusted_hash TEXT, trusted_def TEXT, trusted_at INTEGER, trusted_by TEXT,
        seen_hash TEXT NOT NULL, seen_def TEXT NOT NULL, seen_hidden TEXT, seen_at INTEGER NOT NULL,
        PRIMARY KEY (server, kind, key)
      );
      CREATE TABLE IF NOT EXISTS pin_listings (server TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (server, kind));
    `);
    this.q = {
      version: this.db.prepare('PRAGMA data_version').pluck(),
      server: this.db.prepare('SELECT * FROM pins WHERE server = ? ORDER BY kind, key'),
      all: this.db.prepare('SELECT * FROM pins ORDER BY server, kind, key'),
      one: this.db.prepare('SELECT * FROM pins WHERE server = ? AND kind = ? AND key = ?'),
      listings: this.db.prepare('SELECT kind FROM pin_listings WHERE server = ?').pluck(),
      servers: this.db.prepare('SELECT DISTINCT server FROM pins UNION SELECT server FROM pin_listings ORDER BY 1').pluck(),
      listed: this.db.prepare('INSERT INTO pin_listings (server, kind, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      trust: this.db.prepare(`
        INSERT INTO pins (server, kind, key, trusted_hash, trusted_def, trusted_at, trusted_by, seen_hash, seen_def, seen_hidden, seen_at)
        VALUES (@server, @kind, @key, @hash, @def, @at, @by, @hash, @def, NULL, @at)
        ON CONFLICT (server, kind, key) DO UPDATE SET
          trusted_hash = excluded.trusted_hash, trusted_def = excluded.trusted_def, trusted_at = excluded.trusted_at, trusted_by = excluded.trusted_by,
          seen_hash = excluded.seen_hash, seen_def = excluded.seen_def, seen_hidden = NULL, seen_at = excluded.seen_at
        WHERE pins.trusted_hash IS NULL`),
      seen: this.db.prepare(`
        INSERT INTO pins (server, kind, key, seen_hash, seen_def, seen_hidden, seen_at) VALUES (@server, @kind, @key, @hash, @def, @hidden, @at)
        ON CONFLICT (server, kind, key) DO UPDATE SET seen_hash = excluded.seen_hash, seen_def = excluded.seen_def, seen_hidden = excluded.seen_hidden, seen_at = excluded.seen_at
        WHERE pins.seen_hash IS NOT excluded.seen_hash`),
      approve: this.db.prepare(`
        UPDATE pins SET trusted_hash = seen_hash, trusted_def = seen_def, trusted_at = @at, trusted_by = @by, seen_hidden = NULL
        WHERE server = @server AND kind = @kind AND key = @key AND trusted_hash IS NOT seen_hash`),
      resetPins: this.db.prepare('DELETE FROM pins WHERE server = ?'),
      resetListings: this.db.prepare('DELETE FROM pin_listings WHERE server = ?'),
    };
  }

  /** The store of a daemon home: `<home>/state.db`. */
  static open(home: string): PinStore {
    return new PinStore(join(home, 'state.db'));
  }

  /** Changes when another connection (the CLI) has committed since the last call. */
  version(): number {
    return this.q.version.get() as number;
  }

  items(server: string): StoredPin[] {
    return (this.q.server.all(server) as Row[]).map(fromRow);
  }

  all(): StoredPin[] {
    return (this.q.all.all() as Row[]).map(fromRow);
  }

  get(server: string, kind: PinKind, key: string): StoredPin | undefined {
    const r = this.q.one.get(server, kind, key) as Row | undefined;
    return r && fromRow(r);
  }

  /** Kinds whose first listing happened on this server (tofu). */
  listedKinds(server: string): Set<PinKind> {
    return new Set(this.q.listings.all(server) as PinKind[]);
  }

  /** Servers the store knows anything of. */
  servers(): string[] {
    return this.q.servers.all() as string[];
  }

  /**
   * The first listing of a kind (tofu): `trusted` are pinned unless something was trusted under
   * the same key already, `untrusted` are recorded as seen, and the kind is marked listed.
   */
  firstListing(server: string, kind: PinKind, trusted: readonly SeenDefinition[], untrusted: readonly SeenDefinition[], at: number): void {
    this.db.transaction(() => {
      for (const s of trusted) this.q.trust.run({ server, kind, key: s.key, hash: s.hash, def: s.canonical, at, by: 'first listing' });
      for (const s of untrusted) this.see(server, s, at);
      this.q.listed.run(server, kind, at);
    })();
  }

  /** Record definitions seen but not trusted; returns how many rows changed. */
  markSeen(server: string, seen: readonly SeenDefinition[], at: number): number {
    let n = 0;
    this.db.transaction(() => {
      for (const s of seen) n += this.see(server, s, at);
    })();
    return n;
  }

  private see(server: string, s: SeenDefinition, at: number): number {
    return this.q.seen.run({ server, kind: s.kind, key: s.key, hash: s.hash, def: s.canonical, hidden: s.hidden.length ? JSON.stringify(s.hidden) : null, at }).changes;
  }

  /**
   * Trust the latest seen definition of an item. With `expect`, only if that is still the hash
   * seen (the definition a person reviewed). Returns the item after the change, or undefined
   * when there was nothing to approve.
   */
  approve(server: string, kind: PinKind, key: string, by: string, at: number, expect?: string): StoredPin | undefined {
    return this.db.transaction(() => {
      const cur = this.get(server, kind, key);
      if (!cur || cur.trustedHash === cur.seenHash) return undefined;
      if (expect !== undefined && cur.seenHash !== expect.toLowerCase()) return undefined;
      this.q.approve.run({ server, kind, key, by, at });
      return this.get(server, kind, key);
    })();
  }

  /** Forget every pin of a server: its next listing pins anew. Returns the items removed. */
  reset(server: string): number {
    return this.db.transaction(() => {
      const n = this.q.resetPins.run(server).changes;
      this.q.resetListings.run(server);
      return n;
    })();
  }

  close(): void {
    this.db.close();
  }
}
