// A JSON-RPC message as mcp-guard routes it: its shape, which way it travels, what kind it is, and
// the key its id is tracked under. Every folder that handles messages speaks these words.
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

// Ids are kept as strings with a type tag so that 1 and "1" stay distinct.
export function idKey(id: string | number): string {
  return typeof id === 'number' ? 'n' + id : 's' + id;
}
export function parseIdKey(key: string): string | number {
  return key[0] === 'n' ? Number(key.slice(1)) : key.slice(1);
}
