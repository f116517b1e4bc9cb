import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePermissions } from '../../src/policy/permissions.js';
import { compilePatterns, globToRe2Source, PatternCompileError } from '../../src/policy/pattern.js';

const perms = compilePermissions({
  allowed_tools: ['read_*', 'list_directory', 'fs/*'],
  denied_tools: ['write_file', 'delete_*', '/^exec/i'],
  allowed_resources: ['file:///home/me/projects/**', 'memo://notes/*'],
  denied_resources: ['file:///etc/**', '**/.env', '/root/**'],
  allowed_prompts: ['summarise'],
});
const denied = (d: unknown, rule?: string) => {
  assert.ok(d, 'expected a denial');
  if (rule) assert.equal((d as { rule: string }).rule, rule);
};

test('globs compile to anchored RE2 with segment semantics', () => {
  const s = compilePatterns(['a/*/c', 'x/**', '**/.env', 'f?o'], { kind: 'uri', caseInsensitive: false, label: 't' });
  assert.equal(s.matchIndex('a/b/c'), 0);
  assert.equal(s.matchIndex('a/b/x/c'), -1);
  assert.equal(s.matchIndex('x'), 1);
  assert.equal(s.matchIndex('x/y/z'), 1);
  assert.equal(s.matchIndex('deep/down/.env'), 2);
  assert.equal(s.matchIndex('.env'), 2);
  assert.equal(s.matchIndex('foo'), 3);
  assert.equal(s.matchIndex('f/o'), -1);
  assert.equal(globToRe2Source('a.b'), '^(?:a\\.b)$');
  // Regex metacharacters in globs are literal.
  const t = compilePatterns(['a+b(c)[d]{e}|f$'], { kind: 'name', caseInsensitive: false, label: 't' });
  assert.equal(t.matchIndex('a+b(c)[d]{e}|f$'), 0);
  assert.equal(t.matchIndex('aab(c)[d]{e}|f$'), -1);
});

test('bad regexes are config errors naming the pattern', () => {
  assert.throws(() => compilePermissions({ denied_tools: ['ok', 're:(a'] }), (e: unknown) => e instanceof PatternCompileError && e.where === 'permissions.denied_tools[1]');
  // Backreferences are not RE2: refused rather than run on V8.
  assert.throws(() => compilePermissions({ denied_tools: ['re:(a)\\1'] }), PatternCompileError);
});

test('tools: denied wins over allowed and names the rule', () => {
  assert.equal(perms.checkTool('read_file'), undefined);
  assert.equal(perms.checkTool('list_directory'), undefined);
  denied(perms.checkTool('write_file'), 'permissions.denied_tools[0]');
  denied(perms.checkTool('delete_everything'), 'permissions.denied_tools[1]');
  denied(perms.checkTool('exec_shell'), 'permissions.denied_tools[2]');
  denied(perms.checkTool('run_anything'), 'permissions.allowed_tools');
  const d = perms.checkTool('write_file')!;
  assert.match(d.reason, /write_file/);
});

test('tools: case and Unicode variants of a denied name are denied', () => {
  const p = compilePermissions({ denied_tools: ['write_file', 'delete_*'] });
  for (const v of [
    'Write_File',
    'WRITE_FILE',
    'ｗｒｉｔｅ＿ｆｉｌｅ', // fullwidth
    'write_ﬁle', // ligature fi
    'Delete_All',
    'write_file ', // trailing space
    ' write_file',
    'write\u200b_file', // zero-width space
    'write_file\u200d',
    '\u202ewrite_file', // bidi override
    'write_file\u0000',
    'write_file\n',
    'writ\u034fe_file', // combining grapheme joiner (default-ignorable, not a format character)
    'write_file\ufe0f', // variation selector
    'write\u3164_file', // Hangul filler
    'EXEC'.toLowerCase() === 'exec' ? 'wrıte_file'.replace('ı', 'i') : '',
  ].filter(Boolean)) {
    denied(p.checkTool(v));
  }
  // Different names are not swept up by an exact deny.
  assert.equal(p.checkTool('write_file_v2'), undefined);
  assert.equal(p.checkTool('rewrite_file'), undefined);
  assert.equal(p.checkTool('overwrite'), undefined);
});

test('tools: allow lists are case-sensitive and see the raw name too', () => {
  denied(perms.checkTool('READ_FILE'));
  denied(perms.checkTool('ｒｅａｄ_file')); // NFKC form allowed, raw form is not
  denied(perms.checkTool('read_x/y')); // `*` does not cross `/`
  assert.equal(perms.checkTool('fs/read'), undefined);
  denied(perms.checkTool('fs/a/b'));
});

