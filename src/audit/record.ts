// One audit row per message in either direction: who, where, what, what the proxy decided and why.
// There is deliberately no field for a raw match: findings carry types, counts and keyed hashes only,
// and tool / resource names arrive already redacted by the session.
import type { AuditNote } from '../protocol/stage.js';
import type { Direction, Kind } from '../protocol/message.js';
import type { Era } from '../protocol/era.js';

export type AuditDecision = AuditNote['decision'];
export const DECISIONS: readonly AuditDecision[] = ['allow', 'block', 'redact', 'warn', 'error'];

export interface AuditFinding {
  /** PII or secret type, e.g. `credit_card`. */
  type: string;
  count: number;
  /** Keyed hashes of the matches (never the matches). */
  hashes: string[];
  /**
   * Which message it was found in. An exchange's row carries the request's direction, so a finding
   * in the response says `response` (absent in rows written before 0.2).
   */
  side?: Kind;
}

export const FINDING_SIDES: readonly Kind[] = ['request', 'response', 'notification'];

export interface AuditRecord {
  /** Epoch milliseconds. */
  ts: number;
  session: string;
  /** Stable identity key, e.g. `uid:1000`, `key:ci-bot`, `oauth:sub`. */
  identity: string;
  /** Human-readable name. */
  user: string;
  roles: string[];
  server: string;
  direction: Direction;
  kind: Kind;
  /** For a response, the method of the request it answers. */
  method: string;
  /** Tool, resource URI or prompt name (redacted by the caller if it contained PII). */
  target?: string;
  decision: AuditDecision;
  /** Name of the stage that decided. */
  stage?: string;
  reason?: string;
  findings?: AuditFinding[];
  /** JSON-RPC error code sent to the client or received from upstream. */
  error_code?: number;
  bytes_in: number;
  bytes_out?: number;
  /** Upstream latency in milliseconds (responses). */
  upstream_ms?: number;
  /** Time spent in the proxy, microseconds. */
  overhead_us?: number;
  /** JSON-RPC id, as a string (for a 2026 embedded request, its key in inputRequests). */
  request_id?: string;
  /** Protocol era of the exchange: `2025` (initialize) or `2026` (2026-07-28, per-request _meta). */
  era?: Era;
  /** A 2026 call retried over several rounds: the request id of its first round... */
  call?: string;
  /** ...and which round this row is (1 for the first). */
  round?: number;
}

/** A stored record as read back by queries. */
export interface AuditRow extends AuditRecord {
  id: number;
}

/** Group a stage's findings in one message (one per match) into the per-type shape the audit log stores. */
export function summariseFindings(
  findings: readonly { type: string; hash: string }[] | undefined,
  side: Kind,
): AuditFinding[] | undefined {
  if (!findings || findings.length === 0) return undefined;
  const byType = new Map<string, AuditFinding>();
  for (const f of findings) {
    let s = byType.get(f.type);
    if (!s) byType.set(f.type, (s = { type: f.type, count: 0, hashes: [], side }));
    s.count++;
    if (!s.hashes.includes(f.hash)) s.hashes.push(f.hash);
  }
  return [...byType.values()];
}

/** Where records go (the audit log, or the metrics tee in front of it): explicit back-pressure. */
export interface AuditSink {
  write(rec: AuditRecord): boolean;
  /** At queue_limit: new requests are refused, records of exchanges in flight still fit. */
  readonly full: boolean;
  /** write() would keep a record now. Checked before a message is forwarded, and the record is
   * written right after it, in the same synchronous run: nothing passes unaudited. */
  readonly accepting: boolean;
}
