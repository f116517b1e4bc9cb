import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileArgumentRules, parseJsonPath } from '../../src/policy/arguments.js';
import { PatternCompileError } from '../../src/policy/pattern.js';
import type { ArgumentRule } from '../../src/config/policy-schema.js';

const rules: ArgumentRule[] = [
  { tool: 'write_file', path: 'path', glob: '/etc/**', action: 'deny' },
  { tool: 'write_file', path: 'path', glob: '/home/me/projects/**', action: 'require', reason: 'writes stay in the project' },
  { tool: 'search', path: 'limit', min: 1, max: 100, action: 'deny' },
  { tool: 'run', path: 'mode', enum: ['safe', 'dry-run'], action: 'require' },
  { tool: 'query', path: 'sql', regex: '(?i)\\bdrop\\s+table\\b', action: 'deny' },
  { tool: 'copy', path: 'options.paths[*]', glob: '**/.ssh/**', action: 'deny' },
  { tool: 'note', path: 'text', max_length: 10, action: 'deny' },
];
const c = compileArgumentRules(rules);
const ok = (tool: string, args: unknown) => assert.equal(c.check(tool, args), undefined, `${tool} ${JSON.stringify(args)}`);
const no = (tool: string, args: unknown, rule?: string) => {
  const d = c.check(tool, args);
  assert.ok(d, `expected refusal: ${tool} ${JSON.stringify(args)}`);
  if (rule) assert.equal(d.rule, rule);
  return d;
};

test('JSON paths parse', () => {
  assert.deepEqual(parseJsonPath('options.paths[0]', 'x'), ['options', 'paths', 0]);
  assert.equal(parseJsonPath('a[*].b', 'x').length, 3);
  assert.deepEqual(parseJsonPath('["a.b"].c', 'x'), ['a.b', 'c']);
  assert.throws(() => parseJsonPath('a[', 'x'), PatternCompileError);
  assert.throws(() => compileArgumentRules([{ tool: 't', path: 'p', regex: '(', action: 'deny' }]), PatternCompileError);
});

test('path traversal in arguments is caught by deny and require rules', () => {
  ok('write_file', { path: '/home/me/projects/a.txt' });
  no('write_file', { path: '/etc/passwd' }, 'argument_rules[0]');
  no('write_file', { path: '/ETC/passwd' }, 'argument_rules[0]');
  no('write_file', { path: '/home/me/projects/../../../etc/passwd' }, 'argument_rules[0]');
  no('write_file', { path: '/home/me/projects/..\\..\\..\\etc\\passwd' }, 'argument_rules[0]');
  no('write_file', { path: '../../etc/passwd' }, 'argument_rules[0]');
  no('write_file', { path: 'file:///etc/passwd' }, 'argument_rules[0]');
  no('write_file', { path: '//etc//passwd' }, 'argument_rules[0]');
  no('write_file', { path: '/home/me/projects/%2e%2e/%2e%2e/%2e%2e/etc/x' }, 'argument_rules[0]');
  no('write_file', { path: '/tmp/x' }, 'argument_rules[1]');
  no('write_file', { path: 'relative.txt' }, 'argument_rules[1]');
  const d = no('write_file', {}, 'argument_rules[1]');
  assert.match(d.reason, /writes stay in the project/);
  no('write_file', undefined, 'argument_rules[1]');
  no('write_file', { path: null }, 'argument_rules[1]');
  no('write_file', { path: '/home/me/projects/a\u0000b' });
  no('write_file', { path: '/home/me/projects/' + 'a'.repeat(5000) });
});

test('arrays and objects cannot hide a value', () => {
  no('write_file', { path: ['/home/me/projects/a', '/etc/passwd'] }, 'argument_rules[0]');
  no('write_file', { path: [['/etc/shadow']] }, 'argument_rules[0]');
  no('write_file', { path: { toString: '/etc/passwd' } });
  no('write_file', { path: [] }, 'argument_rules[1]');
  ok('copy', { options: { paths: ['/home/me/a', '/home/me/b'] } });
  no('copy', { options: { paths: ['/home/me/a', '/home/me/.ssh/id_rsa'] } }, 'argument_rules[5]');
  no('copy', { options: { paths: ['/home/me/a', '~/.SSH/id_rsa'] } }, 'argument_rules[5]');
});

test('tool names in rules match case- and width-insensitively', () => {
  no('WRITE_FILE', { path: '/etc/passwd' });
  no('ｗｒｉｔｅ_file', { path: '/etc/passwd' });
  ok('other_tool', { path: '/etc/passwd' });
});

test('numeric limits, enums, regexes and lengths', () => {
  ok('search', { limit: 50 });
  ok('search', {});
  no('search', { limit: 101 }, 'argument_rules[2]');
  no('search', { limit: 0 });
  no('search', { limit: '1000' });
  no('search', { limit: 'lots' });
  no('search', { limit: [5, 500] });
  ok('run', { mode: 'safe' });
  no('run', { mode: 'SAFE' }, 'argument_rules[3]');
  no('run', { mode: 'unsafe' });
  no('run', {});
  ok('query', { sql: 'select * from t' });
  no('query', { sql: 'DROP   TABLE users' }, 'argument_rules[4]');
  no('query', { sql: ['select 1', 'drop table x'] });
  ok('note', { text: 'short' });
  no('note', { text: 'much too long text' }, 'argument_rules[6]');
});

test('reasons name the argument but never echo its value', () => {
  const d = c.check('write_file', { path: '/etc/secret-token-abc' })!;
  assert.doesNotMatch(d.reason, /secret-token-abc/);
  assert.match(d.reason, /"path"/);
});