test('tools: no length escape and no type confusion', () => {
  denied(perms.checkTool('read_' + 'a'.repeat(5000)));
  const open = compilePermissions({ denied_tools: ['x'] });
  denied(open.checkTool('x'.repeat(5000)));
  denied(open.checkTool(undefined));
  denied(open.checkTool(['write_file']));
  denied(open.checkTool({ toString: () => 'x' }));
  assert.equal(compilePermissions(undefined).checkTool('anything'), undefined);
});

test('tools: an empty allow list denies everything', () => {
  const p = compilePermissions({ allowed_tools: [] });
  denied(p.checkTool('read_file'), 'permissions.allowed_tools');
  assert.equal(p.noTools, true);
  assert.equal(p.noResources, false);
});

test('resources: traversal, encodings, backslashes, scheme case cannot escape', () => {
  assert.equal(perms.checkResource('file:///home/me/projects/src/a.ts'), undefined);
  assert.equal(perms.checkResource('file:///home/me/projects'), undefined);
  assert.equal(perms.checkResource('memo://notes/today'), undefined);
  for (const u of [
    'file:///etc/passwd',
    'FILE:///etc/passwd',
    'file://LOCALHOST/etc/passwd',
    'file:///ETC/passwd', // deny lists are case-insensitive
    'file:///home/me/projects/../../../etc/passwd',
    'file:///home/me/projects/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    'file:///home/me/projects/%252e%252e/%252e%252e/%252e%252e/etc/passwd',
    'file:///home/me/projects/..%2f..%2f..%2fetc/passwd',
    'file:///home/me/projects/..\\..\\..\\etc\\passwd',
    'file:///home/me/projects/.env',
    'file:///home/me/projects/sub/dir/.env',
    'file:///home/me/projects/%2eenv'.replace('%2eenv', '%2Eenv'),
    'file:///home/me/projects//x/../../../../root/.ssh/id_rsa',
    'file:///home/me/projects/x?/../../../../../etc/passwd',
    'file:///home/me/projects/a%00.txt',
    'file:///home/me/projects/' + 'a/'.repeat(3000),
    'file:///home/me/projectsX/evil', // prefix trick: projects** must not match projectsX
    'file:///home/me/project',
    'memo://notes/a/b',
    'MEMO://NOTES/a/../../x/y',
    'http://evil.example/home/me/projects/x',
    'not a uri',
  ]) {
    denied(perms.checkResource(u), undefined);
  }
  denied(perms.checkResource('file:///etc/passwd'), 'permissions.denied_resources[0]');
  denied(perms.checkResource('file:///home/me/projects/.env'), 'permissions.denied_resources[1]');
  denied(perms.checkResource('file:///root/x'), 'permissions.denied_resources[2]');
});

test('resource templates are checked as written', () => {
  assert.equal(perms.checkResourceTemplate('file:///home/me/projects/{path}'), undefined);
  denied(perms.checkResourceTemplate('file:///{path}'));
  denied(perms.checkResourceTemplate('file:///etc/{file}'));
});

test('prompts', () => {
  assert.equal(perms.checkPrompt('summarise'), undefined);
  denied(perms.checkPrompt('Summarise'));
  denied(perms.checkPrompt('other'), 'permissions.allowed_prompts');
});

test('error reasons never echo huge values', () => {
  const d = compilePermissions({ denied_tools: ['**'] }).checkTool('a'.repeat(4000))!;
  assert.ok(d.reason.length < 300, d.reason);
});

test('a remembered decision is the same decision: repeated and interleaved names, variants and non-strings', () => {
  const p = compilePermissions({ allowed_tools: ['read_*'], denied_tools: ['read_secret'] });
  for (let round = 0; round < 3; round++) {
    assert.equal(p.checkTool('read_file'), undefined);
    denied(p.checkTool('read_secret'), 'permissions.denied_tools[0]');
    denied(p.checkTool('READ_SECRET'), 'permissions.denied_tools[0]');
    denied(p.checkTool('ｒｅａｄ_secret'), 'permissions.denied_tools[0]'); // fullwidth, NFKC-folded
    denied(p.checkTool('read_se\u200bcret'));
    denied(p.checkTool('write_file'), 'permissions.allowed_tools');
    denied(p.checkTool(42));
  }
  // More distinct names than are remembered: decisions stay right after the memory is cleared.
  for (let i = 0; i < 5000; i++) assert.equal(p.checkTool(`read_${i}`), undefined);
  denied(p.checkTool('read_secret'), 'permissions.denied_tools[0]');
  const d = p.checkTool('read_secret') as { reason: string };
  assert.throws(() => ((d as { reason: string }).reason = 'changed'), 'a remembered denial cannot be altered by a caller');
});
