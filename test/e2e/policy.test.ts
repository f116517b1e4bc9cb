// Policy through the real bridge and daemon, scored on what the recording upstream received and
// what the client got: permissions, bypass attempts, argument rules, capability filtering,
// sampling guard, roles and rate limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { McpError, CreateMessageRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, recordingServer } from './harness.js';

const me = userInfo().username;
let env: GuardEnv;
before(() => {
  env = new GuardEnv(
    () => `
servers:
${recordingServer(
  'rec',
  `    policy:
      permissions:
        denied_tools: ["crash", "garbage"]
        denied_resources: ["file:///etc/**", "**/.env"]
        denied_prompts: ["secret_*"]
      argument_rules:
        - { tool: write_file, path: path, glob: "/etc/**", reason: "system files are read-only" }
      rate_limit:
        tool_limits: { slow: { requests_per_minute: 6 } }`,
)}
${recordingServer('open')}
${recordingServer(
  'limited',
  `    policy:
      rate_limit: { requests_per_minute: 60 }`,
)}
${recordingServer(
  'sampler',
  `    policy:
      sampling: { enabled: true, max_tokens: 500 }`,
)}
auth:
  mode: os
  roles:
    reader: { permissions: { denied_tools: ["write_*"] } }
  os:
    users: { ${JSON.stringify(me)}: [reader] }
`,
  );
});
after(() => env.close());

const code = (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (e) => (e instanceof McpError ? e.code : -1),
  );
const calledUpstream = (name: string) => env.recorded().filter((m) => m.method === 'tools/call' && m.params?.name === name).length;

test('denied tools are refused with -32007 naming the rule, also in case and Unicode disguises', async () => {
  const c = await env.client('rec');
  const err = await c.callTool({ name: 'crash', arguments: {} }).catch((e) => e);
  assert.equal(err.code, -32007);
  assert.equal(err.data.rule, 'permissions.denied_tools[0]');
  for (const name of ['CRASH', 'Crash', 'ｃｒａｓｈ', 'ＣＲＡＳＨ']) {
    assert.equal(await code(c.callTool({ name, arguments: {} })), -32007, name);
  }
  assert.equal(calledUpstream('crash') + calledUpstream('CRASH') + calledUpstream('ｃｒａｓｈ'), 0, 'nothing denied reached the upstream');
  // The role `reader` of this OS user narrows the server policy.
  assert.equal(await code(c.callTool({ name: 'write_file', arguments: { path: '/tmp/x' } })), -32007);
});

test('a duplicate key cannot smuggle a denied tool past the check', async () => {
  const { RawBridge } = await import('./harness.js');
  const raw = new RawBridge(env, 'rec');
  await raw.initialize();
  raw.send('{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"crash","arguments":{},"name":"echo"}}');
  raw.send('{"jsonrpc":"2.0","id":"dup2","method":"tools/call","params":{"name":"echo","arguments":{"text":"AKIAQ4RTZ5WV7M3KD2XP","text":"clean"}}}');
  assert.equal((await raw.reply('dup')).error.code, -32600);
  assert.equal((await raw.reply('dup2')).error.code, -32600);
  assert.equal(env.recorded().filter((m) => m.id === 'dup' || m.id === 'dup2').length, 0, 'the upstream never saw either');
  raw.end();
  await raw.exited;
});

test('resource traversal and encodings cannot reach a denied resource', async () => {
  const c = await env.client('rec');
  for (const uri of ['file:///etc/passwd', 'file:///data/../etc/passwd', 'file:///data/%2e%2e/etc/passwd', 'file:///data/%252e%252e/etc/passwd', 'FILE:///etc/passwd', 'file:///data\\..\\etc\\passwd', 'file:///home/me/project/.env']) {
    assert.equal(await code(c.readResource({ uri })), -32007, uri);
  }
  const ok = await c.readResource({ uri: 'file:///data/a.txt' });
  assert.equal(ok.contents[0]!.uri, 'file:///data/a.txt');
  assert.equal(env.recorded().filter((m) => m.method === 'resources/read' && /etc|env/i.test(m.params.uri)).length, 0);
});

