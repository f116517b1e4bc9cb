// Small pieces of HTTP request handling for the front: headers, content negotiation, a bounded
// body read, and the answer to a refusal the front makes itself (status and headers from its class).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderError, type GuardError, type JsonRpcId } from '../protocol/errors.js';

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function accepts(req: IncomingMessage, type: string): boolean {
  const a = (req.headers.accept ?? '').toLowerCase();
  return a.includes(type) || a.includes('*/*');
}

/** A refusal the front answers itself: the one renderer's body, with the status and headers of its class. */
export function sendRefusal(res: ServerResponse, id: JsonRpcId, err: GuardError): void {
  if (res.headersSent) return void res.end();
  res.writeHead(err.status, { ...err.headers, 'Content-Type': 'application/json' });
  res.end(renderError(id, err));
}

/**
 * The request body, or 'too-large' as soon as it passes `limit` (the rest is not read), or 'gone'
 * when the connection closed first (the client left, or the request timed out).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'gone'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      n += c.length;
      if (n > limit) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    // After 'end' this is a no-op (the promise is settled); before it, nothing more will come.
    req.on('close', () => resolve('gone'));
    req.on('error', reject);
  });
}
