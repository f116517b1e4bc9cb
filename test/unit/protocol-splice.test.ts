// replaceValue moves only the bytes of one value: the rest of the message is what the client sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locate, replaceValue } from '../../src/protocol/splice.js';

test('the top-level id is replaced; nested ids, ids inside strings and the other bytes stay', () => {
  const line = Buffer.from('{"jsonrpc":"2.0","method":"tools/call","params":{"id":5,"text":"\\"id\\":7","n":12345678901234567890,"e":"\\u00e9"},"id" : 42 }');
  const out = replaceValue(line, ['id'], '"mg:1"')!.toString();
  assert.equal(out, '{"jsonrpc":"2.0","method":"tools/call","params":{"id":5,"text":"\\"id\\":7","n":12345678901234567890,"e":"\\u00e9"},"id" : "mg:1" }');
  assert.equal(JSON.parse(out).params.id, 5);
});

test('a nested path is followed by keys; a missing one gives undefined', () => {
  const line = Buffer.from('{"method":"notifications/progress","params":{"_meta":{"io.modelcontextprotocol/subscriptionId":"mg:3"},"progressToken":"mg:3","progress":1}}');
  assert.equal(JSON.parse(replaceValue(line, ['params', 'progressToken'], '7')!.toString()).params.progressToken, 7);
  assert.equal(JSON.parse(replaceValue(line, ['params', '_meta', 'io.modelcontextprotocol/subscriptionId'], '"a"')!.toString()).params._meta['io.modelcontextprotocol/subscriptionId'], 'a');
  assert.equal(locate(line, ['params', 'nothing']), undefined);
  assert.equal(locate(line, ['method', 'x']), undefined, 'a string has no keys');
  assert.equal(locate(Buffer.from('[1,2]'), ['id']), undefined);
});

test('agrees with JSON.parse on random messages with decoys and escaped keys', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 2000; i++) {
    const id = rnd() < 0.5 ? Math.floor(rnd() * 1e9) : `r-${i}-"q"`;
    const decoy = { id: 'decoy', list: [{ id: 1 }, '"id":2', [3, { id: [4] }]], deep: { params: { id: null } } };
    const entries: [string, unknown][] = [['jsonrpc', '2.0'], ['method', 'tools/call'], ['params', decoy], ['id', id]];
    entries.sort(() => rnd() - 0.5);
    let text = JSON.stringify(Object.fromEntries(entries), null, rnd() < 0.3 ? 2 : undefined);
    if (rnd() < 0.2) text = text.replace('"id":', '"\\u0069d":'); // an escaped spelling of the key
    const out = replaceValue(Buffer.from(text), ['id'], JSON.stringify(`new-${i}`));
    const parsed = JSON.parse(text);
    const got = JSON.parse(out!.toString());
    assert.deepEqual(got, { ...parsed, id: `new-${i}` }, text);
  }
});
