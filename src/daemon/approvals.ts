// The approvals desk: calls held by an approval rule wait here for a person's decision
// (`mcp-guard approvals list | approve | deny` over the control socket; the dashboard later uses
// the same calls). A decision reaches the session that holds the call, which forwards it once or
// refuses it; no decision within the policy's approval_timeout_s refuses it. Nothing here is
// persisted: a daemon that stops refuses what it holds, so no call is ever forwarded later.
//
// An approval is bound to the identity, server, tool and canonical arguments of the call (its
// binding, a SHA-256). `approve --hash` checks it against what the person read; the grant it leaves
// lets the next round of the same 2026 call (linked by the server's requestState) through when its
// binding is the same, so a retried round is not approved twice and a changed one is held again.
import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../policy/pinning.js';
import type { ApprovalDesk, ApprovalOutcome, HeldCall } from '../protocol/approval.js';
import type { Logger } from './log.js';

/** A held call as a person sees it: its arguments with PII and secrets redacted. */
export interface ApprovalView {
  id: string;
  server: string;
  tool: string;
  identity: string;
  user: string;
  roles: string[];
  /** The arguments as JSON text, redacted (and cut at MAX_SHOWN characters). */
  arguments: string;
  binding: string;
  rule: string;
  reason: string;
  era?: string;
  /** The logical call and its round (2026 retries). */
  call: string;
  round: number;
  session: string;
  heldAt: number;
  ageS: number;
  expiresInS: number;
}

export type DecideResult = { ok: true; id: string; tool: string; server: string } | { ok: false; error: string };

interface Entry {
  view: Omit<ApprovalView, 'ageS' | 'expiresInS'>;
  grantKey: string;
  deadline: number;
  timeoutMs: number;
  decided: (o: ApprovalOutcome) => void;
  timer: NodeJS.Timeout;
}

const MAX_SHOWN = 4000;
/** Grants outlive their call's hold by this much at least: a 2026 client retries within it. */
const GRANT_MS = 10 * 60_000;
const MAX_GRANTS = 10_000;
/** A binding given to `approve --hash` must be at least this long (hex digits). */
export const MIN_HASH_PREFIX = 8;

/** What an approval is bound to: who, where, which tool, which arguments. */
export function bindingOf(identity: string, server: string, tool: string, args: unknown): string {
  return createHash('sha256').update(canonicalJson([identity, server, tool, args ?? null]), 'utf8').digest('hex');
}

export class Approvals implements ApprovalDesk {
  private readonly waiting = new Map<string, Entry>();
  private readonly grants = new Map<string, { binding: string; until: number; approval: string }>();

  constructor(
    /** Redacts PII and secrets from text a person will read. */
    private readonly redact: (s: string) => string,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  hold(call: HeldCall, decided: (o: ApprovalOutcome) => void): { id: string; withdraw(why: string): void } {
    const binding = bindingOf(call.identity.id, call.server, call.tool, call.arguments);
    const grantKey = `${call.identity.id}\u0000${call.server}\u0000${call.call}`;
    if (call.round > 1) {
      const g = this.grants.get(grantKey);
      if (g && g.until > Date.now() && g.binding === binding) {
        decided({ approved: true, by: `approval ${g.approval} of an earlier round of this call` });
        return { id: g.approval, withdraw: () => {} };
      }
    }
    const id = randomBytes(6).toString('base64url');
    const now = Date.now();
    let shown: string;
    try {
      shown = this.redact(JSON.stringify(call.arguments ?? {}) ?? '{}');
    } catch {
      shown = '[arguments cannot be shown]';
    }
    if (shown.length > MAX_SHOWN) shown = `${shown.slice(0, MAX_SHOWN)}… (${shown.length - MAX_SHOWN} more characters)`;
    const entry: Entry = {
      view: {
        id,
        server: call.server,
        tool: this.redact(call.tool),
        identity: call.identity.id,
        user: call.identity.name,
        roles: call.identity.roles,
        arguments: shown,
        binding,
        rule: call.rule,
        reason: this.redact(call.reason),
        era: call.era,
        call: call.call,
        round: call.round,
        session: call.session,
        heldAt: now,
      },
      grantKey,
      deadline: now + call.timeoutMs,
      timeoutMs: call.timeoutMs,
      decided,
      timer: setTimeout(() => this.settle(id, { approved: false, why: 'expired', reason: `no decision within ${Math.round(call.timeoutMs / 1000)} s (approval_timeout_s)` }), call.timeoutMs),
    };
    entry.timer.unref();
    this.waiting.set(id, entry);
    this.log.info('call held for approval', { approval: id, server: call.server, tool: entry.view.tool, identity: call.identity.id });
    return {
      id,
      withdraw: (why) => {
        if (this.waiting.get(id) !== entry) return;
        clearTimeout(entry.timer);
        this.waiting.delete(id);
        this.log.info('held call withdrawn', { approval: id, reason: why });
      },
    };
  }

  list(now = Date.now()): ApprovalView[] {
    return [...this.waiting.values()]
      .map((e) => ({ ...e.view, ageS: Math.round((now - e.view.heldAt) / 1000), expiresInS: Math.max(0, Math.round((e.deadline - now) / 1000)) }))
      .sort((a, b) => a.heldAt - b.heldAt);
  }

  /**
   * A person's decision. `hash` (a prefix of the binding `list` shows) makes sure the call
   * decided is the one that was read: on a mismatch nothing is decided and the call stays held.
   */
  decide(id: string, approve: boolean, by: string, reason?: string, hash?: string): DecideResult {
    const e = this.waiting.get(id);
    if (!e) return { ok: false, error: `no held call '${id}': it was decided, expired or withdrawn (see \`mcp-guard approvals list\`)` };
    if (hash !== undefined) {
      const h = hash.trim().toLowerCase();
      if (!/^[0-9a-f]+$/.test(h) || h.length < MIN_HASH_PREFIX) return { ok: false, error: `--hash must be at least ${MIN_HASH_PREFIX} hex digits of the binding \`mcp-guard approvals list\` shows` };
      if (!e.view.binding.startsWith(h)) {
        return { ok: false, error: `approval ${id} is bound to ${e.view.binding.slice(0, 16)}…, not ${h.slice(0, 16)}: its identity, tool or arguments are not the ones you read; nothing was decided` };
      }
    }
    if (approve) this.grant(e);
    this.settle(id, approve ? { approved: true, by, reason } : { approved: false, why: 'denied', by, reason });
    return { ok: true, id, tool: e.view.tool, server: e.view.server };
  }

  /** Refuses everything still held (the daemon stops). */
  close(): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, { approved: false, why: 'expired', reason: 'mcp-guard is stopping; the call was not forwarded' });
    this.grants.clear();
  }

  private settle(id: string, o: ApprovalOutcome): void {
    const e = this.waiting.get(id);
    if (!e) return;
    clearTimeout(e.timer);
    this.waiting.delete(id);
    this.log.info(o.approved ? 'held call approved' : o.why === 'denied' ? 'held call denied' : 'held call expired', { approval: id, server: e.view.server, tool: e.view.tool, by: o.by });
    e.decided(o);
  }

  private grant(e: Entry): void {
    const now = Date.now();
    if (this.grants.size >= MAX_GRANTS) {
      for (const [k, g] of this.grants) if (g.until <= now) this.grants.delete(k);
      if (this.grants.size >= MAX_GRANTS) this.grants.delete(this.grants.keys().next().value!);
    }
    this.grants.set(e.grantKey, { binding: e.view.binding, until: now + Math.max(GRANT_MS, e.timeoutMs), approval: e.view.id });
  }
}
