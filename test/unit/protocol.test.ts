// Framing over Buffers (the one splitter and the one writer) and the bridge's id peek.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, LineWriter } from '../../src/protocol/framing.js';
import { peekMessage } from '../../src/protocol/id.js';

function split(chunks: (string | Buffer)[], max = 1 << 20) {
  const lines: string[] = [];
  const over: number[] = [];
  const s = new LineSplitter(max, { line: (l) => lines.push(l.toString('utf8')), oversize: (n) => over.push(n) });
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return { lines, over, pending: s.pending };
}

test('lines split across chunks, several per chunk, CRLF and blank lines', () => {
  const r = split(['{"a":1}\n{"b"', ':2}\r\n\n', '{"c":3}', '\n{"d"']);
  assert.deepEqual(r.lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  assert.equal(r.pending, 4);
  // Multi-byte UTF-8 split inside a character is joined back before decoding.
  const euro = Buffer.from('{"x":"€"}\n');
  assert.deepEqual(split([euro.subarray(0, 7), euro.subarray(7)]).lines, ['{"x":"€"}']);
});

test('an oversized line is discarded without being buffered, and the stream recovers', () => {
  const big = 'x'.repeat(50);
  const r = split(['ok1\n', big.slice(0, 20), big.slice(20), '\nok2\n', 'y'.repeat(11) + '\nok3\n'], 10);
  assert.deepEqual(r.lines, ['ok1', 'ok2', 'ok3']);
  assert.deepEqual(r.over, [50, 11]);
  const held = split(['z'.repeat(100)], 10);
  assert.equal(held.pending, 0, 'nothing of an oversized line is kept while waiting for its end');
});

test('LineWriter sends the lines of one tick in one write', async () => {
  const writes: string[] = [];
  const w = new LineWriter({ write: (b: Buffer) => writes.push(b.toString()) });
  w.push(Buffer.from('a'));
  w.push(Buffer.from('bb'));
  w.push(Buffer.from('ccc'));
  assert.equal(writes.length, 0);
  await new Promise((r) => process.nextTick(r));
  assert.deepEqual(writes, ['a\nbb\nccc\n']);
  w.push(Buffer.from('d'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, ['a\nbb\nccc\n', 'd\n']);
});

test('peekMessage finds the top-level id however the serialiser orders members', () => {
  const cases: [unknown, unknown, boolean][] = [
    [{ method: 'tools/call', params: { id: 99 }, jsonrpc: '2.0', id: 1 }, 1, true],
    [{ jsonrpc: '2.0', id: 'abc', method: 'ping' }, 'abc', true],
    [{ jsonrpc: '2.0', method: 'notifications/progress', params: { id: 5 } }, undefined, true],
    [{ result: { content: [{ id: 7 }] }, jsonrpc: '2.0', id: 2 }, 2, false],
    [{ jsonrpc: '2.0', id: 3, result: { nested: { id: 4 } } }, 3, false],
    [{ jsonrpc: '2.0', id: 'x"y', error: { code: -1, message: 'no' } }, 'x"y', false],
    [{ result: { text: '"id":8}' }, id: 9, jsonrpc: '2.0' }, 9, false],
    [{ params: { a: 1 }, id: 10, method: 'x' }, 10, true],
  ];
  for (const [msg, id, hasMethod] of cases) {
    const p = peekMessage(Buffer.from(JSON.stringify(msg)));
    assert.equal(p.id, id, JSON.stringify(msg));
    assert.equal(p.hasMethod, hasMethod, JSON.stringify(msg));
  }
  assert.deepEqual(peekMessage(Buffer.from('not json')), { hasMethod: false });
});

test('peekMessage agrees with JSON.parse on random messages with nested decoy ids', () => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  for (let i = 0; i < 2000; i++) {
    const id = rnd() < 0.5 ? Math.floor(rnd() * 1e6) : `r-${Math.floor(rnd() * 1e6)}`;
    const decoy = { id: 'decoy', text: `"id":${i}}`, deep: { id: -1 } };
    const parts: [string, unknown][] = [['jsonrpc', '2.0'], ['id', id]];
    const kind = pick(['request', 'result', 'error']);
    if (kind === 'request') parts.push(['method', 'tools/call'], ['params', decoy]);
    else if (kind === 'result') parts.push(['result', decoy]);
    else parts.push(['error', { code: 1, message: 'x', data: decoy }]);
    parts.sort(() => rnd() - 0.5);
    const line = Buffer.from(JSON.stringify(Object.fromEntries(parts)) + (rnd() < 0.5 ? 'x'.repeat(0) : ''));
    const p = peekMessage(line);
    assert.equal(p.id, id, line.toString());
    assert.equal(p.hasMethod, kind === 'request', line.toString());
  }
});

test('hasDuplicateKeys finds a repeated key at any depth, also when spelled with escapes', async () => {
  const { hasDuplicateKeys } = await import('../../src/protocol/duplicates.js');
  const dup = (s: string) => hasDuplicateKeys(Buffer.from(s));
  assert.equal(dup('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}'), false, 'same key in different objects is fine');
  assert.equal(dup('{"a":1,"a":2}'), true);
  assert.equal(dup('{"p":{"name":"x","arguments":{},"name":"y"}}'), true);
  assert.equal(dup('{"p":[{"k":1,"k":1}]}'), true);
  assert.equal(dup('{"a":1,"\\u0061":2}'), true, 'an escaped spelling of the same key');
  assert.equal(dup('{"s":"\\"a\\":1,\\"a\\":2","a":3}'), false, 'keys inside strings are not keys');
  assert.equal(dup('{"a" : 1, "b":"a", "c":"a"}'), false, 'values equal to a key are not keys');
});
