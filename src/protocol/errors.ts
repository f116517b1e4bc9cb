// Errors a client sees when the proxy refuses something (DESIGN.md section 5). Each kind of refusal
// is its own class with one code and a stable `data.kind`; all are rendered by `renderError`, and
// the HTTP front takes its status from `httpStatus`. Codes live in -32007..-32019: inside the range
// the MCP spec leaves to implementations (-32000..-32019), clear of what the SDKs use (-32000
// connection closed, -32001 request timeout), of the reserved -32002 (resource not found), and of
// the codes mcp-guard used before 0.2 (-32001..-32006), so an old code is never read as a new kind.

export type JsonRpcId = string | number | null;

export const ErrorCode = {
  Denied: -32007,
  Blocked: -32008,
  RateLimited: -32009,
  Unauthenticated: -32010,
  UpstreamUnavailable: -32011,
  TooLarge: -32012,
  ApprovalDenied: -32013,
  ApprovalExpired: -32014,
  Internal: -32015,
  SessionNotFound: -32016,
  DuplicateId: -32017,
  UnknownServer: -32018,
  BadTransport: -32019,
  // JSON-RPC's own, for input that is not a valid message at all.
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  // The MCP spec's own (2026-07-28), where the spec prescribes them for a transport check.
  HeaderMismatch: -32020,
  UnsupportedProtocolVersion: -32022,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export type RefusalKind =
  | 'denied'
  | 'blocked'
  | 'rate_limited'
  | 'unauthenticated'
  | 'upstream_unavailable'
  | 'too_large'
  | 'approval_denied'
  | 'approval_expired'
  | 'internal'
  | 'session_not_found'
  | 'duplicate_id'
  | 'unknown_server'
  | 'bad_transport'
  | 'parse_error'
  | 'invalid_request'
  | 'method_not_found'
  | 'invalid_params'
  | 'header_mismatch'
  | 'unsupported_protocol_version';

/** The base of every refusal. Not constructed directly: each kind has its class below. */
export abstract class GuardError extends Error {
  abstract readonly code: ErrorCodeValue;
  abstract readonly kind: RefusalKind;
  /** HTTP status when the front answers this refusal itself (before or outside a session). */
  abstract readonly status: number;
  /** Extra HTTP headers for the front's answer (WWW-Authenticate, Retry-After, Allow). */
  headers?: Record<string, string>;

  constructor(
    message: string,
    /** The rest of `error.data`; `kind` is added by the renderer. Never a matched value or a credential. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  get data(): Record<string, unknown> {
    return { kind: this.kind, ...this.details };
  }
}

/** Denied by policy: a tool, resource, prompt, argument rule, role or pinning rule. */
export class PolicyDenied extends GuardError {
  readonly code = ErrorCode.Denied;
  readonly kind = 'denied';
  readonly status = 403;
  constructor(rule: string, reason: string) {
    super(`Denied by mcp-guard policy: ${reason}`, { rule, reason });
  }
}

/** PII or a secret was found; `types` names what, never the text. */
export class ContentBlocked extends GuardError {
  readonly code = ErrorCode.Blocked;
  readonly kind = 'blocked';
  readonly status = 403;
  constructor(types: string[], direction: 'request' | 'response', message?: string) {
    super(
      message ??
        (direction === 'request'
          ? `Blocked by mcp-guard: the request contains sensitive data (${types.join(', ')}). Remove it and try again.`
          : `Blocked by mcp-guard: the server's response contains sensitive data (${types.join(', ')}), so it was withheld. Ask the administrator of mcp-guard if you need it.`),
      { types, direction },
    );
  }
}

export class RateLimited extends GuardError {
  readonly code = ErrorCode.RateLimited;
  readonly kind = 'rate_limited';
  readonly status = 429;
  constructor(retryAfterMs: number, limit: string) {
    super(`Rate limited by mcp-guard (${limit}); retry in ${Math.ceil(retryAfterMs / 1000)} s.`, { retryAfterMs, limit });
    this.headers = { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  }
}

/** Not authenticated, or authenticated but not authorised for this server (`forbidden`: HTTP 403). */
export class NotAuthenticated extends GuardError {
  readonly code = ErrorCode.Unauthenticated;
  readonly kind = 'unauthenticated';
  readonly status: number;
  constructor(reason: string, opts: { forbidden?: boolean; headers?: Record<string, string> } = {}) {
    super(`Not authorised by mcp-guard: ${reason}`, { reason });
    this.status = opts.forbidden ? 403 : 401;
    if (opts.headers) this.headers = opts.headers;
  }
}

/** The upstream crashed, did not start, timed out, or the daemon is stopping. */
export class UpstreamUnavailable extends GuardError {
  readonly code = ErrorCode.UpstreamUnavailable;
  readonly kind = 'upstream_unavailable';
  readonly status = 503;
  constructor(server: string, why: string) {
    super(`Upstream MCP server '${server}' is unavailable: ${why}`, { server });
    this.headers = { 'Retry-After': '5' };
  }
}

export class MessageTooLarge extends GuardError {
  readonly code = ErrorCode.TooLarge;
  readonly kind = 'too_large';
  readonly status = 413;
  constructor(message: string, limit: number) {
    super(message, { limit });
  }
}

/** A person denied a held call. */
export class ApprovalDenied extends GuardError {
  readonly code = ErrorCode.ApprovalDenied;
  readonly kind = 'approval_denied';
  readonly status = 403;
  constructor(approval: string, reason: string) {
    super(`Denied by the approver in mcp-guard: ${reason}`, { approval, reason });
  }
}

/** Nobody decided on a held call in time. */
export class ApprovalExpired extends GuardError {
  readonly code = ErrorCode.ApprovalExpired;
  readonly kind = 'approval_expired';
  readonly status = 403;
  constructor(approval: string, reason: string) {
    super(`Not approved in time by mcp-guard: ${reason}`, { approval, reason });
  }
}

/** Something in mcp-guard failed; the message was blocked (fail closed). Details go to the daemon log only. */
export class InternalError extends GuardError {
  readonly code = ErrorCode.Internal;
  readonly kind = 'internal';
  readonly status = 500;
  constructor(message = 'internal error in mcp-guard, so the message was blocked; see the daemon log', details: Record<string, unknown> = {}) {
    super(message, details);
  }
}

/** An inspection stage threw or timed out: the message is blocked. */
export class InspectionFailed extends InternalError {
  constructor(stage: string, why?: string) {
    super(`mcp-guard could not inspect this message (stage '${stage}' ${why ?? 'failed'}), so it was blocked. Check the daemon log.`, { stage });
  }
}

/** An HTTP session id that is unknown, ended, or belongs to someone else. */
export class SessionNotFound extends GuardError {
  readonly code = ErrorCode.SessionNotFound;
  readonly kind = 'session_not_found';
  readonly status = 404;
  constructor(reason = 'session not found; initialize a new session') {
    super(reason);
  }
}

export class DuplicateId extends GuardError {
  readonly code = ErrorCode.DuplicateId;
  readonly kind = 'duplicate_id';
  readonly status = 409;
  constructor(id: string | number) {
    super(`Request id ${JSON.stringify(id)} is already in flight in this session; use a new id.`, { id });
  }
}

export class UnknownServer extends GuardError {
  readonly code = ErrorCode.UnknownServer;
  readonly kind = 'unknown_server';
  readonly status = 404;
  constructor(server: string, known?: readonly string[], where?: string) {
    super(
      `Unknown server '${server}'` +
        (known ? ` (configured: ${known.length ? known.join(', ') : 'none'})` : '') +
        (where ? ` in ${where}` : ''),
      { server },
    );
  }
}

/** An HTTP request mcp-guard cannot take as it is: method, headers, content type, host, origin. */
export class BadTransport extends GuardError {
  readonly code = ErrorCode.BadTransport;
  readonly kind = 'bad_transport';
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 406 | 409 | 415,
    message: string,
    headers?: Record<string, string>,
  ) {
    super(message);
    if (headers) this.headers = headers;
  }
}

/** The bytes are not JSON. */
export class ParseError extends GuardError {
  readonly code = ErrorCode.ParseError;
  readonly kind = 'parse_error';
  readonly status = 400;
  constructor(message = 'Parse error: the message is not valid JSON.') {
    super(message);
  }
}

/** JSON, but not a JSON-RPC 2.0 message mcp-guard can pass on. */
export class InvalidRequest extends GuardError {
  readonly code = ErrorCode.InvalidRequest;
  readonly kind = 'invalid_request';
  readonly status = 400;
  constructor(message: string) {
    super(`Invalid request: ${message}`);
  }
}

/** A method the front knows is not part of the protocol revision the request declares (2026: initialize). */
export class MethodNotFound extends GuardError {
  readonly code = ErrorCode.MethodNotFound;
  readonly kind = 'method_not_found';
  readonly status = 404;
  constructor(message: string) {
    super(`Method not found: ${message}`);
  }
}

/** A 2026 request whose `_meta` envelope is missing or malformed (the front checks it before anything else). */
export class InvalidParams extends GuardError {
  readonly code = ErrorCode.InvalidParams;
  readonly kind = 'invalid_params';
  readonly status = 400;
  constructor(message: string) {
    super(`Invalid params: ${message}`);
  }
}

/** A 2026 HTTP request whose MCP-Protocol-Version, Mcp-Method or Mcp-Name header is missing or says otherwise than its body (spec code). */
export class HeaderMismatch extends GuardError {
  readonly code = ErrorCode.HeaderMismatch;
  readonly kind = 'header_mismatch';
  readonly status = 400;
  constructor(message: string) {
    super(`Header mismatch: ${message}`);
  }
}

/** A 2026 request for a protocol revision mcp-guard does not enforce; `supported` lists those it does (spec code and data). */
export class UnsupportedProtocolVersion extends GuardError {
  readonly code = ErrorCode.UnsupportedProtocolVersion;
  readonly kind = 'unsupported_protocol_version';
  readonly status = 400;
  constructor(requested: string, supported: readonly string[]) {
    super(`Unsupported protocol version '${requested}' (mcp-guard supports ${supported.join(', ')})`, { supported: [...supported], requested });
  }
}

/** A refusal the daemon decided (a hello reply), answered by the bridge with the daemon's own code, kind and words. */
export class RelayedRefusal extends GuardError {
  readonly status = 502;
  constructor(
    readonly code: ErrorCodeValue,
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
  }
}

/** The one renderer of a refusal: a JSON-RPC error response on the request's own id (no newline). */
export function renderError(id: JsonRpcId, err: GuardError): Buffer {
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.code, message: err.message, data: err.data } }));
}
