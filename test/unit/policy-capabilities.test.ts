import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/compiled.js';
import { filterInitializeRequest, filterInitializeResult, filterListResult } from '../../src/policy/capabilities.js';
import { guardServerRequest } from '../../src/policy/sampling.js';

const c = compilePolicy({
  permissions: {
    allowed_tools: ['read_*'],
    denied_tools: ['read_secrets'],
    denied_resources: ['file:///etc/**'],
    allowed_prompts: [],
  },
});

test('tools/list shows only usable tools', () => {
  const r = filterListResult(
    'tools/list',
    { tools: [{ name: 'read_file' }, { name: 'write_file' }, { name: 'READ_SECRETS' }, { name: 'read_secrets' }, { nope: 1 }, null, 'x'], nextCursor: 'c' },
    c,
  )!;
  assert.deepEqual(r, { tools: [{ name: 'read_file' }], nextCursor: 'c' });
  assert.equal(filterListResult('tools/list', { tools: [{ name: 'read_a' }] }, c), undefined, 'unchanged: no rewrite');
  assert.deepEqual(filterListResult('tools/list', { tools: 'junk' }, c), { tools: [] });
});

test('resources, templates and prompts lists', () => {
  assert.deepEqual(
    filterListResult('resources/list', { resources: [{ uri: 'file:///etc/passwd' }, { uri: 'file:///home/a' }, { uri: 'file:///home/../etc/x' }] }, c),
    { resources: [{ uri: 'file:///home/a' }] },
  );
  assert.deepEqual(
    filterListResult('resources/templates/list', { resourceTemplates: [{ uriTemplate: 'file:///etc/{x}' }, { uriTemplate: 'file:///home/{x}' }] }, c),
    { resourceTemplates: [{ uriTemplate: 'file:///home/{x}' }] },
  );
  assert.deepEqual(filterListResult('prompts/list', { prompts: [{ name: 'p' }] }, c), { prompts: [] });
});

test('initialize result does not advertise a capability denied entirely', () => {
  const r = filterInitializeResult({ protocolVersion: 'x', capabilities: { tools: {}, prompts: {}, resources: {}, logging: {} } }, c)!;
  assert.deepEqual(Object.keys(r.capabilities as object).sort(), ['logging', 'resources', 'tools']);
  const none = compilePolicy({ permissions: { allowed_tools: [], denied_resources: ['**'] } });
  const r2 = filterInitializeResult({ capabilities: { tools: { listChanged: true }, resources: {} } }, none)!;
  assert.deepEqual(r2.capabilities, {});
});

test('initialize request loses sampling/elicitation when the policy disables them', () => {
  const params = { protocolVersion: 'x', capabilities: { sampling: {}, elicitation: {}, roots: {} } };
  assert.deepEqual(filterInitializeRequest(params, c), { protocolVersion: 'x', capabilities: { roots: {} } });
  const on = compilePolicy({ sampling: { enabled: true }, elicitation: { enabled: true } });
  assert.equal(filterInitializeRequest(params, on), undefined);
});

test('sampling and elicitation are off by default; maxTokens is capped by rewriting', () => {
  assert.equal((guardServerRequest('sampling/createMessage', { maxTokens: 10 }, c) as any).deny.rule, 'sampling.enabled');
  assert.equal((guardServerRequest('elicitation/create', {}, c) as any).deny.rule, 'elicitation.enabled');
  const on = compilePolicy({ sampling: { enabled: true, max_tokens: 500 }, elicitation: { enabled: true } });
  assert.equal(guardServerRequest('sampling/createMessage', { maxTokens: 100, messages: [] }, on), undefined);
  assert.deepEqual(guardServerRequest('sampling/createMessage', { maxTokens: 100000, messages: [] }, on), {
    params: { maxTokens: 500, messages: [] },
  });
  assert.deepEqual(guardServerRequest('sampling/createMessage', { maxTokens: 'lots' }, on), { params: { maxTokens: 500 } });
  assert.deepEqual(guardServerRequest('sampling/createMessage', {}, on), { params: { maxTokens: 500 } });
  assert.equal(guardServerRequest('elicitation/create', {}, on), undefined);
  assert.equal(guardServerRequest('roots/list', {}, c), undefined);
});
