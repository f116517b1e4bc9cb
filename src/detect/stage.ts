// The `pii` stage: gate on the raw bytes (synchronous, no promise when clean), then full inspection
// inline for small messages or in the pool for large ones, mapped to a Verdict and audit note.
import type { PiiConfig } from '../config/pii-schema.js';
import { ContentBlocked, InspectionFailed, MessageTooLarge } from '../protocol/errors.js';
import type { MessageContext, Stage, Verdict } from '../protocol/stage.js';
import { compileDetector, type ScanDirection } from './detector.js';
import { compileGate } from './gate.js';
import { inspectMessage, type InspectResult } from './scan.js';

/** What the stage needs of a thread pool that inspects large messages (daemon/inspection-pool.ts). */
export interface Inspector {
  /** Fails closed: resolves to a blocking result when the worker fails. */
  inspect(line: Buffer, direction: ScanDirection, toolName?: string): Promise<InspectResult>;
  close(): Promise<void>;
}

/** Messages up to this size are inspected on the calling thread (cheaper than a pool round trip). */
export const INLINE_MAX_BYTES = 16 * 1024;

/**
 * Which action column (`request` or `response`) applies to a message. Requests are what one side
 * asks the other to act on, in either direction: a server's `sampling/createMessage` puts its
 * content before the user's model exactly as a client's `tools/call` puts arguments before a tool,
 * so both use the `request` actions (a card in either is blocked, not redacted). Everything a client
 * sends is a request in this sense (its answers to sampling included); responses and notifications
 * from the server are responses.
 */
export function scanDirection(ctx: Pick<MessageContext, 'direction' | 'kind'>): ScanDirection {
  return ctx.direction === 'c2s' || ctx.kind === 'request' ? 'request' : 'response';
}

/** The blocked message as the audit reason names it. */
function blockedMessage(ctx: Pick<MessageContext, 'direction' | 'kind'>): string {
  if (ctx.kind === 'notification') return 'notification';
  if (ctx.direction === 'c2s') return ctx.kind === 'request' ? 'request' : "client's answer";
  return ctx.kind === 'request' ? "server's request" : 'response';
}

export interface DetectionStageOptions {
  pii: PiiConfig;
  hashKey: Buffer;
  pool?: Inspector;
  inlineMaxBytes?: number;
  /** The detector and gate of this `pii`, when the caller has compiled them already. */
  compiled?: { det: ReturnType<typeof compileDetector>; gate: ReturnType<typeof compileGate> };
}

export function detectionStage(opts: DetectionStageOptions): Stage {
  const { pii, pool } = opts;
  const det = opts.compiled?.det ?? compileDetector(pii, opts.hashKey);
  const gate = opts.compiled?.gate ?? compileGate(pii);
  const inlineMax = pool ? (opts.inlineMaxBytes ?? INLINE_MAX_BYTES) : Infinity;

  const verdict = (ctx: MessageContext, res: InspectResult, direction: ScanDirection): Verdict => {
    if (res.findings.length) ctx.audit.findings = [...(ctx.audit.findings ?? []), ...res.findings];
    // Findings inside a 2026 embedded request also go on its own audit row, as on its 2025 form's.
    if (res.findings.length && ctx.audit.embedded) {
      for (const e of ctx.audit.embedded) {
        const prefix = `result.inputRequests.${e.key}.`;
        const own = res.findings.filter((f) => f.path.startsWith(prefix));
        if (own.length) e.findings = [...(e.findings ?? []), ...own];
      }
    }
    if (res.action === 'block') {
      ctx.audit.decision = 'block';
      ctx.audit.stage = 'pii';
      if (res.reason) {
        ctx.audit.reason = res.reason;
        return { block: new InspectionFailed('pii', `failed: ${res.reason}`) };
      }
      const types = res.blockedTypes ?? [];
      const what = blockedMessage(ctx);
      // Types only, never a match; the verb fits the side: a request is refused, an answer withheld.
      ctx.audit.reason = `${types.join(', ')} in the ${what}: ${ctx.kind === 'request' ? 'refused' : 'withheld'}`;
      const clientAnswer = ctx.direction === 'c2s' && ctx.kind === 'response';
      return {
        block: new ContentBlocked(
          types,
          direction,
          clientAnswer ? `Blocked by mcp-guard: the client's answer contains sensitive data (${types.join(', ')}), so it was withheld.` : undefined,
        ),
      };
    }
    if (res.action === 'modify' && res.message) {
      ctx.audit.decision = 'redact';
      ctx.audit.stage = 'pii';
      return { replace: res.message as MessageContext['msg'] };
    }
    if (res.action === 'warn' || res.findings.length) {
      if (ctx.audit.decision === 'allow') ctx.audit.decision = 'warn';
      ctx.audit.stage ??= 'pii';
    }
    return undefined;
  };

  return {
    name: 'pii',
    handle(ctx: MessageContext): Verdict | Promise<Verdict> {
      if (!pii.enabled) return undefined;
      if (ctx.line.length > pii.scan_limit_bytes) {
        if (pii.on_oversize === 'allow') return undefined;
        ctx.audit.decision = 'block';
        ctx.audit.stage = 'pii';
        ctx.audit.reason = 'message over scan limit';
        return {
          block: new MessageTooLarge(
            `Blocked by mcp-guard: the message is ${ctx.line.length} bytes, over the scan limit of ${pii.scan_limit_bytes} bytes.`,
            pii.scan_limit_bytes,
          ),
        };
      }
      if (!gate.needsInspection(ctx.line)) return undefined;
      ctx.inspected = true;
      const direction = scanDirection(ctx);
      const tool =
        ctx.kind === 'response' && ctx.method === 'tools/call' && typeof ctx.requestParams?.name === 'string'
          ? (ctx.requestParams.name as string)
          : undefined;
      if (pool && ctx.line.length > inlineMax) {
        return pool.inspect(ctx.line, direction, tool).then((res) => verdict(ctx, res, direction));
      }
      let res: InspectResult;
      try {
        res = inspectMessage(ctx.msg, direction, det, tool, ctx.line);
      } catch (e) {
        res = { action: 'block', findings: [], blockedTypes: [], reason: `inspection failed: ${(e as Error).name}` };
      }
      return verdict(ctx, res, direction);
    },
    close: async () => {
      await pool?.close();
    },
  };
}
