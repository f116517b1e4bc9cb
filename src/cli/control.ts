// Talks to a running daemon over its socket with a control hello (status, health, stop, reload).
import { createConnection } from 'node:net';
import { encodeHello, readReply, type ControlType, type HelloReply } from '../protocol/hello.js';

export class NoDaemon extends Error {}

export function control(socketPath: string, type: ControlType, timeoutMs = 5000): Promise<HelloReply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    sock.once('connect', () => {
      sock.off('error', onError);
      sock.on('error', () => {});
      sock.write(encodeHello({ type }));
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
