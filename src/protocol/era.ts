// The two protocol eras (ERAS.md): 2025 opens a connection with `initialize`; 2026-07-28 is
// stateless and every request carries a `_meta` envelope with its protocol version and the client's
// capabilities. A message tells its own era when it can; the bridge path pins the era of a
// connection from its first successful exchange (session.ts), the HTTP front decides per request.
// Names of the envelope keys and of the 2026 result fields live here so every folder spells them alike.

export type Era = '2025' | '2026';
export const ERAS: readonly Era[] = ['2025', '2026'];

export const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
export const SUBSCRIPTION_ID_KEY = 'io.modelcontextprotocol/subscriptionId';

/** 2026-era revisions whose rules mcp-guard enforces. A request declaring another is not passed on. */
export const MODERN_VERSIONS: readonly string[] = ['2026-07-28'];

/** Requests whose result may be `input_required` (spec: basic/patterns/mrtr). */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** The protocol version a 2026-era message declares in its `_meta`, if any. */
export function declaredVersion(params: unknown): string | undefined {
  if (params === null || typeof params !== 'object') return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (meta === null || typeof meta !== 'object') return undefined;
  const v = (meta as Record<string, unknown>)[PROTOCOL_VERSION_KEY];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The era a client message declares: `initialize` is 2025, a `_meta` protocol version is 2026.
 * Undefined when the message says neither (a 2025 request after initialize, a notification).
 */
export function eraOf(method: string, params: unknown): Era | undefined {
  if (method === 'initialize') return '2025';
  return declaredVersion(params) !== undefined ? '2026' : undefined;
}

/** A 2026 result that asks the client for more input before the call can complete. */
export function isInputRequired(result: unknown): result is { resultType: 'input_required'; inputRequests?: unknown; requestState?: unknown } {
  return result !== null && typeof result === 'object' && (result as { resultType?: unknown }).resultType === 'input_required';
}

/** A client request that retries a call: it answers input requests or echoes a request state. */
export function isRetry(params: unknown): boolean {
  if (params === null || typeof params !== 'object') return false;
  const p = params as Record<string, unknown>;
  return p.requestState !== undefined || p.inputResponses !== undefined;
}
