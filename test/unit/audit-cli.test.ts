// `mcp-guard logs` through a real commander program in a child process: every filter and format,
// stats, verify, --follow, encrypted databases, and bad flag values (exit 2, with a message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AuditStore } from '../../src/audit/store.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { rec, tempDir } from '../fixtures/audit/records.js';

const HARNESS = fileURLToPath(new URL('../fixtures/audit/logs-cli.js', import.meta.url));
const NOW = Date.now();

function rows(): AuditRecord[] {
  return [
    rec(1, { ts: NOW - 3 * 3_600_000, server: 'fs', user: 'alice', identity: 'uid:1000', target: 'read_file', session: 's1' }),
    rec(2, {
      ts: NOW - 3 * 3_600_000 + 1, server: 'github', user: 'bob', identity: 'key:ci-bot', target: 'create_issue', decision: 'block',
      stage: 'pii', reason: 'card, "quoted"', session: 's2', findings: [{ type: 'credit_card', count: 1, hashes: ['hk1'] }], error_code: -32008,
    }),
    rec(3, {
      ts: NOW - 10 * 60_000, server: 'fs', user: 'alice', identity: 'uid:1000', method: 'resources/read', target: 'file:///x',
      decision: 'redact', session: 's1', findings: [{ type: 'email', count: 2, hashes: ['he1', 'he2'] }], upstream_ms: 5,
    }),
    rec(4, { ts: NOW - 60_000, server: 'fs', user: 'bob', identity: 'uid:1001', target: '=cmd|calc', decision: 'warn', session: 's2', upstream_ms: 10 }),
    rec(5, {
      ts: NOW, server: 'github', user: 'alice', identity: 'uid:1000', direction: 's2c', kind: 'notification', method: 'notifications/progress',
      target: '\x1b[31mred', decision: 'error', error_code: -32011, session: 's2',
    }),
  ];
}

function makeDb(t: { after(fn: () => void): void }, key?: Buffer): string {
  const file = path.join(tempDir(t), 'audit.db');
  const s = AuditStore.open({ path: file, key });
  s.insertBatch(rows(), 1);
  s.close();
  return file;
}

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [HARNESS, 'logs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function ids(out: string): number[] {
  return out.trim() === '' ? [] : out.trim().split('\n').map((l) => JSON.parse(l).id);
}

test('every filter selects the right rows (--json)', (t) => {
  const db = makeDb(t);
  const q = (...a: string[]) => {
    const r = cli(['--db', db, '--json', ...a]);
    assert.equal(r.code, 0, r.err);
    return ids(r.out);
  };
  assert.deepEqual(q(), [1, 2, 3, 4, 5]);
  assert.deepEqual(q('--server', 'github'), [2, 5]);
  assert.deepEqual(q('--user', 'alice'), [1, 3, 5]);
  assert.deepEqual(q('--user', 'key:ci-bot'), [2]);
  // An identity is found through the user names it appeared with, and only its own rows: row 2 is
  // also user bob, but a different identity.
  assert.deepEqual(q('--user', 'uid:1001'), [4]);
  assert.deepEqual(q('--user', 'bob'), [2, 4]);
  assert.deepEqual(q('--method', 'resources/read'), [3]);
  assert.deepEqual(q('--tool', 'read_file'), [1]);
  assert.deepEqual(q('--decision', 'block'), [2]);
  assert.deepEqual(q('--session', 's1'), [1, 3]);
  assert.deepEqual(q('--finding', 'credit_card'), [2]);
  assert.deepEqual(q('--finding', 'email'), [3]);
  assert.deepEqual(q('--since', '1h'), [3, 4, 5]);
  assert.deepEqual(q('--since', '5m'), [4, 5]);
  assert.deepEqual(q('--until', '1h'), [1, 2]);
  assert.deepEqual(q('--since', new Date(NOW - 3_600_000).toISOString()), [3, 4, 5]);
  assert.deepEqual(q('--limit', '2'), [4, 5]);
  assert.deepEqual(q('-n', '1', '--server', 'fs'), [4]);
  assert.deepEqual(q('--server', 'fs', '--user', 'bob', '--since', '1h'), [4]);
  assert.deepEqual(q('--user', 'alice', '--limit', '2'), [3, 5]);
  assert.deepEqual(q('--server', 'nope'), []);
  const full = JSON.parse(cli(['--db', db, '--json', '--decision', 'block']).out);
  assert.deepEqual(full.findings, [{ type: 'credit_card', count: 1, hashes: ['hk1'] }]);
  assert.equal(full.time, new Date(full.ts).toISOString());
});

