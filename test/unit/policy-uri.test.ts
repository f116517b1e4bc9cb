import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeUri, pathForms, resolveDots, normalizeUriPattern } from '../../src/policy/uri.js';

const forms = (u: string) => {
  const r = normalizeUri(u);
  assert.ok(r.ok, `expected ${u} to normalise: ${!r.ok ? r.reason : ''}`);
  return r.forms;
};
const refused = (u: unknown) => assert.equal(normalizeUri(u).ok, false, `expected ${String(u)} to be refused`);

test('dots resolve and never climb above the root', () => {
  assert.equal(resolveDots('/a/b/../../../../etc/passwd'), '/etc/passwd');
  assert.equal(resolveDots('/a/./b//c/'), '/a/b/c/');
  assert.equal(resolveDots('a\\..\\..\\b'), 'b');
  assert.equal(resolveDots('../x', false), '../x');
});

test('percent-encoded, double-encoded and backslash traversal all resolve to the real path', () => {
  for (const u of [
    'file:///home/me/projects/../../../etc/passwd',
    'file:///home/me/projects/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    'file:///home/me/projects/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc/passwd',
    'file:///home/me/projects/..\\..\\..\\etc\\passwd',
    'file:///home/me/projects/%5c..%5c..%5c..%5cetc/passwd',
    'FILE://LOCALHOST/etc//passwd',
    'file:///%65tc/passwd',
    'file:////etc/./passwd',
  ]) {
    assert.ok(forms(u).includes('file:///etc/passwd'), `${u} -> ${forms(u).join(' | ')}`);
  }
  // Double encoding: one reading is the literal `%2e%2e` name, another the traversal; both are returned.
  const f = forms('file:///home/me/projects/%252e%252e/%252e%252e/secret');
  assert.ok(f.includes('file:///home/secret'), f.join(' | '));
});

test('scheme and host are case-folded, paths are not', () => {
  assert.deepEqual(forms('HTTPS://Example.COM/A/b'), ['https://example.com/A/b']);
});

test('query read both as a query and as part of the path', () => {
  const f = forms('file:///home/me/projects/x?/../../../../etc/passwd');
  assert.ok(f.includes('file:///etc/passwd'), f.join(' | '));
});

test('malformed, control characters, NUL, overlong and too-deep encodings are refused', () => {
  refused('no-scheme/path');
  refused('file:///etc/passwd%00.txt');
  refused('file:///etc/pass\u0000wd');
  refused('file:///a\nb');
  refused('file:///a%zz');
  refused('file:///a%c3%28'); // invalid UTF-8
  refused('file:///' + 'a'.repeat(5000));
  refused('file:///%2525252e%2525252e/etc');
  refused(42);
  refused('');
});

test('argument paths: relative tricks are read rooted as well', () => {
  const r = pathForms('../../etc/passwd');
  assert.ok(r.ok && r.forms.includes('/etc/passwd'), JSON.stringify(r));
  const r2 = pathForms('/home/me/../../etc/shadow');
  assert.ok(r2.ok && r2.forms.includes('/etc/shadow'));
  const r3 = pathForms('file:///etc/hosts');
  assert.ok(r3.ok && r3.forms.includes('/etc/hosts'));
  const r4 = pathForms('%2fetc%2fpasswd');
  assert.ok(r4.ok && r4.forms.includes('/etc/passwd'), JSON.stringify(r4));
});

test('URI patterns are normalised like values', () => {
  assert.equal(normalizeUriPattern('FILE:///Home//me/**'), 'file:///Home/me/**');
  assert.equal(normalizeUriPattern('/etc/**'), 'file:///etc/**');
  assert.equal(normalizeUriPattern('**/.env'), '**/.env');
});
