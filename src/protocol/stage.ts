// The inspection pipeline's one interface (STYLE.md, fastify hooks): every message in either
// direction passes through the same ordered list of stages. A stage is named; the name appears
// in audit rows and errors so that a refusal points at one file. Session runs the stages; detect/
// and policy/ implement them; audit/ records what they noted.
import type { Era } from './era.js';
import type { HoldRequest } from './approval.js';
import type { GuardError, JsonRpcId } from './errors.js';
import type { Identity } from './identity.js';
import type { Direction, JsonRpcMessage, Kind } from './message.js';

export interface Finding {
  /** PII or secret type, e.g. `credit_card`, `aws_access_key`. */
  type: string;
  /** Rule that matched. */
  rule: string;
  /** JSON path of the field where it was found, e.g. `params.arguments.text`. */
  path: string;
  /** Keyed hash of the match (never the match itself). */
  hash: string;
  action: 'block' | 'redact' | 'mask' | 'hash' | 'warn' | 'allow';
}

/** What the audit record says of a message; stages fill it in. */
export interface AuditNote {
  decision: 'allow' | 'block' | 'redact' | 'warn' | 'error';
  stage?: string;
  reason?: string;
  findings?: Finding[];
  /** The logical call a 2026 round belongs to: the request id of its first round, and this round. */
  call?: { id: string; round: number };
  /** The embedded requests of a 2026 `input_required` result, each audited like its 2025 form. */
  embedded?: EmbeddedNote[];
}

/** One `inputRequests` entry: the 2026 form of a server-to-client request (sampling, elicitation, roots). */
export interface EmbeddedNote {
  /** The method the entry stands for, e.g. `sampling/createMessage`. */
  method: string;
  /** Its key in `inputRequests` (the server-assigned identifier, as a 2025 request has an id). */
  key: string;
  decision: AuditNote['decision'];
  stage?: string;
  reason?: string;
  findings?: Finding[];
}

export interface SessionInfo {
  id: string;
  server: string;
  identity: Identity;
}

export interface MessageContext {
  session: SessionInfo;
  direction: Direction;
  kind: Kind;
  /** The method; for a response, the method of the request it answers. */
  method: string;
  id?: JsonRpcId;
  /** Raw bytes of the message (one line, without the newline). */
  line: Buffer;
  msg: JsonRpcMessage;
  /** Monotonic milliseconds when the message arrived. */
  now: number;
  /** For a response: the params of the request it answers (capability filters need them). */
  requestParams?: any;
  /** For a response: the audit note of the request it answers (a 2026 round's logical call). */
  requestNote?: AuditNote;
  /** The protocol era of the message: its own declaration, else its connection's (undefined before either). */
  era?: Era;
  audit: AuditNote;
  /** Set by a stage that looked inside the parsed message (the session then checks it is unambiguous). */
  inspected?: boolean;
  /** Set by the approval stage: the request waits for a person's decision before it is forwarded. */
  hold?: HoldRequest;
}

export type Verdict =
  | undefined
  | { block: GuardError }
  /** The message continues in this rewritten form (redaction, filtering). */
  | { replace: JsonRpcMessage };

export interface Stage {
  readonly name: string;
  /** Return undefined to pass, `{block}` to refuse, `{replace}` to rewrite. May be async. */
  handle(ctx: MessageContext): Verdict | Promise<Verdict>;
  close?(): Promise<void>;
}
