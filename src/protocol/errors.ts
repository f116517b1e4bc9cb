// Errors a client sees when the proxy refuses something (DESIGN.md section 5).
// Thrown or returned in one place (the stages), rendered in one place (renderError).

export const ErrorCode = {
  PolicyDenied: -32001,
  ContentBlocked: -32002,
  RateLimited: -32003,
  NotAuthenticated: -32004,
  UpstreamUnavailable: -32005,
  MessageInvalid: -32006,
  // JSON-RPC's own
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class GuardError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GuardError';
  }
}

export class PolicyDenied extends GuardError {
  constructor(rule: string, reason: string) {
    super(ErrorCode.PolicyDenied, `Denied by mcp-guard policy: ${reason}`, { rule, reason });
  }
}

export class ContentBlocked extends GuardError {
  constructor(types: string[], direction: 'request' | 'response') {
    super(
      ErrorCode.ContentBlocked,
      `Blocked by mcp-guard: the ${direction} contains sensitive data (${types.join(', ')}). Remove it and try again.`,
      { types, direction },
    );
  }
}

export class RateLimited extends GuardError {
  constructor(retryAfterMs: number, limit: string) {
    super(ErrorCode.RateLimited, `Rate limited by mcp-guard (${limit}); retry in ${Math.ceil(retryAfterMs / 1000)} s.`, {
      retryAfterMs,
      limit,
    });
  }
}

export class NotAuthenticated extends GuardError {
  constructor(reason: string) {
    super(ErrorCode.NotAuthenticated, `Not authorised by mcp-guard: ${reason}`, { reason });
  }
}

export class UpstreamUnavailable extends GuardError {
  constructor(server: string, why: string) {
    super(ErrorCode.UpstreamUnavailable, `Upstream MCP server '${server}' is unavailable: ${why}`, { server });
  }
}

export class MessageInvalid extends GuardError {
  constructor(message: string, limit?: number) {
    super(ErrorCode.MessageInvalid, message, limit === undefined ? undefined : { limit });
  }
}

export type JsonRpcId = string | number | null;

/** The one renderer of a refusal: a JSON-RPC error response on the request's own id (no newline). */
export function renderError(id: JsonRpcId, err: GuardError): Buffer {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.data !== undefined) error.data = err.data;
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, error }));
}

export class InspectionFailed extends GuardError {
  constructor(stage: string) {
    super(-32603, `mcp-guard could not inspect this message (stage '${stage}' failed), so it was blocked. Check the daemon log.`, {
      stage,
    });
  }
}
