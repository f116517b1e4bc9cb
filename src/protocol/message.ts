// A JSON-RPC message as mcp-guard routes it: its shape, which way it travels, what kind it is, the
// key its id is tracked under, and what the session tells a client link of each message it sends.
// Every folder that handles messages speaks these words.
import type { JsonRpcId } from './errors.js';

export type Direction = 'c2s' | 's2c';
export type Kind = 'request' | 'notification' | 'response';

export interface JsonRpcMessage {
  jsonrpc?: '2.0';
  id?: JsonRpcId;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

/**
 * What the session knows of a message it sends the client, handed to the client link beside the
 * bytes so that a front can route it without parsing it again. It describes the bytes as sent.
 */
export interface OutgoingMeta {
  readonly kind: Kind;
  /** A request's or response's id (null on a refusal of a message whose id could not be read). */
  readonly id?: JsonRpcId;
  /** A request's or notification's method; a response's is its request's ('' when unknown). */
  readonly method: string;
  /** A request's or notification's params, parsed; shared with the session, so never changed. */
  readonly params?: any;
}

// Ids are kept as strings with a type tag so that 1 and "1" stay distinct.
export function idKey(id: string | number): string {
  return typeof id === 'number' ? 'n' + id : 's' + id;
}
export function parseIdKey(key: string): string | number {
  return key[0] === 'n' ? Number(key.slice(1)) : key.slice(1);
}
