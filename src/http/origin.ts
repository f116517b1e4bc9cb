// Where the HTTP front listens, and who may reach it from a browser: on a loopback listener a
// request must name a loopback host (DNS rebinding), and a cross-origin page must be allowed.
import type { IncomingMessage } from 'node:http';
import { BadTransport } from '../protocol/errors.js';

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new Error(`daemon.http.listen '${listen}' is not host:port (e.g. 127.0.0.1:8080)`);
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`daemon.http.listen '${listen}': port out of range`);
  return { host: host || '0.0.0.0', port };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** DNS rebinding: on a loopback listener, a request must name a loopback host (or an allowed one). */
export function checkHost(req: IncomingMessage, loopback: boolean, allowedOrigins: readonly string[]): void {
  if (!loopback) return;
  const host = req.headers.host;
  if (!host) throw new BadTransport(400, 'missing Host header');
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    throw new BadTransport(400, 'bad Host header');
  }
  if (isLoopbackHost(hostname)) return;
  for (const o of allowedOrigins) {
    try {
      if (new URL(o).host === host) return;
    } catch {
      /* not a URL: ignore */
    }
  }
  throw new BadTransport(403, `Host '${host}' is not allowed on a loopback listener (DNS rebinding protection); add its origin to daemon.http.allowed_origins`);
}

/** Returns the origin to echo for CORS when it is allowed and cross-origin; throws 403 otherwise. */
export function checkOrigin(req: IncomingMessage, allowedOrigins: readonly string[]): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (allowedOrigins.includes(origin)) return origin;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new BadTransport(403, `Origin '${origin}' is not allowed`);
  }
  if (u.host === req.headers.host) return undefined; // same origin
  if (isLoopbackHost(u.hostname)) return origin;
  throw new BadTransport(403, `Origin '${origin}' is not allowed; add it to daemon.http.allowed_origins`);
}
