// The one ${VAR} expansion: its valid forms, the escape, and that anything else starting with `${`
// is an error with file:line:column in the loader (an upstream never gets `${MY-VAR}` as its key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandVars } from '../../src/config/expand.js';
import { parseFile, ConfigError } from '../../src/config/loader.js';
import { locate } from '../../src/config/locate.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = { KEY: 'k-123', EMPTY: '', HOME_DIR: '/srv/guard' };

test('${NAME} and ${NAME:-default} expand; unset or empty takes the default; $${ is a literal ${', () => {
  const v = (s: string) => {
    const r = expandVars(s, env);
    assert.deepEqual(r.problems, [], s);
    return r.value;
  };
  assert.equal(v('Bearer ${KEY}'), 'Bearer k-123');
  assert.equal(v('${KEY}${KEY}'), 'k-123k-123');
  assert.equal(v('${EMPTY}'), '');
  assert.equal(v('${UNSET:-fallback}'), 'fallback');
  assert.equal(v('${EMPTY:-fallback}'), 'fallback');
  assert.equal(v('${KEY:-fallback}'), 'k-123');
  assert.equal(v('${UNSET:-}'), '');
  assert.equal(v('${UNSET:-a b:c}'), 'a b:c');
  assert.equal(v('$${KEY}'), '${KEY}');
  assert.equal(v('cost: $5 and $HOME and {x}'), 'cost: $5 and $HOME and {x}');
  assert.equal(v('no vars'), 'no vars');
});

test('anything else that starts with ${ is an error naming the text, and is not expanded', () => {
  for (const [s, why] of [
    ['${MY-VAR}', /'\$\{MY-VAR\}' is not a valid expansion/],
    ['${ HOME }', /'\$\{ HOME \}' is not a valid expansion/],
    ['${}', /'\$\{\}' is not a valid expansion/],
    ['${1X}', /not a valid expansion/],
    ['${KEY:default}', /not a valid expansion/],
    ['${KEY-default}', /not a valid expansion/],
    ['x ${KEY', /has no closing '\}'/],
    ['${A:-${KEY}}', /'\$\{A:-…\}': a default cannot hold another .*no nested expansion/],
    ['${UNSET}', /environment variable UNSET is not set/],
  ] as const) {
    const r = expandVars(s, env);
    assert.equal(r.problems.length, 1, s);
    assert.match(r.problems[0]!.message, why, s);
    assert.equal(r.problems[0]!.index, s.indexOf('${'), s);
  }
  // A default may be a credential: an error never shows it.
  for (const s of ['${API-KEY:-sk-live-4f9a8b7c6d5e}', '${API_KEY:-sk-live-4f9a8b7c6d5e', '${API_KEY:-${X}sk-live-4f9a8b7c6d5e}']) {
    const r = expandVars(s, env);
    assert.equal(r.problems.length, 1, s);
    assert.doesNotMatch(r.problems[0]!.message, /sk-live/, s);
  }
  // Every problem of a value is reported, each at its own place.
  const r = expandVars('${KEY}/${BAD-1}/${BAD-2}', env);
  assert.deepEqual(r.problems.map((p) => [p.index, p.text]), [[7, '${BAD-1}'], [16, '${BAD-2}']]);
});

function problemsOf(yaml: string): string[] {
  try {
    parseFile(yaml, '/cfg/mcp-guard.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message.split('\n');
  }
  return [];
}

test('the loader reports a bad expansion as file:line:column with the key, where the ${ is', () => {
  const yaml = [
    'servers:', //                                                     1
    '  rec:', //                                                       2
    '    command: node', //                                            3
    '    env: { API_KEY: "${MY-VAR}" }', //                            4
    '    args: ["--x", plain, "--home=${ HOME }"]', //                 5
    '', //                                                             6
  ].join('\n');
  const got = problemsOf(yaml);
  const col = (n: number) => yaml.split('\n')[n - 1]!.indexOf('${') + 1; // 22 and 34
  assert.deepEqual(got, [
    `/cfg/mcp-guard.yaml:4:${col(4)}: servers.rec.env.API_KEY: '\${MY-VAR}' is not a valid expansion: use \${NAME} or \${NAME:-default}, NAME of letters, digits and _ (write $\${ for a literal \${)`,
    `/cfg/mcp-guard.yaml:5:${col(5)}: servers.rec.args.2: '\${ HOME }' is not a valid expansion: use \${NAME} or \${NAME:-default}, NAME of letters, digits and _ (write $\${ for a literal \${)`,
  ]);
  // An unset variable: the same one expansion, the same kind of error.
  delete process.env.MG_TEST_UNSET;
  assert.match(problemsOf('servers:\n  rec:\n    command: "${MG_TEST_UNSET}"\n')[0]!, /^\/cfg\/mcp-guard\.yaml:3:15: servers\.rec\.command: environment variable MG_TEST_UNSET is not set/);
  // A valid file with a default and an escape loads, and the escape is literal in the result.
  const ok = parseFile('servers:\n  rec:\n    command: node\n    args: ["${MG_TEST_UNSET:-a}", "$${KEEP}"]\n', '/cfg/mcp-guard.yaml');
  assert.deepEqual(ok.config.servers.rec!.args, ['a', '${KEEP}']);
});

test('locating expands daemon.home and socket_path with the same rules as the loader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-expand-'));
  const file = join(dir, 'mcp-guard.yaml');
  process.env.MG_TEST_HOME = join(dir, 'h');
  delete process.env.MG_TEST_UNSET;
  writeFileSync(file, 'daemon:\n  home: ${MG_TEST_HOME}\n  socket_path: ${MG_TEST_UNSET:-/tmp/x.sock}\n');
  const l = locate(file);
  assert.equal(l.home, join(dir, 'h'));
  assert.equal(l.socketPath, '/tmp/x.sock');
  // An unset variable is not read as '' (which put the home in the config's own directory):
  // locating says it could not read the field, and the loader refuses the file.
  writeFileSync(file, 'daemon:\n  home: ${MG_TEST_UNSET}/h\n');
  const bad = locate(file);
  assert.notEqual(bad.home, join(dir, 'h'));
  assert.equal(bad.exact, false);
  assert.match(bad.problem ?? '', /mcp-guard\.yaml:2:9: daemon\.home: environment variable MG_TEST_UNSET is not set/);
});
