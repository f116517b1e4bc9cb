// Retried calls of the 2026 era: a client answers an `input_required` result by sending the same
// call again on a new request id, with `inputResponses` and the echoed `requestState`. The rounds are
// one logical call: rate limits charge it once and the audit links the rounds (ERAS.md).
// The threat is a free call per round, so only a round this proxy handed out links: the tracker
// remembers each input_required result it let through, per caller, server, method and target, keyed
// by the exact requestState (or, without one, by the input request keys), and a retry consumes its
// round once. A forged or replayed state, or a retry after a restart, is a new call and pays.
// State is bounded (entries expire, the oldest go first) and shared by every front of the daemon.

/** The logical call a round belongs to: the request id of its first round, and this round's number. */
export interface Round {
  id: string;
  round: number;
}

interface Open extends Round {
  expires: number;
}

/** The tool name, prompt name or resource URI a retried call is about. */
export function callTarget(method: string, params: unknown): string {
  if (params === null || typeof params !== 'object') return '';
  const p = params as Record<string, unknown>;
  const v = method === 'resources/read' ? p.uri : p.name;
  return typeof v === 'string' ? v : '';
}

function stateKey(state: unknown, keys: unknown): string | undefined {
  if (typeof state === 'string') return 's' + state;
  if (keys !== null && typeof keys === 'object' && !Array.isArray(keys)) return 'k' + Object.keys(keys).sort().join('\u0001');
  return undefined;
}

export class RoundTracker {
  private readonly open = new Map<string, Open>();

  constructor(
    /** A client that takes longer than this to answer starts a new logical call. */
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 10_000,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Remember an input_required `result` handed to `caller` (identity and server) for round `call`. */
  offer(caller: string, method: string, target: string, result: { requestState?: unknown; inputRequests?: unknown }, call: Round, now: number): void {
    const k = stateKey(result.requestState, result.inputRequests);
    if (k === undefined) return;
    const key = `${caller}\u0000${method}\u0000${target}\u0000${k}`;
    this.open.delete(key);
    if (this.open.size >= this.max) this.evict(now);
    this.open.set(key, { id: call.id, round: call.round, expires: now + this.ttlMs });
  }

  /** The round a retry continues (consumed), or undefined when it continues nothing handed out. */
  take(caller: string, method: string, target: string, params: { requestState?: unknown; inputResponses?: unknown }, now: number): Round | undefined {
    const k = stateKey(params.requestState, params.inputResponses);
    if (k === undefined) return undefined;
    const key = `${caller}\u0000${method}\u0000${target}\u0000${k}`;
    const o = this.open.get(key);
    if (!o) return undefined;
    this.open.delete(key);
    if (o.expires <= now) return undefined;
    return { id: o.id, round: o.round + 1 };
  }

  private evict(now: number): void {
    for (const [k, o] of this.open) if (o.expires <= now) this.open.delete(k);
    // Still full: the oldest rounds go (a client that slow pays for a new call).
    const it = this.open.keys();
    while (this.open.size >= this.max) this.open.delete(it.next().value as string);
  }
}
