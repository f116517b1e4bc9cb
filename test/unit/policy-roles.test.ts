import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floorMerge, narrow } from '../../src/policy/roles.js';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy } from '../../src/config/policy-schema.js';

const base: Policy = {
  permissions: {
    allowed_tools: ['read_*', 'list_directory', 'write_file'],
    denied_tools: ['delete_*'],
    allowed_resources: ['file:///home/me/**'],
  },
  rate_limit: { requests_per_minute: 120, requests_per_hour: 2000, tool_limits: { search: { requests_per_minute: 20 } } },
  sampling: { enabled: true, max_tokens: 2000 },
};

test('allow lists intersect, deny lists union', () => {
  const p = narrow(base, { permissions: { allowed_tools: ['read_file', 'write_file', 'exec'], denied_tools: ['write_*'] } });
  // literal overlay: exact intersection
  assert.deepEqual(p.permissions!.allowed_tools, ['read_file', 'write_file']);
  assert.deepEqual(p.permissions!.denied_tools, ['delete_*', 'write_*']);
  const c = compilePolicy(p);
  assert.equal(c.permissions.checkTool('read_file'), undefined);
  assert.ok(c.permissions.checkTool('write_file')); // denied by the role
  assert.ok(c.permissions.checkTool('exec')); // not in the base allow list
  assert.ok(c.permissions.checkTool('read_dir')); // not in the role's allow list
  assert.ok(c.permissions.checkTool('delete_x'));
});

test('glob allow lists intersect as "must pass every list"', () => {
  const p = narrow(base, { permissions: { allowed_resources: ['file:///home/me/docs/**', 'file:///tmp/**'] } });
  const c = compilePolicy(p);
  assert.equal(c.permissions.checkResource('file:///home/me/docs/a.md'), undefined);
  assert.ok(c.permissions.checkResource('file:///tmp/x')); // role allows, base does not
  assert.ok(c.permissions.checkResource('file:///home/me/src/x')); // base allows, role does not
  assert.deepEqual(p.permissions!.also_allowed_resources, [['file:///home/me/docs/**', 'file:///tmp/**']]);
});

test('an overlay cannot relax: absent fields inherit, an empty allow list closes', () => {
  const p = narrow(base, { permissions: { allowed_tools: [] } });
  assert.deepEqual(p.permissions!.allowed_tools, []);
  assert.deepEqual(p.permissions!.denied_tools, ['delete_*']);
  assert.deepEqual(p.permissions!.allowed_resources, ['file:///home/me/**']);
  assert.equal(compilePolicy(p).permissions.noTools, true);
  // Overlay tries to widen everything.
  const q = floorMerge(base, {
    permissions: { allowed_tools: ['**'], allowed_resources: ['**'] },
    rate_limit: { requests_per_minute: 100000, tool_limits: { search: { requests_per_minute: 1000 } } },
    sampling: { enabled: true, max_tokens: 1_000_000 },
  });
  const c = compilePolicy(q);
  assert.ok(c.permissions.checkTool('exec'));
  assert.ok(c.permissions.checkResource('file:///etc/passwd'));
  assert.equal(q.rate_limit!.requests_per_minute, 120);
  assert.equal(q.rate_limit!.tool_limits!.search!.requests_per_minute, 20);
  assert.equal(q.sampling!.max_tokens, 2000);
});

test('the stricter rate limit wins, per field and per tool', () => {
  const p = narrow(
    base,
    { rate_limit: { requests_per_minute: 30, tool_limits: { search: { requests_per_minute: 50, requests_per_hour: 100 }, fetch: { requests_per_minute: 5 } } } },
    { rate_limit: { requests_per_hour: 500 } },
  );
  assert.deepEqual(p.rate_limit, {
    requests_per_minute: 30,
    requests_per_hour: 500,
    tool_limits: { search: { requests_per_minute: 20, requests_per_hour: 100 }, fetch: { requests_per_minute: 5 } },
  });
});

test('sampling and elicitation can be switched off, never on', () => {
  assert.equal(narrow(base, { sampling: { enabled: false } }).sampling!.enabled, false);
  assert.equal(compilePolicy(floorMerge({}, { sampling: { enabled: true } })).sampling.enabled, false);
  assert.equal(compilePolicy(floorMerge({}, { elicitation: { enabled: true } })).elicitation.enabled, false);
  assert.equal(compilePolicy(narrow(base)).sampling.enabled, true);
});

test('argument rules accumulate', () => {
  const p = narrow(
    { argument_rules: [{ tool: 'a', path: 'x', glob: '/etc/**', action: 'deny' }] },
    { argument_rules: [{ tool: 'a', path: 'x', glob: '/tmp/**', action: 'deny' }] },
  );
  assert.equal(p.argument_rules!.length, 2);
  assert.ok(compilePolicy(p).args.check('a', { x: '/tmp/q' }));
});
