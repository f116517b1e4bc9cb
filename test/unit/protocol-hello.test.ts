// The one reader and writer of the hello line and its reply, over a real Unix socket pair: what
// the bridge and control commands write the daemon reads, and what follows a line is never lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHello, encodeReply, HelloLineError, MAX_HELLO_BYTES, parseHello, parseReply, readHello, readReply, refusalReply, WIRE_VERSION } from '../../src/protocol/hello.js';
import { NotAuthenticated } from '../../src/protocol/errors.js';

/** A connected pair: `client` writes, `server` is the daemon's end. */
async function pair(): Promise<{ client: Socket; server: Socket; close: () => void }> {
  const path = join(mkdtempSync(join(tmpdir(), 'mg-hello-')), 's.sock');
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => (accepted = r));
  const srv = createServer((s) => accepted(s));
  await new Promise<void>((r) => srv.listen(path, () => r()));
  const client = createConnection(path);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const server = await got;
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

test('a hello written in pieces is read whole, with what followed it, and the socket held paused', async () => {
  const p = await pair();
  try {
    const line = encodeHello({ type: 'connect', server: 'fs', credentials: { apiKey: 'k' }, client: { pid: 7 } });
    const after = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    const reading = readHello(p.server, 5000);
    // Byte by byte through the first half, then the rest with the first request in the same write.
    for (const b of line.subarray(0, 20)) p.client.write(Buffer.from([b]));
    p.client.write(Buffer.concat([line.subarray(20), after]));
    const { hello, rest } = await reading;
    assert.deepEqual(hello, { mcpGuard: WIRE_VERSION, type: 'connect', server: 'fs', credentials: { apiKey: 'k' }, client: { pid: 7 } });
    // What came after the hello is either handed on or still in the (paused) socket: never dropped.
    assert.equal(p.server.isPaused(), true);
    let more = rest;
    if (more.length < after.length) {
      p.server.on('data', (c: Buffer) => (more = Buffer.concat([more, c])));
      p.server.resume();
      await new Promise<void>((r) => {
        const t = setInterval(() => more.length >= after.length && (clearInterval(t), r()), 5);
      });
    }
    assert.equal(more.toString(), after.toString());
  } finally {
    p.close();
  }
});

test('every control hello round-trips; a reply is read with the bytes after it', async () => {
  for (const type of ['status', 'health', 'stop', 'reload'] as const) {
    assert.deepEqual(parseHello(encodeHello({ type }).subarray(0, -1)), { mcpGuard: WIRE_VERSION, type });
  }
  const p = await pair();
  try {
    const reading = readReply(p.client, 5000);
    p.server.write(Buffer.concat([encodeReply({ ok: true, session: 's1', pid: 42 }), Buffer.from('{"jsonrpc":"2.0","id":1,"result":{}}\n')]));
    const { reply, rest } = await reading;
    assert.deepEqual(reply, { ok: true, session: 's1', pid: 42 });
    assert.equal(rest.toString(), '{"jsonrpc":"2.0","id":1,"result":{}}\n');
  } finally {
    p.close();
  }
});

test('a refusal reply carries the class\'s own code, kind and words', () => {
  const err = new NotAuthenticated('no key');
  assert.deepEqual(parseReply(encodeReply(refusalReply(err)).subarray(0, -1)), { ok: false, code: err.code, kind: 'unauthenticated', error: err.message });
  for (const bad of ['{"ok":true}', '{"ok":false,"error":"x"}', 'null', 'nope', '{"ok":"yes","pid":1}']) {
    assert.throws(() => parseReply(Buffer.from(bad)), /malformed reply/, bad);
  }
});

test('a hello that is too long, malformed, late or cut off is told apart', async () => {
  const reason = async (feed: (c: Socket) => void, timeoutMs = 5000) => {
    const p = await pair();
    try {
      const r = readHello(p.server, timeoutMs).then(
        () => 'read',
        (e: HelloLineError) => e.reason,
      );
      feed(p.client);
      return await r;
    } finally {
      p.close();
    }
  };
  assert.equal(await reason((c) => c.write(Buffer.alloc(MAX_HELLO_BYTES + 1, 0x61))), 'too_large');
  assert.equal(await reason((c) => c.write('{"mcpGuard":1,"type":"dance"}\n')), 'malformed');
  assert.equal(await reason((c) => c.write(`{"mcpGuard":${WIRE_VERSION + 1},"type":"health"}\n`)), 'malformed');
  assert.equal(await reason((c) => c.end('{"mcpGuard":1')), 'closed');
  assert.equal(await reason(() => {}, 50), 'timeout');
});
