// The bridge (`mcp-guard connect --server NAME`): a thin stdio relay with no policy logic. It finds
// or starts the daemon, sends the hello, then pipes bytes both ways untouched. It watches request
// ids on the side (without changing a byte) so that if the daemon goes away, every request still
// pending gets a JSON-RPC error instead of hanging. It never talks to an upstream itself.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { privateFile } from '../protocol/private-files.js';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../protocol/framing.js';
import { hop } from '../protocol/hops.js';
import { encodeHello, readReply, type Credentials, type HelloReply } from '../protocol/hello.js';
import { NotAuthenticated, RelayedRefusal, UpstreamUnavailable, renderError, type ErrorCodeValue, type GuardError, type JsonRpcId, type RefusalKind } from '../protocol/errors.js';
import type { DaemonPlace } from '../config/locate.js';
import { peekMessage, type Peek } from '../protocol/id.js';
import { idKey } from '../protocol/message.js';

export interface BridgeOptions {
  loaded: DaemonPlace;
  server: string;
  credentials?: Credentials;
  /** Set when the bridge could not load the client's credential: answer `unauthenticated` with this reason and exit 1. */
  refuse?: string;
  /** Set when the bridge cannot tell which daemon to use: answer `upstream_unavailable` with this reason and exit 1. */
  unavailable?: string;
  /** How long to wait for a daemon to come up, in ms. */
  timeoutMs: number;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/**
 * The longest line the id watch keeps whole. A longer one is only looked at by its edges (where
 * serialisers put the id): its bytes still pass untouched, but the bridge never holds a line the
 * client could make as large as it likes.
 */
const WATCH_MAX_LINE = 1024 * 1024;
/** After the daemon goes away (or refuses), requests that follow are still answered for this long, unless stdin ends first. */
const GRACE_MS = 2000;
/** Authentication may fetch a JWKS: the daemon answers the hello within its own limits, this is a backstop. */
const HELLO_REPLY_TIMEOUT_MS = 30_000;

/** Runs until the client closes stdin or the daemon goes away; resolves to the exit code. */
export async function runBridge(opts: BridgeOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const pending = new Map<string, JsonRpcId>();
  let stdinEnded = false;
  let early: Buffer[] = [];

  // Track client requests from the first byte, also while connecting. Whatever the client writes,
  // this is bookkeeping only: it must never throw, and never stop the bytes.
  const noteRequest = (p: Peek) => {
    if (p.hasMethod && p.id !== undefined && p.id !== null) pending.set(idKey(p.id), p.id);
  };
  const fromClient = new LineSplitter(WATCH_MAX_LINE, {
    line: (l) => noteRequest(peekMessage(l)),
    // The daemon answers an oversized request on the id its edges carry: expect that answer.
    oversize: (_n, edges) => noteRequest(peekMessage(edges)),
  });
  // Until the daemon has accepted the hello, the client's bytes wait here, in order.
  let sock: Socket | undefined;
  /** Set once the daemon refused or went away: from then on every request is answered with it. */
  let failure: GuardError | undefined;
  const answerPending = () => {
    for (const id of pending.values()) write(Buffer.concat([renderError(id, failure!), NEWLINE]));
    pending.clear();
  };
  const write = (b: Buffer) => {
    if (!stdout.writable) return true;
    return stdout.write(b);
  };
  const onStdin = (c: Buffer) => {
    hop('bridge-from-client');
    // Bytes first, bookkeeping after: the daemon starts on them while the ids are noted.
    if (failure) {
      fromClient.push(c);
      return answerPending();
    }
    if (sock) {
      // Back-pressure: a client writing faster than the daemon reads waits, instead of growing this process.
      if (!sock.write(c)) {
        stdin.pause();
        sock.once('drain', () => stdin.resume());
      }
    } else early.push(c);
    fromClient.push(c);
  };
  stdin.on('data', onStdin);
  stdin.on('error', () => {}); // a client that vanished: 'end' or 'close' follows
  stdout.on('error', () => {}); // EPIPE when the client stopped reading: nothing to tell it
  const stdinDone = new Promise<void>((r) => {
    const ended = () => ((stdinEnded = true), r());
    stdin.once('end', ended);
    stdin.once('close', ended);
  });

  const fail = (err: GuardError): Promise<number> => {
    stderr.write(`mcp-guard: ${err.message}\n`);
    // Answer what the client already asked, and whatever it asks in the next moment, then exit.
    failure = err;
    answerPending();
    stdin.resume();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        stdin.off('data', onStdin);
        resolve(1);
      };
      const t = setTimeout(done, GRACE_MS);
      stdinDone.then(done);
    });
  };

  const unavailable = (why: string) => new UpstreamUnavailable(opts.server, why);
  if (opts.refuse !== undefined) return fail(new NotAuthenticated(opts.refuse));
  if (opts.unavailable !== undefined) return fail(unavailable(opts.unavailable));

  let conn: Socket;
  try {
    conn = await connectOrStart(opts.loaded, opts.timeoutMs);
  } catch (err) {
    return fail(unavailable(await explainStartFailure(opts.loaded, err as Error)));
  }
  conn.on('error', () => {}); // a reset: reported through 'close'

  conn.write(encodeHello({ type: 'connect', server: opts.server, credentials: opts.credentials, client: { pid: process.pid } }));
  let reply: HelloReply;
  let rest: Buffer;
  try {
    ({ reply, rest } = await readReply(conn, HELLO_REPLY_TIMEOUT_MS));
  } catch (err) {
    conn.destroy();
    return fail(unavailable(`the daemon did not answer the hello (${(err as Error).message})`));
  }
  if (!reply.ok) {
    conn.destroy();
    return fail(new RelayedRefusal(reply.code as ErrorCodeValue, (reply.kind ?? 'upstream_unavailable') as RefusalKind, reply.error));
  }

  // Piping: bytes go through unchanged; responses are watched only to forget answered ids.
  const noteAnswer = (l: Buffer) => {
    if (pending.size === 0) return;
    const p = peekMessage(l);
    if (!p.hasMethod && p.id !== undefined && p.id !== null) pending.delete(idKey(p.id));
  };
  const fromDaemon = new LineSplitter(WATCH_MAX_LINE, { line: noteAnswer, oversize: (_n, edges) => noteAnswer(edges) });
  const toClient = (c: Buffer) => {
    hop('bridge-from-daemon');
    const ok = write(c);
    fromDaemon.push(c);
    if (!ok) {
      conn.pause();
      stdout.once('drain', () => conn.resume());
    }
  };
  // readReply paused the socket at the end of the reply; resume() lets it flow from a later tick,
  // so `rest` (what came with the reply) reaches the client first.
  conn.on('data', toClient);
  conn.resume();
  if (rest.length) toClient(rest);
  for (const c of early) conn.write(c);
  early = [];
  sock = conn;
  stdinDone.then(() => conn.end());

  return new Promise((resolve) => {
    conn.on('close', () => {
      if (stdinEnded) return resolve(0);
      fail(unavailable('the mcp-guard daemon went away; pending requests were failed. Reconnect to start it again.')).then(resolve);
    });
  });
}

