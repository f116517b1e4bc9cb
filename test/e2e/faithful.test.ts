// Faithful MCP: the official SDK client, through the real bridge and daemon, against real npm
// servers, sees everything the server offers, in both directions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, EVERYTHING, FILESYSTEM, MEMORY, NODE, recordingServer } from './harness.js';

const files = mkdtempSync(join(tmpdir(), 'mg-fs-'));
writeFileSync(join(files, 'hello.txt'), 'hello from the filesystem server\n');

let env: GuardEnv;
before(() => {
  env = new GuardEnv(
    () => `
servers:
  everything:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
    policy:
      sampling: { enabled: true }
      elicitation: { enabled: true }
  filesystem:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(files)}]
  memory:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(MEMORY)}]
    env: { MEMORY_FILE_PATH: ${JSON.stringify(join(files, 'memory.jsonl'))} }
${recordingServer('rec')}
`,
  );
});
after(() => env.close());

test('server-everything: tools, resources, prompts, completion, logging through the proxy', async () => {
  const c = await env.client('everything');
  assert.equal(c.getServerVersion()?.name, 'mcp-servers/everything');
  const caps = c.getServerCapabilities();
  assert.ok(caps?.tools && caps?.resources && caps?.prompts && caps?.logging, 'capabilities pass through');

  const { tools } = await c.listTools();
  assert.ok(tools.some((t) => t.name === 'echo'));
  const echo = await c.callTool({ name: 'echo', arguments: { message: 'hi there' } });
  assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: hi there' }]);
  // Non-ASCII text (accents, CJK, an emoji outside the BMP) crosses both ways unchanged.
  const wide = 'héllo wörld — 東京 😀';
  const echoWide = await c.callTool({ name: 'echo', arguments: { message: wide } });
  assert.deepEqual(echoWide.content, [{ type: 'text', text: `Echo: ${wide}` }]);
  // A message the proxy rewrites (an email redacted) keeps its non-ASCII text: it was decoded as UTF-8.
  const r = await env.client('rec');
  const red = await r.callTool({ name: 'echo', arguments: { text: `${wide} mail bob@example.com` } });
  const got = JSON.parse((red.content as { text: string }[])[0]!.text).text as string;
  assert.ok(got.startsWith(`${wide} mail `) && !got.includes('bob@example.com'), got);
  const sum = await c.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } });
  assert.match(JSON.stringify(sum.content), /42/);

  const { resources } = await c.listResources();
  assert.ok(resources.length > 0);
  const read = await c.readResource({ uri: resources[0]!.uri });
  assert.equal(read.contents[0]!.uri, resources[0]!.uri);
  const { resourceTemplates } = await c.listResourceTemplates();
  assert.ok(resourceTemplates.length > 0);
  await c.subscribeResource({ uri: resources[0]!.uri });
  await c.unsubscribeResource({ uri: resources[0]!.uri });

  const { prompts } = await c.listPrompts();
  assert.ok(prompts.some((p) => p.name === 'simple-prompt'));
  const prompt = await c.getPrompt({ name: 'simple-prompt' });
  assert.ok(prompt.messages.length > 0);
  const completion = await c.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'Eng' } });
  assert.deepEqual(completion.completion.values, ['Engineering']);

  await c.setLoggingLevel('debug');
  await c.ping();
});

test('server-everything: progress notifications and cancellation of a long call', async () => {
  const c = await env.client('everything');
  const progress: number[] = [];
  const r = await c.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  });
  // The SDK client drops a progress notification it reads in the same chunk as the final response
  // (it handles notifications a microtask later); on a loaded machine that can hit the last one,
  // directly as through the proxy. Everything before it must arrive, in order.
  assert.ok(progress.length >= 2, `progress: ${progress}`);
  assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
  assert.match(JSON.stringify(r.content), /completed/i);

  const ac = new AbortController();
  const call = c.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 5 } }, undefined, { signal: ac.signal });
  setTimeout(() => ac.abort('user cancelled'), 300);
  await assert.rejects(call, /cancel|abort/i);
  // The session goes on after a cancellation.
  const again = await c.callTool({ name: 'echo', arguments: { message: 'still here' } });
  assert.deepEqual(again.content, [{ type: 'text', text: 'Echo: still here' }]);
});

test('server-everything: sampling, elicitation and roots requests from the server reach the client', async () => {
  const c = await env.client('everything', { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } });
  const asked: string[] = [];
  c.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    asked.push(`sampling:${(req.params.messages[0]!.content as any).text}`);
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled answer' } };
  });
  c.setRequestHandler(ElicitRequestSchema, async () => {
    asked.push('elicitation');
    return { action: 'decline' };
  });
  c.setRequestHandler(ListRootsRequestSchema, async () => {
    asked.push('roots');
    return { roots: [{ uri: 'file:///work/project', name: 'project' }] };
  });
  const logs: string[] = [];
  c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.level)));

  // Tools that only a client with sampling is shown appeared after the first listing (a session
  // without sampling): pinning quarantines them until a person approves them.
  await c.listTools();
  const approved = env.cli(['pins', 'approve', 'everything']);
  assert.equal(approved.code, 0, approved.stderr);
  const { tools } = await c.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('trigger-sampling-request'), 'conditional tools appear for a client with sampling');

  const s = await c.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'write a haiku', maxTokens: 50 } });
  assert.match(JSON.stringify(s.content), /sampled answer/);
  const e = await c.callTool({ name: 'trigger-elicitation-request', arguments: {} });
  assert.match(JSON.stringify(e.content), /decline/i);
  const r = await c.callTool({ name: 'get-roots-list', arguments: {} });
  assert.match(JSON.stringify(r.content), /file:\/\/\/work\/project/);
  assert.ok(asked.some((a) => a.startsWith('sampling:') && a.includes('write a haiku')), asked.join());
  assert.ok(asked.includes('elicitation'));
  assert.ok(asked.includes('roots'));
});

test('server-filesystem and server-memory work through the proxy', async () => {
  const fs = await env.client('filesystem');
  const read = await fs.callTool({ name: 'read_text_file', arguments: { path: join(files, 'hello.txt') } });
  assert.match(JSON.stringify(read.content), /hello from the filesystem server/);
  const list = await fs.callTool({ name: 'list_directory', arguments: { path: files } });
  assert.match(JSON.stringify(list.content), /hello\.txt/);

  const mem = await env.client('memory');
  await mem.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'mcp-guard', entityType: 'project', observations: ['a proxy'] }] } });
  const graph = await mem.callTool({ name: 'read_graph', arguments: {} });
  assert.match(JSON.stringify(graph.content), /mcp-guard/);
});

test('20 sessions at once each see only their own replies', async () => {
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => env.client('rec', { name: `c${i}` })));
  const results = await Promise.all(
    clients.map(async (c, i) => {
      const out: string[] = [];
      for (let k = 0; k < 10; k++) {
        const r = await c.callTool({ name: 'echo', arguments: { message: `session ${i} call ${k}` } });
        out.push((r.content as any)[0].text);
      }
      return out;
    }),
  );
  results.forEach((out, i) => assert.deepEqual(out, Array.from({ length: 10 }, (_, k) => JSON.stringify({ message: `session ${i} call ${k}` }))));
  const status = JSON.parse(env.cli(['status', '--json']).stdout);
  assert.ok(status.sessions >= 20);
  await Promise.all(clients.map((c) => c.close()));
});
