// The bridge ⇄ daemon wire (DESIGN.md section 4): one JSON line from the bridge, one JSON line back,
// then the client's own newline-delimited JSON-RPC. Credentials travel only here.

export const WIRE_VERSION = 1;
/** A hello line longer than this is refused before it is parsed. */
export const MAX_HELLO_BYTES = 64 * 1024;

export interface Credentials {
  apiKey?: string;
  token?: string;
}

export type Hello =
  | { mcpGuard: number; type: 'connect'; server: string; credentials?: Credentials; client?: { pid?: number } }
  | { mcpGuard: number; type: 'status' | 'health' | 'stop' | 'reload' };

export type HelloReply =
  | { ok: true; session?: string; pid: number; [k: string]: unknown }
  | { ok: false; code: number; kind?: string; error: string };

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
  if (v.type === 'status' || v.type === 'health' || v.type === 'stop' || v.type === 'reload') return { mcpGuard: v.mcpGuard, type: v.type };
  throw new Error(`unknown hello type '${String(v.type)}'`);
}
