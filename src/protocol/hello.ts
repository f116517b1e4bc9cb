// The bridge ⇄ daemon wire (DESIGN.md section 4): one JSON line from the bridge, one JSON line back,
// then the client's own newline-delimited JSON-RPC. Credentials travel only here. This file is the
// one reader and writer of those two lines, for the bridge, the daemon and the control commands.
import type { Socket } from 'node:net';
import type { GuardError } from './errors.js';

export const WIRE_VERSION = 1;
/** A hello line (or a reply) longer than this is refused before it is parsed. */
export const MAX_HELLO_BYTES = 64 * 1024;

export interface Credentials {
  apiKey?: string;
  token?: string;
}

/** `pins`: the pin store changed (`mcp-guard pins approve | reset`); the daemon re-reads it and tells live sessions. */
export type ControlType = 'status' | 'health' | 'stop' | 'reload' | 'pins';
const CONTROL: readonly string[] = ['status', 'health', 'stop', 'reload', 'pins'] satisfies ControlType[];

/** `approvals`: the calls held for a person's decision (`mcp-guard approvals list | approve | deny`). */
export interface ApprovalsRequest {
  action: 'list' | 'approve' | 'deny';
  id?: string;
  reason?: string;
  /** approve/deny: a prefix of the binding the person read; a different call is not decided. */
  hash?: string;
}
const APPROVAL_ACTIONS: readonly string[] = ['list', 'approve', 'deny'] satisfies ApprovalsRequest['action'][];
/** Longest approval reason a person may give (it goes into the audit row and the refusal). */
export const MAX_APPROVAL_REASON = 500;

export type Hello =
  | { mcpGuard: number; type: 'connect'; server: string; credentials?: Credentials; client?: { pid?: number } }
  | { mcpGuard: number; type: ControlType }
  | ({ mcpGuard: number; type: 'approvals' } & ApprovalsRequest);

export type HelloReply =
  | { ok: true; session?: string; pid: number; [k: string]: unknown }
  | { ok: false; code: number; kind?: string; error: string };

/** Why a hello line could not be had: the daemon answers each with its own refusal. */
export class HelloLineError extends Error {
  constructor(
    readonly reason: 'timeout' | 'too_large' | 'closed' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'HelloLineError';
  }
}

/** The hello line a bridge or control command sends (with the wire version). */
export function encodeHello(hello: Omit<Extract<Hello, { type: 'connect' }>, 'mcpGuard'> | { type: ControlType } | ({ type: 'approvals' } & ApprovalsRequest)): Buffer {
  return Buffer.from(JSON.stringify({ mcpGuard: WIRE_VERSION, ...hello }) + '\n');
}

/** The daemon's answer line. */
export function encodeReply(reply: HelloReply): Buffer {
  return Buffer.from(JSON.stringify(reply) + '\n');
}

/** A refused hello, from the refusal's own class: its code, kind and words. */
export function refusalReply(err: GuardError): HelloReply {
  return { ok: false, code: err.code, kind: err.kind, error: err.message };
}

export function parseHello(line: Buffer): Hello {
  let v: any;
  try {
    v = JSON.parse(line.toString('utf8'));
  } catch {
    throw new Error('the first line is not a JSON hello; connect through `mcp-guard connect`');
  }
  if (!v || typeof v !== 'object' || typeof v.mcpGuard !== 'number') throw new Error('the first line is not an mcp-guard hello');
  if (v.mcpGuard !== WIRE_VERSION) throw new Error(`wire version ${v.mcpGuard} is not supported (daemon speaks ${WIRE_VERSION}); restart the daemon after upgrading`);
  if (v.type === 'connect') {
    if (typeof v.server !== 'string' || !v.server) throw new Error('hello names no server');
    const c = v.credentials;
    if (c !== undefined && (typeof c !== 'object' || c === null)) throw new Error('hello credentials must be an object');
    return { mcpGuard: v.mcpGuard, type: 'connect', server: v.server, credentials: c, client: v.client };
  }
  if (CONTROL.includes(v.type)) return { mcpGuard: v.mcpGuard, type: v.type };
  if (v.type === 'approvals') {
    if (!APPROVAL_ACTIONS.includes(v.action)) throw new Error(`unknown approvals action '${String(v.action)}'`);
    const str = (k: string, max: number): string | undefined => {
      if (v[k] === undefined) return undefined;
      if (typeof v[k] !== 'string' || v[k].length > max) throw new Error(`approvals ${k} must be a string of at most ${max} characters`);
      return v[k];
    };
    const out = { mcpGuard: v.mcpGuard, type: 'approvals' as const, action: v.action, id: str('id', 64), reason: str('reason', MAX_APPROVAL_REASON), hash: str('hash', 64) };
    if (out.action !== 'list' && !out.id) throw new Error(`approvals ${out.action} needs the id of a held call`);
    return out;
  }
  throw new Error(`unknown hello type '${String(v.type)}'`);
}

export function parseReply(line: Buffer): HelloReply {
  let v: any;
  try {
    v = JSON.parse(line.toString('utf8'));
  } catch {
    throw new Error('the daemon sent a malformed reply');
  }
  if (v && v.ok === true && typeof v.pid === 'number') return v;
  if (v && v.ok === false && typeof v.code === 'number' && typeof v.error === 'string') return v;
  throw new Error('the daemon sent a malformed reply');
}

/**
 * The first line of `sock` and the bytes after it. The socket is paused when the line is found,
 * so nothing that follows is lost before its next reader listens (a flowing socket with no 'data'
 * listener drops data); that reader resumes it.
 */
export function readLine(sock: Socket, timeoutMs: number, maxBytes = MAX_HELLO_BYTES): Promise<{ line: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err?: HelloLineError, v?: { line: Buffer; rest: Buffer }) => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      if (err) reject(err);
      else resolve(v!);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const nl = buf.indexOf(0x0a);
      if (nl === -1) {
        if (buf.length > maxBytes) done(new HelloLineError('too_large', `the first line is longer than ${maxBytes} bytes`));
        return;
      }
      sock.pause();
      done(undefined, { line: buf.subarray(0, nl), rest: buf.subarray(nl + 1) });
    };
    const onClose = () => done(new HelloLineError('closed', 'the connection closed before its first line'));
    const timer = setTimeout(() => done(new HelloLineError('timeout', `no line within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    sock.on('data', onData);
    sock.once('close', onClose);
  });
}

/** The daemon's side: the bridge's hello and what followed it. */
export async function readHello(sock: Socket, timeoutMs: number): Promise<{ hello: Hello; rest: Buffer }> {
  const { line, rest } = await readLine(sock, timeoutMs);
  try {
    return { hello: parseHello(line), rest };
  } catch (err) {
    throw new HelloLineError('malformed', (err as Error).message);
  }
}

/** The bridge's and control commands' side: the daemon's answer and what followed it. */
export async function readReply(sock: Socket, timeoutMs: number): Promise<{ reply: HelloReply; rest: Buffer }> {
  const { line, rest } = await readLine(sock, timeoutMs, Number.MAX_SAFE_INTEGER);
  try {
    return { reply: parseReply(line), rest };
  } catch (err) {
    throw new HelloLineError('malformed', (err as Error).message);
  }
}
