// Server-sent events as the Streamable HTTP transport uses them: one JSON-RPC message per event.
import type { ServerResponse } from 'node:http';

const EVENT_HEAD = Buffer.from('event: message\ndata: ');
const EVENT_TAIL = Buffer.from('\n\n');

export function writeEvent(res: ServerResponse, line: Buffer, seq?: number): void {
  if (res.destroyed || res.writableEnded) return;
  // SSE data must not contain a bare CR or LF; JSON only has them as insignificant whitespace.
  if (line.includes(0x0a) || line.includes(0x0d)) line = Buffer.from(JSON.stringify(JSON.parse(line.toString('utf8'))));
  res.cork();
  if (seq !== undefined) res.write(`id: ${seq}\n`);
  res.write(EVENT_HEAD);
  res.write(line);
  res.write(EVENT_TAIL);
  process.nextTick(() => res.uncork());
}