test('resource update notifications about denied resources never reach the client', async () => {
  const c = await env.client('rec');
  const updated: string[] = [];
  c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
  const uris = ['file:///etc/passwd', 'file:///data/a.txt', 'FILE:///etc/shadow', 'file:///data/../etc/hosts', 'file:///home/me/.env', 'file:///data/b.txt'];
  await c.callTool({ name: 'notify_updated', arguments: { uris } });
  await c.ping(); // the notifications were sent before the reply; a round trip later all have arrived
  assert.deepEqual(updated, ['file:///data/a.txt', 'file:///data/b.txt']);
});

test('argument rules refuse writes into /etc, also through relative paths', async () => {
  const c = await env.client('open');
  // `open` has no rules; `rec` has. The same call differs only by server.
  const rec = await env.client('rec');
  assert.equal(await code(rec.callTool({ name: 'echo', arguments: { path: '/etc/shadow' } })), 0, 'rules are per tool');
  assert.equal(await code(c.callTool({ name: 'write_file', arguments: { path: '/etc/x' } })), -32007, 'role reader denies write_* on every server');
});

test('lists show only what the caller may use; initialize is filtered too', async () => {
  const c = await env.client('rec');
  const { tools } = await c.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('echo'));
  for (const denied of ['crash', 'garbage', 'write_file']) assert.ok(!names.includes(denied), denied);
  const { resources } = await c.listResources();
  assert.deepEqual(
    resources.map((r) => r.uri),
    ['file:///data/a.txt'],
  );
  const { prompts } = await c.listPrompts();
  assert.deepEqual(
    prompts.map((p) => p.name),
    ['greet'],
  );
});

test('sampling requests from a server are refused unless its policy enables them, and capped', async () => {
  const asked: number[] = [];
  const handler = async (req: any) => {
    asked.push(req.params.maxTokens);
    return { model: 'm', role: 'assistant' as const, content: { type: 'text' as const, text: 'sampled' } };
  };
  const off = await env.client('open', { capabilities: { sampling: {} } });
  off.setRequestHandler(CreateMessageRequestSchema, handler);
  const r1 = await off.callTool({ name: 'sample', arguments: { prompt: 'hi' } });
  assert.match(JSON.stringify(r1.content), /-32007/);
  assert.equal(asked.length, 0, 'the client never saw the refused sampling request');

  const on = await env.client('sampler', { capabilities: { sampling: {} } });
  on.setRequestHandler(CreateMessageRequestSchema, handler);
  const r2 = await on.callTool({ name: 'sample', arguments: { prompt: 'hi', maxTokens: 100000 } });
  assert.match(JSON.stringify(r2.content), /sampled/);
  assert.deepEqual(asked, [500], 'maxTokens capped at the policy max_tokens');
});

test('rate limits hold under hammering and are per tool', async () => {
  const c = await env.client('limited');
  let allowed = 0;
  let limited = 0;
  let retry = 0;
  const started = Date.now();
  const deadline = started + 3000;
  while (Date.now() < deadline) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => c.callTool({ name: 'echo', arguments: {} }).then(() => 'ok', (e) => e)));
    for (const r of batch) {
      if (r === 'ok') allowed++;
      else if (r.code === -32009) {
        limited++;
        retry = r.data.retryAfterMs;
      } else throw r;
    }
  }
  // 60/min: a burst of 10 plus one token a second of hammering, however long the loop took here.
  const seconds = (Date.now() - started) / 1000;
  assert.ok(allowed >= 10 && allowed <= 10 + Math.ceil(seconds), `allowed ${allowed} in ${seconds.toFixed(1)} s`);
  assert.ok(limited > 0);
  assert.ok(retry > 0 && retry <= 1000, `retryAfterMs ${retry}`);

  const t = await env.client('rec');
  const slow = await Promise.all(Array.from({ length: 8 }, () => code(t.callTool({ name: 'slow', arguments: { ms: 1 } }))));
  assert.equal(slow.filter((x) => x === 0).length, 5, `tool limit 6/min gives a burst of 5: ${slow}`);
  assert.equal(slow.filter((x) => x === -32009).length, 3);
});