const NEWLINE = Buffer.from('\n');

/** When the daemon could not start, a broken config is the usual reason: say exactly what is wrong. */
async function explainStartFailure(located: DaemonPlace, err: Error): Promise<string> {
  try {
    const { loadConfig } = await import('../config/loader.js');
    await loadConfig(located.path);
  } catch (cfgErr) {
    if ((cfgErr as Error).name === 'ConfigError') return `the config is invalid:\n${(cfgErr as Error).message}`;
  }
  return err.message;
}

function tryConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Connect to the daemon's socket, starting the daemon (detached) when none answers. */
export async function connectOrStart(loaded: DaemonPlace, timeoutMs: number): Promise<Socket> {
  try {
    return await tryConnect(loaded.socketPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw new Error(`cannot reach the daemon at ${loaded.socketPath}: ${code}`);
  }
  const child = startDaemonDetached(loaded);
  let exited: number | null = null;
  child.once('exit', (c) => (exited = c ?? 1));
  const deadline = Date.now() + timeoutMs;
  // A daemon takes about a second to start. Trying its socket every 15 ms costs next to nothing
  // (a refused connect) and finds it at most 15 ms late, where a backoff to 200 ms lost 100 on average.
  const delay = 15;
  for (;;) {
    try {
      return await tryConnect(loaded.socketPath);
    } catch {
      /* not up yet */
    }
    // A daemon that lost the start race exits 0 while the winner comes up: keep waiting for it.
    if (exited !== null && exited !== 0) {
      throw new Error(`the daemon failed to start (exit code ${exited}); see ${join(loaded.home, 'daemon.log')}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`no daemon answered at ${loaded.socketPath} within ${Math.round(timeoutMs / 1000)} s; see ${join(loaded.home, 'daemon.log')}`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

export function startDaemonDetached(loaded: DaemonPlace) {
  mkdirSync(loaded.home, { recursive: true, mode: 0o700 });
  const logPath = join(loaded.home, 'daemon.log');
  privateFile(logPath); // a log kept from an older version may be looser
  const logFd = openSync(logPath, 'a', 0o600);
  const env = { ...process.env };
  // A bridge's credentials are for its own hello, never for the daemon's environment.
  delete env.MCP_GUARD_API_KEY;
  delete env.MCP_GUARD_TOKEN;
  const child = spawn(process.execPath, [MAIN, 'start', '--config', loaded.path, '--quiet-if-running'], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env,
  });
  closeSync(logFd);
  child.unref();
  return child;
}