test('table output is aligned, uncoloured off a TTY, and escapes control characters', (t) => {
  const db = makeDb(t);
  const r = cli(['--db', db]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 6);
  assert.match(lines[0]!, /^ID\s+TIME\s+SERVER\s+USER\s+DIR\s+METHOD\s+TARGET\s+DECISION/);
  const col = lines[0]!.indexOf('DECISION');
  assert.deepEqual(lines.slice(1).map((l) => l.slice(col).split(/\s+/)[0]), ['allow', 'block', 'redact', 'warn', 'error']);
  assert.equal(r.out.includes('\x1b'), false);
  assert.match(r.out, /\\u001b\[31mred/);
  assert.match(r.out, /credit_card×1/);
  assert.equal(cli(['--db', db, '--server', 'nope']).out, 'no matching audit rows\n');
});

test('CSV output quotes fields and defuses formulas', (t) => {
  const db = makeDb(t);
  const r = cli(['--db', db, '--csv']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^id,time,ts,session,identity,user,roles,server,direction,kind,method,target,decision/);
  assert.equal(lines.length, 6);
  assert.match(lines[2]!, /,"card, ""quoted""",credit_card:1,-32008,/);
  assert.match(lines[4]!, /,'=cmd\|calc,warn,/);
});

test('logs stats summarises the filtered rows', (t) => {
  const db = makeDb(t);
  const r = cli(['stats', '--db', db, '--json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.total, 5);
  assert.deepEqual(s.byDecision, { allow: 1, block: 1, redact: 1, warn: 1, error: 1 });
  assert.deepEqual(s.byServer, { fs: 3, github: 2 });
  assert.equal(s.byTool.read_file, 1);
  assert.deepEqual(s.byFinding, { email: 2, credit_card: 1 });
  assert.deepEqual([s.latency.count, s.latency.p50, s.latency.max], [2, 5, 10]);
  const f = JSON.parse(cli(['stats', '--db', db, '--json', '--server', 'github']).out);
  assert.equal(f.total, 2);
  assert.equal(JSON.parse(cli(['stats', '--db', db, '--json', '--user', 'uid:1001']).out).total, 1);
  assert.equal(JSON.parse(cli(['stats', '--db', db, '--json', '--user', 'uid:1000']).out).total, 3);
  const text = cli(['stats', '--db', db]);
  assert.match(text.out, /by decision\n/);
  assert.match(text.out, /upstream latency\s+n=2\s+p50 5ms/);
});

test('logs verify passes, then fails with exit 1 and the first bad row after tampering', (t) => {
  const db = makeDb(t);
  const ok = cli(['verify', '--db', db]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /audit log OK: 5 rows verified/);
  const h = new Database(db);
  h.prepare("UPDATE audit SET decision = 'allow' WHERE id = 2").run();
  h.close();
  const bad = cli(['verify', '--db', db]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /FAILED verification: row 2 was edited/);
  assert.match(bad.out, /row 2 as stored: .*"decision":"allow"/);
  const json = JSON.parse(cli(['verify', '--db', db, '--json']).out);
  assert.deepEqual([json.ok, json.firstBad.id, json.firstBad.reason], [false, 2, 'edited']);
  const h2 = new Database(db);
  h2.prepare('DELETE FROM audit WHERE id >= 4').run();
  h2.close();
  assert.match(cli(['verify', '--db', db]).out, /row 2 was edited/);
});

test('bad flag values are errors with a message and exit code 2', (t) => {
  const db = makeDb(t);
  const cases: [string[], RegExp][] = [
    [['--decision', 'maybe'], /invalid decision "maybe"/],
    [['--since', 'yesterday-ish'], /invalid time "yesterday-ish"/],
    [['--until', '2025-13-45'], /invalid time/],
    [['--limit', '-3'], /invalid limit|argument missing/],
    [['--limit', '0'], /invalid limit/],
    [['--limit', 'ten'], /invalid limit/],
    [['--json', '--csv'], /cannot be used with/],
    [['--server', ''], /must not be empty/],
    [['--since', '1h', '--until', '2h'], /--since is after --until/],
    [['--bogus'], /unknown option/],
    [['--interval', '5', '--follow'], /invalid interval/],
    [['stats', '--decision', 'nope'], /invalid decision/],
    [['verify', '--server', 'x'], /takes no filters/],
  ];
  for (const [args, msg] of cases) {
    const r = cli(['--db', db, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.err}`);
    assert.match(r.err, msg, args.join(' '));
    assert.equal(r.out, '', `${args.join(' ')} printed rows`);
  }
});

test('the database comes from --config through resolveDbPath; a missing database exits 1', (t) => {
  const db = makeDb(t);
  const conf = path.join(path.dirname(db), 'conf');
  writeFileSync(conf, db);
  assert.deepEqual(ids(cli(['--config', conf, '--json', '--decision', 'warn']).out), [4]);
  const missing = cli(['--db', path.join(path.dirname(db), 'none.db')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no audit database at/);
});

test('an encrypted database is queried with --key-file or MCP_GUARD_AUDIT_KEY', (t) => {
  const key = randomBytes(32);
  const db = makeDb(t, key);
  const keyFile = path.join(tempDir(t), 'k');
  writeFileSync(keyFile, key.toString('hex'));
  const noKey = cli(['--db', db]);
  assert.equal(noKey.code, 1);
  assert.match(noKey.err, /encrypted: give the key/);
  assert.deepEqual(ids(cli(['--db', db, '--json', '--key-file', keyFile, '--user', 'bob']).out), [2, 4]);
  const viaEnv = cli(['--db', db, '--json', '--tool', 'read_file'], { MCP_GUARD_AUDIT_KEY: key.toString('base64') });
  assert.equal(JSON.parse(viaEnv.out).user, 'alice');
  assert.equal(cli(['verify', '--db', db]).code, 0);
  const s = JSON.parse(cli(['stats', '--db', db, '--json', '--key-file', keyFile]).out);
  assert.deepEqual(s.byFinding, { email: 2, credit_card: 1 });
});

test('--follow streams rows written after it started', async (t) => {
  const db = makeDb(t);
  const child = spawn(process.execPath, [HARNESS, 'logs', '--db', db, '--json', '--follow', '--interval', '50', '--server', 'fs'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const waitLines = async (n: number) => {
    const end = Date.now() + 10_000;
    while (out.split('\n').filter(Boolean).length < n) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`got: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await waitLines(3);
  assert.deepEqual(ids(out), [1, 3, 4]);
  const s = AuditStore.open({ path: db });
  s.insertBatch([rec(6, { server: 'github' }), rec(7, { server: 'fs' }), rec(8, { server: 'fs' })], 2);
  s.close();
  await waitLines(5);
  assert.deepEqual(ids(out), [1, 3, 4, 7, 8]);
});

test('--follow keeps every row in line with the header, however wide the rows that come later', async (t) => {
  const db = makeDb(t);
  const child = spawn(process.execPath, [HARNESS, 'logs', '--db', db, '--follow', '--interval', '50', '--server', 'fs'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const waitLines = async (n: number) => {
    const end = Date.now() + 10_000;
    while (out.split('\n').filter(Boolean).length < n) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`got: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await waitLines(4); // the header and rows 1, 3, 4
  const s = AuditStore.open({ path: db });
  s.insertBatch(
    [
      rec(6, {
        server: 'fs', user: 'a-rather-long-user-name', method: 'notifications/resources/list_changed', target: 'file:///home/someone/projects/deeply/nested/file.txt',
        decision: 'redact', stage: 'capabilities', findings: [{ type: 'email', count: 3, hashes: [], side: 'response' }, { type: 'phone_number', count: 1, hashes: [], side: 'request' }],
        upstream_ms: 123456.7, reason: 'a reason',
      }),
      rec(7, { server: 'fs', decision: 'warn', stage: 'pii' }),
    ],
    2,
  );
  s.close();
  await waitLines(6);
  const [head, ...lines] = out.trimEnd().split('\n');
  const at = (name: string) => head!.indexOf(name);
  // Every cell starts where a header does (cells are separated by two or more spaces).
  const starts = (l: string) => [...l.matchAll(/(?:^|  )(?=\S)/g)].map((m) => m.index! + (m[0].length ? 2 : 0));
  const columns = new Set(starts(head!));
  for (const l of lines) {
    for (const p of starts(l)) assert.ok(columns.has(p), `a cell at column ${p} is out of line:\n${head}\n${l}`);
  }
  assert.deepEqual(lines.map((l) => l.slice(at('DECISION')).split(/\s+/)[0]), ['allow', 'redact', 'warn', 'redact', 'warn']);
  assert.match(lines[3]!, /request: phone_number×1; response: email×3|response: email×3; request: phone_number×1|…/);
});
