// Server-to-client requests that make the client act for the server: sampling/createMessage
// (runs the user's model) and elicitation/create (asks the user for input). Allowed only when
// the server's policy enables them (off by default, see compiled.ts). maxTokens above the cap
// is rewritten down to the cap (the request still works, within the budget); a missing or
// invalid maxTokens is set to the cap when there is one, refused otherwise if not a number.
import type { CompiledPolicy } from './compiled.js';
import type { Denial } from './permissions.js';

export const SAMPLING_METHOD = 'sampling/createMessage';
export const ELICITATION_METHOD = 'elicitation/create';

export type ServerRequestDecision = undefined | { deny: Denial } | { params: Record<string, unknown> };

export function guardServerRequest(method: string, params: unknown, c: CompiledPolicy): ServerRequestDecision {
  if (method === ELICITATION_METHOD) {
    if (!c.elicitation.enabled)
      return {
        deny: {
          rule: 'elicitation.enabled',
          reason: 'this server may not ask the user for input (elicitation is disabled in its policy)',
        },
      };
    return undefined;
  }
  if (method !== SAMPLING_METHOD) return undefined;
  if (!c.sampling.enabled)
    return {
      deny: {
        rule: 'sampling.enabled',
        reason: 'this server may not request LLM completions from the client (sampling is disabled in its policy)',
      },
    };
  const cap = c.sampling.maxTokens;
  const p = params !== null && typeof params === 'object' ? (params as Record<string, unknown>) : undefined;
  const mt = p?.maxTokens;
  const valid = typeof mt === 'number' && Number.isFinite(mt) && mt > 0;
  if (cap === undefined) {
    if (p && 'maxTokens' in p && !valid)
      return { deny: { rule: 'sampling.max_tokens', reason: 'sampling request has an invalid maxTokens' } };
    return undefined;
  }
  if (valid && (mt as number) <= cap) return undefined;
  return { params: { ...(p ?? {}), maxTokens: cap } };
}
