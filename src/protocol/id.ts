// Finds a JSON-RPC message's top-level id without changing it, for the bridge's side watch of
// pending requests. A line is read at its head (is `method` or `result` first?) and its tail or
// head (where serialisers put the id); it is parsed only when those places do not tell.
import type { JsonRpcId } from './errors.js';

export interface Peek {
  id?: JsonRpcId;
  /** True for requests and notifications (they carry a method). */
  hasMethod: boolean;
}

const EDGE = 256;
// A top-level id is the last member when followed by exactly one closing brace (a nested one by more).
const TAIL = /"id"\s*:\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*")\s*\}\s*$/;
const HEAD = /^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*")/;
// The first member tells requests from responses when serialisers put `method` or `result` first.
const HEAD_METHOD = /^\s*\{\s*("jsonrpc"\s*:\s*"2\.0"\s*,\s*)?("id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*,\s*)?"method"\s*:/;
const HEAD_RESULT = /^\s*\{\s*("jsonrpc"\s*:\s*"2\.0"\s*,\s*)?("id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*,\s*)?"(result|error)"\s*:/;

export function peekMessage(line: Buffer): Peek {
  const head = line.subarray(0, EDGE).toString('latin1');
  const hasMethod = HEAD_METHOD.test(head);
  if (hasMethod || HEAD_RESULT.test(head)) {
    const m = TAIL.exec(line.subarray(Math.max(0, line.length - EDGE)).toString('latin1')) ?? HEAD.exec(head);
    const id = m ? capture(m[1]!) : undefined;
    if (id !== undefined) return { id, hasMethod };
  }
  return parsed(line);
}

/**
 * The id of a line that was too large to keep, from its edges (framing's `oversize`): only what
 * the head and tail say, never a parse of the whole. Undefined unless it is a request.
 */
export function peekOversizeId(edges: Buffer): string | number | undefined {
  const head = edges.subarray(0, EDGE).toString('latin1');
  if (!HEAD_METHOD.test(head)) return undefined;
  const m = TAIL.exec(edges.subarray(Math.max(0, edges.length - EDGE)).toString('latin1')) ?? HEAD.exec(head);
  return m ? capture(m[1]!) : undefined;
}

/** A captured id token; undefined when it is not valid JSON (`01`, `"\q"`), which the regexes admit. */
function capture(token: string): string | number | undefined {
  try {
    return JSON.parse(token);
  } catch {
    return undefined;
  }
}

function parsed(line: Buffer): Peek {
  try {
    const v = JSON.parse(line.toString('utf8'));
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { hasMethod: false };
    const id = typeof v.id === 'string' || typeof v.id === 'number' ? v.id : undefined;
    return { id, hasMethod: typeof v.method === 'string' };
  } catch {
    return { hasMethod: false };
  }
}
