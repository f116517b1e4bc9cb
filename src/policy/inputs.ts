// The 2026 form of server-to-client requests: the `inputRequests` of an `input_required` result
// (ERAS.md). Each entry is checked exactly as its 2025 push form is (sampling.ts): sampling and
// elicitation refused unless the policy enables them, maxTokens capped, roots passed. One refused
// entry refuses the whole result, so nothing of it reaches the client; an entry mcp-guard cannot
// check (not a request, an unknown method) is refused too (fail closed). `requestState` is never
// read or rewritten here: the result is copied around it.
import type { EmbeddedNote } from '../protocol/stage.js';
import type { CompiledPolicy } from './compiled.js';
import type { Denial } from './permissions.js';
import { ELICITATION_METHOD, SAMPLING_METHOD, guardServerRequest } from './sampling.js';

/** What an entry of `inputRequests` may ask for (spec: basic/patterns/mrtr). */
export const INPUT_REQUEST_METHODS: ReadonlySet<string> = new Set([SAMPLING_METHOD, ELICITATION_METHOD, 'roots/list']);

export type InputRequestsDecision =
  /** Refused: the client gets the denial instead of the result. */
  | { deny: Denial; notes: EmbeddedNote[] }
  /** Passed; `result` is set when an entry was rewritten (maxTokens capped). */
  | { result?: Record<string, unknown>; notes: EmbeddedNote[] };

const unchecked = (reason: string): Denial => ({ rule: 'input_requests', reason });

export function guardInputRequests(result: Record<string, unknown>, c: CompiledPolicy): InputRequestsDecision {
  const reqs = result.inputRequests;
  if (reqs === undefined) return { notes: [] };
  if (reqs === null || typeof reqs !== 'object' || Array.isArray(reqs)) {
    return { deny: unchecked('the server sent inputRequests that are not a map of requests, which mcp-guard cannot check'), notes: [] };
  }
  const notes: EmbeddedNote[] = [];
  let denied: Denial | undefined;
  let next: Record<string, unknown> | undefined;
  for (const [key, entry] of Object.entries(reqs as Record<string, unknown>)) {
    const method = entry !== null && typeof entry === 'object' ? (entry as { method?: unknown }).method : undefined;
    const note: EmbeddedNote = { method: typeof method === 'string' ? method : '', key, decision: 'allow' };
    notes.push(note);
    if (denied) continue;
    let d: Denial | undefined;
    if (typeof method !== 'string' || Array.isArray(entry)) {
      d = unchecked('the server sent an input request without a method, which mcp-guard cannot check');
    } else if (!INPUT_REQUEST_METHODS.has(method)) {
      d = unchecked(`the server asked for '${method.slice(0, 64)}' in an input_required result, which mcp-guard does not know how to check`);
    } else {
      const g = guardServerRequest(method, (entry as { params?: unknown }).params, c);
      if (g && 'deny' in g) d = { rule: g.deny.rule, reason: `${g.deny.reason}; it asked for ${method} in an input_required result` };
      else if (g) (next ??= { ...(reqs as Record<string, unknown>) })[key] = { ...(entry as object), params: g.params };
    }
    if (d) {
      denied = d;
      Object.assign(note, { decision: 'block', stage: 'sampling', reason: `${d.rule}: ${d.reason}` });
    }
  }
  if (denied) {
    // The whole result is withheld: the other entries never reach the client either.
    for (const n of notes) if (n.decision === 'allow') Object.assign(n, { decision: 'block', stage: 'sampling', reason: 'withheld with the rest of the input_required result' });
    return { deny: denied, notes };
  }
  return next ? { result: { ...result, inputRequests: next }, notes } : { notes };
}
