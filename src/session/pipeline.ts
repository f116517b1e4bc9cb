// Runs a message through the ordered stages. Synchronous stages stay synchronous (no promise, no
// microtask) so that the common case costs a few function calls; the first async stage turns the
// rest of the run into a promise. Any exception blocks the message (fail closed).
import { GuardError, InspectionFailed } from '../protocol/errors.js';
import type { MessageContext, Stage, Verdict } from '../protocol/stage.js';

export interface Outcome {
  /** Set when the message is refused. */
  block?: GuardError;
  /** True when a stage rewrote ctx.msg: the line must be serialised again. */
  modified: boolean;
}

const PASS: Outcome = Object.freeze({ modified: false }) as Outcome;

export function runStages(stages: readonly Stage[], ctx: MessageContext): Outcome | Promise<Outcome> {
  return step(stages, ctx, 0, false);
}

function step(stages: readonly Stage[], ctx: MessageContext, from: number, modified: boolean): Outcome | Promise<Outcome> {
  for (let i = from; i < stages.length; i++) {
    const stage = stages[i]!;
    let v: Verdict | Promise<Verdict>;
    try {
      v = stage.handle(ctx);
    } catch (err) {
      return failed(ctx, stage, err);
    }
    if (v === undefined) continue;
    if (typeof (v as Promise<Verdict>).then === 'function') {
      return (v as Promise<Verdict>).then(
        (r) => {
          const out = apply(ctx, stage, r, modified);
          return out.block ? out : step(stages, ctx, i + 1, out.modified);
        },
        (err) => failed(ctx, stage, err),
      );
    }
    const out = apply(ctx, stage, v as Verdict, modified);
    if (out.block) return out;
    modified = out.modified;
  }
  return modified ? { modified: true } : PASS;
}

function apply(ctx: MessageContext, stage: Stage, v: Verdict, modified: boolean): Outcome {
  if (v === undefined) return modified ? { modified: true } : PASS;
  if ('block' in v) {
    if (ctx.audit.decision !== 'block') ctx.audit = { ...ctx.audit, decision: 'block', stage: stage.name, reason: v.block.message };
    ctx.audit.stage ??= stage.name;
    return { block: v.block, modified };
  }
  ctx.msg = v.replace;
  return { modified: true };
}

function failed(ctx: MessageContext, stage: Stage, err: unknown): Outcome {
  const block = err instanceof GuardError ? err : new InspectionFailed(stage.name);
  // Only the error's class goes into the audit row: messages of parse errors quote the payload.
  const reason = err instanceof GuardError ? err.message : `stage failed (${err instanceof Error ? err.name : typeof err})`;
  ctx.audit = { ...ctx.audit, decision: 'error', stage: stage.name, reason };
  return { block, modified: false };
}
