// Talks to a running daemon over its socket with a control hello (status, health, stop, reload).
import { createConnection } from 'node:net';
import { WIRE_VERSION, type HelloReply } from '../protocol/hello.js';

export class NoDaemon extends Error {}

export function control(socketPath: string, type: 'status' | 'health' | 'stop' | 'reload', timeoutMs = 5000): Promise<HelloReply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the daemon at ${socketPath} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => sock.write(JSON.stringify({ mcpGuard: WIRE_VERSION, type }) + '\n'));
    sock.on('data', (c) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(t);
      sock.destroy();
      try {
        resolve(JSON.parse(buf.slice(0, nl)));
      } catch {
        reject(new Error('the daemon sent a malformed reply'));
      }
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(t);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NoDaemon(`no mcp-guard daemon is running (socket ${socketPath})`));
      else reject(err);
    });
  });
}
