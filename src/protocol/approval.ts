// A call held for a person's decision: what the approval stage asks for (ctx.hold), what the
// session hands the approvals desk (src/daemon/approvals.ts), and how the desk answers. The
// session holds and forwards; the desk keeps the list a person decides from, the timeouts and
// the grants that let the next round of an approved 2026 call through (ERAS.md).
import type { Identity } from './identity.js';
import type { Era } from './era.js';

/** Set on a client's tools/call by the approval stage (src/policy/stage.ts). */
export interface HoldRequest {
  /** The rule that holds it (`approval[0]`) and why. */
  rule: string;
  reason: string;
  /** cli: a person decides with `mcp-guard approvals`; client: the client is asked (elicitation). */
  via: 'cli' | 'client';
  timeoutMs: number;
}

export interface HeldCall {
  session: string;
  identity: Identity;
  server: string;
  tool: string;
  /** The arguments as they would be forwarded; the desk shows them with PII and secrets redacted. */
  arguments: unknown;
  /** The logical call (a 2026 call's rounds share it): the request id of its first round. */
  call: string;
  /** Which round of that call this is (1 unless a 2026 retry). */
  round: number;
  rule: string;
  reason: string;
  timeoutMs: number;
  era?: Era;
}

export type ApprovalOutcome =
  | { approved: true; by: string; reason?: string }
  | { approved: false; why: 'denied' | 'expired'; by?: string; reason?: string };

export interface ApprovalDesk {
  /**
   * Holds a call until a decision; `decided` is called once, unless the hold is withdrawn first.
   * An approved earlier round of the same logical call with the same binding decides at once
   * (before this returns): a retried 2026 round is not approved twice, and a changed one is.
   */
  hold(call: HeldCall, decided: (o: ApprovalOutcome) => void): { id: string; withdraw(why: string): void };
  /** A decision on a held call (`by` says who); false when it is no longer held. */
  decide(id: string, approve: boolean, by: string, reason?: string): { ok: boolean };
}
