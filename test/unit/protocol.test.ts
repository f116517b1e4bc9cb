// Framing over Buffers (the one splitter and the one writer) and the bridge's id peek.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, LineWriter } from '../../src/protocol/framing.js';
import { peekMessage, peekOversizeId } from '../../src/protocol/id.js';

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

test('LineWriter writes a lone line at once, the rest of a tick and the lines of a burst in one write', async () => {
  const writes: string[] = [];
  const w = new LineWriter({ write: (b: Buffer) => writes.push(b.toString()) });
  w.push(Buffer.from('a'));
  assert.deepEqual(writes, ['a\n'], 'the first line does not wait for the end of the tick');
  w.push(Buffer.from('bb'));
  w.push(Buffer.from('ccc'));
  assert.equal(w.pending, 7);
  await new Promise((r) => process.nextTick(r));
  assert.deepEqual(writes, ['a\n', 'bb\nccc\n']);
  w.push(Buffer.from('d'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, ['a\n', 'bb\nccc\n', 'd\n']);
  // The lines of one read are a burst: what they produce leaves in one write at the end of the tick.
  const out: string[] = [];
  const lw = new LineWriter({ write: (b: Buffer) => out.push(b.toString()) });
  const sp = new LineSplitter(1000, { line: (l) => lw.push(Buffer.from(l.toString().toUpperCase())), oversize: () => {} });
  sp.push(Buffer.from('x\ny\nz\n'));
  assert.deepEqual(out, [], 'nothing written in the middle of a burst');
  await new Promise((r) => process.nextTick(r));
  assert.deepEqual(out, ['X\nY\nZ\n']);
  sp.push(Buffer.from('w\n'));
  assert.deepEqual(out, ['X\nY\nZ\n', 'W\n'], 'a lone line is written at once');
  await new Promise((r) => setImmediate(r));
  const closed = new LineWriter({ write: () => assert.fail('no write to a destroyed stream'), destroyed: true });
  closed.push(Buffer.from('x'));
  closed.push(Buffer.from('y'));
  await new Promise((r) => setImmediate(r));
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

test('an oversized line hands on its edges: a request\'s id is read from its head or tail, never guessed', () => {
  const edgesOf = (line: string, max = 1000) => {
    let got: Buffer | undefined;
    const s = new LineSplitter(max, { line: () => {}, oversize: (_n, edges) => (got = edges) });
    // In chunks, as a socket delivers it, and in one piece.
    for (let i = 0; i < line.length; i += 333) s.push(Buffer.from(line.slice(i, i + 333)));
    s.push(Buffer.from('\n'));
    const whole = new LineSplitter(max, { line: () => {}, oversize: (_n, edges) => assert.deepEqual(edges, got) });
    whole.push(Buffer.from(line + '\n'));
    return got!;
  };
  const pad = 'x'.repeat(5000);
  // The SDK's order: jsonrpc, method, params, id last.
  assert.equal(peekOversizeId(edgesOf(JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { a: pad }, id: 17 }))), 17);
  assert.equal(peekOversizeId(edgesOf(JSON.stringify({ jsonrpc: '2.0', id: 'r-9', method: 'tools/call', params: { a: pad } }))), 'r-9');
  // A nested "id" at the end is not the top-level id; a response is not answered.
  assert.equal(peekOversizeId(edgesOf(JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { a: pad, id: 5 } }))), undefined);
  assert.equal(peekOversizeId(edgesOf(JSON.stringify({ jsonrpc: '2.0', result: { a: pad }, id: 3 }))), undefined);
  assert.equal(peekOversizeId(edgesOf('y'.repeat(5000))), undefined);
});

test('peekMessage never throws on captures that are not JSON (01, "\\q")', () => {
  for (const l of ['{"jsonrpc":"2.0","method":"x","id":01}', '{"jsonrpc":"2.0","method":"x","id":"\\q"}', '{"jsonrpc":"2.0","id":01,"method":"x"}']) {
    const p = peekMessage(Buffer.from(l));
    assert.equal(p.id, undefined, l);
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

test('hasDuplicateKeys agrees with a reference parser on 3,000 random messages with escapes, nesting and repeats', async () => {
  const { hasDuplicateKeys } = await import('../../src/protocol/duplicates.js');
  // Reference: a recursive-descent reader of the JSON text that keeps each object's decoded keys.
  function refDup(text: string): boolean {
    let i = 0;
    const ws = () => {
      while (' \t\n\r'.includes(text[i]!) && i < text.length) i++;
    };
    const str = (): string => {
      const start = i;
      i++;
      while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      return JSON.parse(text.slice(start, i)) as string;
    };
    const value = (): boolean => {
      ws();
      const c = text[i];
      if (c === '{') {
        i++;
        const keys = new Set<string>();
        let dupFound = false;
        ws();
        if (text[i] === '}') return i++, false;
        for (;;) {
          ws();
          const k = str();
          if (keys.has(k)) dupFound = true;
          keys.add(k);
          ws();
          i++; // ':'
          if (value()) dupFound = true;
          ws();
          if (text[i++] === '}') return dupFound;
        }
      }
      if (c === '[') {
        i++;
        let dupFound = false;
        ws();
        if (text[i] === ']') return i++, false;
        for (;;) {
          if (value()) dupFound = true;
          ws();
          if (text[i++] === ']') return dupFound;
        }
      }
      if (c === '"') return str(), false;
      while (i < text.length && !',]} \t\n\r'.includes(text[i]!)) i++;
      return false;
    };
    return value();
  }
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
  // Keys from a small alphabet (so repeats are common), each character written plainly or as an
  // escape, so equal keys often have different spellings.
  const chars = ['a', 'b', '"', '\\', 'é', ':', '{', '\n'];
  const randKey = () => {
    let s = '"';
    for (let k = rnd(3); k >= 0; k--) {
      const ch = chars[rnd(chars.length)]!;
      s += rnd(3) === 0 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(ch).slice(1, -1);
    }
    return s + '"';
  };
  const spaced = () => [' ', '', '\n ', '\t'][rnd(4)]!;
  const gen = (depth: number): string => {
    const r = rnd(depth > 3 ? 3 : 6);
    if (r === 0) return String(rnd(1000));
    if (r === 1) return randKey();
    if (r === 2) return 'true';
    if (r === 3) return `[${Array.from({ length: rnd(4) }, () => gen(depth + 1)).join(',')}]`;
    const n = rnd(5);
    return `{${Array.from({ length: n }, () => `${randKey()}${spaced()}:${spaced()}${gen(depth + 1)}`).join(',')}}`;
  };
  let dups = 0;
  for (let t = 0; t < 3000; t++) {
    const text = gen(0);
    JSON.parse(text); // the generator only makes valid JSON
    const want = refDup(text);
    if (want) dups++;
    assert.equal(hasDuplicateKeys(Buffer.from(text)), want, text);
  }
  assert.ok(dups > 100 && dups < 2900, `both outcomes are exercised (${dups} with duplicates)`);
});
