// The daemon's dashboard port (daemon.dashboard_port, loopback by default; 0 disables it):
// /healthz (liveness: answers while the event loop does), /readyz (checks supplied by the daemon:
// upstreams, audit writer), and /metrics (Prometheus), which needs the dashboard token, as will
// every later non-health endpoint.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../protocol/log.js';
import type { Metrics } from './metrics.js';
import { bearerOf, sameSecret } from './token.js';
import { isLoopbackHost } from './origin.js';

/** A readiness check: true/undefined = ready; false or a string (the reason) = not ready. */
export type ReadyCheck = () => boolean | string | undefined | Promise<boolean | string | undefined>;

export interface HealthServerOptions {
  port: number;
  /** Default 127.0.0.1. Anything else exposes /healthz and /readyz to the network. */
  host?: string;
  /** Required on every non-health endpoint (Authorization: Bearer <token>). */
  token: string;
  metrics?: Metrics;
  checks?: Record<string, ReadyCheck>;
  log: Logger;
}

export interface HealthServer {
  readonly url: string;
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const host = opts.host ?? '127.0.0.1';
  const started = Date.now();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      opts.log.error('dashboard request failed', { error: (err as Error).message });
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'use GET' }, { Allow: 'GET, HEAD' });
    if (path === '/healthz') return json(res, 200, { status: 'ok', uptimeS: Math.round((Date.now() - started) / 1000) });
    if (path === '/readyz') return ready(req, res);
    // Everything else needs the token.
    if (!sameSecret(bearerOf(req.headers.authorization), opts.token)) {
      return json(res, 401, { error: 'send Authorization: Bearer <dashboard token> (see `mcp-guard dashboard-token`)' }, { 'WWW-Authenticate': 'Bearer realm="mcp-guard dashboard"' });
    }
    if (path === '/metrics' && opts.metrics) {
      const body = await opts.metrics.text();
      res.writeHead(200, { 'Content-Type': opts.metrics.contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    return json(res, 404, { error: 'not found' });
  }

  async function ready(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const results: Record<string, { ok: boolean; reason?: string }> = {};
    let ok = true;
    await Promise.all(
      Object.entries(opts.checks ?? {}).map(async ([name, check]) => {
        let r: boolean | string | undefined;
        try {
          r = await Promise.race([
            Promise.resolve(check()),
            new Promise<string>((resolve) => setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS).unref()),
          ]);
        } catch (err) {
          r = (err as Error).message;
        }
        const pass = r === true || r === undefined;
        if (!pass) ok = false;
        results[name] = pass ? { ok: true } : { ok: false, reason: r === false ? 'not ready' : String(r) };
      }),
    );
    // Reasons may name servers and paths: only a token holder sees them.
    const detailed = sameSecret(bearerOf(req.headers.authorization), opts.token);
    const checks = detailed ? results : Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { ok: v.ok }]));
    return json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.error('dashboard server error', { error: err.message }));
  const a = server.address() as AddressInfo;
  const shown = a.address.includes(':') ? `[${a.address}]` : a.address;
  const url = `http://${shown}:${a.port}`;
  if (!isLoopbackHost(host)) opts.log.warn('dashboard port listens beyond loopback', { url });
  opts.log.info('dashboard listening', { url });
  return {
    url,
    address: { host: a.address, port: a.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** Readiness of an HTTP upstream: any HTTP answer from its URL within 1.5 s (no MCP session is opened). */
export async function upstreamReachable(url: string): Promise<true | string> {
  try {
    const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(1500), redirect: 'manual' });
    await r.body?.cancel();
    return true;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return `unreachable: ${cause?.code ?? (err as Error).message}`;
  }
}
