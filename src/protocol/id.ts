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
    if (m) return { id: JSON.parse(m[1]!), hasMethod: hasMethod };
  }
  return parsed(line);
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
