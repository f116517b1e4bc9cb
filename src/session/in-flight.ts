// The requests a session has in flight, both ways: the client's (awaiting the upstream's answer)
// and the server's (sampling, elicitation, roots: awaiting the client's). Each entry keeps what
// the answer's audit row needs from its request, its timer, and, for a call held for a person's
// decision, the hold. One table per direction, keyed by the id's key (src/protocol/message.ts).
import type { AuditNote } from '../protocol/stage.js';
import type { Direction } from '../protocol/message.js';
import type { Era } from '../protocol/era.js';

export interface Pending {
  method: string;
  params: any;
  /** performance.now() when the request arrived at the proxy. */
  arrived: number;
  /** Proxy time spent on the request, in ms. */
  spent: number;
  /** performance.now() when it left for its receiver (while held: when the hold began). */
  forwarded: number;
  target?: string;
  note: AuditNote;
  bytesIn: number;
  timer?: NodeJS.Timeout;
  era?: Era;
  /** Set while the call waits for a person's decision: it has not been forwarded. */
  held?: Hold;
  /** A request of mcp-guard's own to the client (asking it to approve a call): its answer ends here. */
  own?: (answer: { result?: any; error?: any }) => void;
}

export interface Hold {
  /** The approval's id (what `mcp-guard approvals` shows). */
  id: string;
  /** Stop waiting (the client cancelled, the session ended): the call is never forwarded. */
  withdraw(why: string): void;
  /** Keeps a client that asked for progress from timing out first. */
  progress?: NodeJS.Timeout;
  /** approval.via: client: the id of the elicitation that asks the client. */
  asked?: string;
}

export class InFlight {
  /** By the direction of the request: c2s holds the client's requests, s2c the server's. */
  private readonly tables: Record<Direction, Map<string, Pending>> = { c2s: new Map(), s2c: new Map() };

  get size(): number {
    return this.tables.c2s.size + this.tables.s2c.size;
  }

  /** The client's requests in flight (held calls included). */
  get clientRequests(): number {
    return this.tables.c2s.size;
  }

  has(direction: Direction, key: string): boolean {
    return this.tables[direction].has(key);
  }

  get(direction: Direction, key: string): Pending | undefined {
    return this.tables[direction].get(key);
  }

  add(direction: Direction, key: string, p: Pending): void {
    this.tables[direction].set(key, p);
  }

  /** Removes a request (answered, refused, cancelled or timed out) and stops its timers. */
  take(direction: Direction, key: string): Pending | undefined {
    const t = this.tables[direction];
    const p = t.get(key);
    if (!p) return undefined;
    t.delete(key);
    stopTimers(p);
    return p;
  }

  /** The client's requests, for a sweep that may take some of them. */
  clientEntries(): [string, Pending][] {
    return [...this.tables.c2s];
  }

  /** Empties both tables and stops every timer; returns the client's requests that were in flight. */
  clear(): [string, Pending][] {
    const out = [...this.tables.c2s];
    for (const t of Object.values(this.tables)) {
      for (const p of t.values()) stopTimers(p);
      t.clear();
    }
    return out;
  }
}

function stopTimers(p: Pending): void {
  if (p.timer) clearTimeout(p.timer);
  if (p.held?.progress) clearInterval(p.held.progress);
}
