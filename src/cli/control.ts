// Talks to a running daemon over its socket with a control hello (status, health, stop, reload),
// and finds that daemon from what locating could read of a config that may be broken.
import { createConnection } from 'node:net';
import { encodeHello, readReply, type ApprovalsRequest, type ControlType, type HelloReply } from '../protocol/hello.js';
import type { Located } from '../config/locate.js';

export class NoDaemon extends Error {}

export function control(socketPath: string, type: ControlType | ({ type: 'approvals' } & ApprovalsRequest), timeoutMs = 5000): Promise<HelloReply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    sock.once('connect', () => {
      sock.off('error', onError);
      sock.on('error', () => {});
      sock.write(encodeHello(typeof type === 'string' ? { type } : type));
      readReply(sock, timeoutMs).then(
        ({ reply }) => {
          sock.destroy();
          resolve(reply);
        },
        (err: Error & { reason?: string }) => {
          sock.destroy();
          reject(err.reason === 'timeout' ? new Error(`the daemon at ${socketPath} did not answer within ${timeoutMs} ms`) : new Error(`the daemon at ${socketPath}: ${err.message}`));
        },
      );
    });
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NoDaemon(`no mcp-guard daemon is running (socket ${socketPath})`));
      else reject(err);
    };
    sock.once('error', onError);
  });
}

/**
 * The daemon of a config, where locating found it. When the file did not say exactly where
 * (it is broken where the daemon section is), the default place is used only if the daemon there
 * says it runs this very file: a control command never stops or reloads someone else's daemon.
 */
export async function daemonOf(located: Located): Promise<Located> {
  if (located.exact) return located;
  const why = located.problem ? `; ${located.path} cannot be read fully: ${located.problem}` : '';
  let r: HelloReply;
  try {
    r = await control(located.socketPath, 'status');
  } catch (err) {
    if (err instanceof NoDaemon) throw new NoDaemon(`${err.message}${why}`);
    throw err;
  }
  if (r.ok && r.config === located.path) return located;
  throw new NoDaemon(`cannot tell where the daemon of ${located.path} runs${why} (the daemon at ${located.socketPath} runs ${r.ok ? String(r.config) : 'another config'})`);
}
