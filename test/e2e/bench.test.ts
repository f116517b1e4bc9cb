// `mcp-guard bench` as a user runs it: the built-in echo upstream and a server from a config, direct
// vs proxied vs the bare relay, every report format, and bad options. Structure only: the figures
// themselves are benchmarks, not test assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAIN, NODE, recordingServer } from './harness.js';
import { waitForExit } from '../../src/daemon/lock.js';

function bench(args: string[]) {
  return spawnSync(NODE, [MAIN, 'bench', ...args], { encoding: 'utf8', timeout: 120_000 });
}

test('bench measures direct, proxied and the floor in every cell and writes JSON and HTML reports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-'));
  try {
    const json = join(dir, 'r.json');
    const html = join(dir, 'r.html');
    const r = bench(['--size', '1k,4k', '--concurrency', '1,4', '-n', '40', '--warmup', '5', '--json', json, '--html', html]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Overhead over direct/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(rep.kind, 'mcp-guard-latency');
    assert.equal(rep.options.serviceWarmup, 50, 'every target is warmed up once before the first cell');
    assert.match(r.stdout, /warm-up 5 per cell after 50 per target at start/);
    for (const k of ['direct', 'proxied', 'proxiedWarm', 'floor']) assert.ok(rep.startup[k] > 0, `first connect ${k} is timed`);
    assert.match(r.stdout, /^First connect: direct [\d,]+ ms; through mcp-guard [\d,]+ ms starting the daemon, [\d,]+ ms to the running daemon; relay [\d,]+ ms$/m);
    assert.deepEqual(rep.pipeline.sort(), ['audit', 'permissions', 'pii', 'ratelimit']);
    // Both protocol eras by default on the built-in echo server, each over connections of its own.
    assert.deepEqual(rep.eras, ['2025', '2026']);
    const grid = [[1024, 1], [1024, 4], [4096, 1], [4096, 4]];
    assert.deepEqual(rep.cells.map((c: any) => [c.era, c.size, c.concurrency]), ['2025', '2026'].flatMap((e) => grid.map((g) => [e, ...g])));
    assert.match(r.stdout, /^2026 1k +1 +direct/m);
    for (const c of rep.cells) {
      for (const t of ['direct', 'proxied', 'floor']) {
        const x = c.targets[t];
        assert.equal(x.errors, 0, `${t} at ${c.size}/${c.concurrency}: ${x.firstError ?? ''}`);
        assert.ok(x.latency.p50 > 0 && x.latency.p99 >= x.latency.p50 && x.throughput > 0, `${t} figures`);
      }
      // A ratio is left out only where it would not be one (proxied or relay no slower than direct: noise).
      assert.ok(Number.isFinite(c.overhead.p50) && (Number.isFinite(c.ratio.p50) || c.overhead.p50 < 0 || c.floorOverhead.p50 <= 0), `overhead and ratio at ${c.era} ${c.size}/${c.concurrency}: ${JSON.stringify([c.overhead, c.floorOverhead, c.ratio])}`);
      assert.ok(c.targets.proxied.daemonCpuUsPerReq > 0, 'daemon CPU per request is measured');
    }
    // The run against mcp-guard's targets: latency read from this run's 1k cell at 1 in flight, with
    // a verdict; throughput needs 64 in flight, which this run did not have, and says so.
    assert.deepEqual(rep.goals.map((g: any) => [g.era, typeof g.met]), ['2025', '2026'].flatMap((e) => ['boolean', 'boolean', 'boolean', 'undefined'].map((t) => [e, t])));
    assert.equal(rep.goals[3].note, 'not measured: no cell of 1k or less with 64 or more in flight');
    assert.match(rep.goals[0].note, /^1k, 1 in flight; the bare relay's overhead: -?\d+ µs$/);
    assert.match(r.stdout, /Against mcp-guard's targets/);
    for (const g of rep.goals) {
      const goal = `${g.goal} (${g.era} era)`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(r.stdout, new RegExp(`^  ${goal} +${g.value} +(met|MISSED|not measured) +${g.note.split(';')[0]}`, 'm'));
    }
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<svg/);
    assert.match(page, /<h2>Against mcp-guard's targets[^<]*<\/h2><table>/);
    assert.doesNotMatch(page, /<script[^>]+src=/, 'the page needs no server and no network');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench measures a stdio server from the config with a chosen tool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-'));
  try {
    const cfg = join(dir, 'mcp-guard.yaml');
    writeFileSync(cfg, `servers:\n${recordingServer('rec')}\n`);
    const r = bench(['--server', 'rec', '--config', cfg, '--tool', 'echo', '--arg', 'payload', '--size', '512', '--concurrency', '2', '-n', '30', '--warmup', '5', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.match(rep.upstream, /^rec /);
    assert.equal(rep.cells[0].targets.proxied.errors, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a request that is never answered counts as an error after --timeout: the run ends and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-'));
  try {
    const cfg = join(dir, 'mcp-guard.yaml');
    writeFileSync(cfg, `servers:\n${recordingServer('rec')}\n`);
    const r = bench(['--server', 'rec', '--config', cfg, '--tool', 'hang', '--size', '64', '--concurrency', '1', '-n', '2', '--warmup', '0', '--timeout', '1']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /ERRORS/);
    for (const t of ['direct', 'proxied', 'floor']) assert.match(r.stdout, new RegExp(`c1 ${t}: 2 errors, first: .*no answer within 1 s`));
    assert.match(r.stderr, /some requests failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a report file that cannot be written after the run costs that file only: the table prints, exit 1', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mg-bench-out-'));
  const out = join(tmp, 'reports');
  mkdirSync(out);
  try {
    const child = spawn(NODE, [MAIN, 'bench', '--size', '1k', '--concurrency', '1', '-n', '40', '--warmup', '5', '--html', join(out, 'r.html')], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c));
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Once the run has its private home, the up-front check has passed: take the directory away.
    for (let i = 0; i < 300 && !readdirSync(tmp).some((d) => d.startsWith('mg')); i++) await new Promise((r) => setTimeout(r, 50));
    rmSync(out, { recursive: true });
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /could not write the HTML report to .*r\.html: ENOENT/);
    assert.match(stdout, /Overhead over direct/);
    assert.match(stdout, /Against mcp-guard's targets/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('an interrupted bench stops the daemon and the relay it started and removes its files', async () => {
  // The bench's private homes go under TMPDIR: a private one shows what this run left behind.
  const tmp = mkdtempSync(join(tmpdir(), 'mg-bench-int-'));
  try {
    const child = spawn(NODE, [MAIN, 'bench', '--size', '1k', '--concurrency', '1', '-n', '1000000', '--warmup', '0'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let daemonPid = 0;
    for (let i = 0; i < 300 && !daemonPid; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const d of readdirSync(tmp)) {
        try {
          daemonPid = Number(readFileSync(join(tmp, d, 'home', 'daemon.pid'), 'utf8'));
        } catch {
          /* not yet */
        }
      }
    }
    assert.ok(daemonPid > 0, 'the bench started its daemon');
    const relays = () => spawnSync('pgrep', ['-f', `${tmp}/.*/floor.sock`], { encoding: 'utf8' }).stdout.trim();
    assert.notEqual(relays(), '', 'the relay is running');
    await new Promise((r) => setTimeout(r, 1000)); // into the measured requests
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    assert.match(stderr, /mcp-guard bench: interrupted; stopping the daemon and relay of this run/);
    // A SIGKILL takes effect when the kernel next schedules the process: allow it a moment.
    assert.equal(await waitForExit(daemonPid, 5000), true, 'the daemon is stopped');
    assert.equal(relays(), '', 'the relay is stopped');
    assert.deepEqual(readdirSync(tmp), [], 'its files are removed');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('an interrupted detection suite leaves no daemon and no files, whatever its four workers were doing', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mg-bench-int-'));
  try {
    const script = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
    const child = spawn(NODE, [script, '--no-latency', '--quick'], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Into the scenarios, where homes are created, reused and closed concurrently.
    for (let i = 0; i < 300 && !readdirSync(tmp).some((d) => /^mg[kac]-/.test(d)); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    const daemons = () => spawnSync('pgrep', ['-f', `main.js start --config ${tmp}`], { encoding: 'utf8' }).stdout.trim();
    for (let i = 0; i < 50 && daemons() !== ''; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(daemons(), '', 'no daemon of the run is left');
    assert.deepEqual(readdirSync(tmp), [], 'no home of the run is left');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('bad bench options are refused with a message and exit 2', () => {
  for (const [args, msg] of [
    [['--pipeline', 'pii,bogus'], /unknown pipeline stage 'bogus'/],
    [['--size', '1q'], /bad size '1q'/],
    [['--concurrency', '0'], /bad concurrency '0'/],
    [['--warmup', '-1'], /bad --warmup/],
    [['--timeout', '0'], /bad --timeout '0'/],
    [['--size', '1k,17m'], /--size 17m: its messages would be over mcp-guard's limit of 16,777,216 bytes/],
    // Report files are checked before the run, not after a minute of measuring.
    [['--html', join(tmpdir(), 'mg-no-such-dir', 'r.html')], /--html .*r\.html: cannot create it in .*mg-no-such-dir \(ENOENT\)/],
    [['--json', tmpdir()], /--json .*: is a directory/],
  ] as const) {
    const r = bench([...args, '-n', '5']);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('bench/threads.js reports every busy thread of the daemon, the bridge and the relay per request', () => {
  const script = fileURLToPath(new URL('../../bench/threads.js', import.meta.url));
  const r = spawnSync(NODE, [script, '-n', '60', '-c', '4', '--warmup', '20'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  for (const who of ['mcp-guard daemon', 'mcp-guard bridge', 'relay     daemon', 'relay     bridge']) {
    const main = new RegExp(`^${who} \\d+ \\(main\\)\\s+(\\d+\\.\\d)\\s+\\d+\\.\\d\\d\\s+\\d+\\.\\d\\d$`, 'm').exec(r.stdout);
    assert.ok(main && Number(main[1]) > 0, `${who}: main thread with CPU per request\n${r.stdout}`);
    assert.match(r.stdout, new RegExp(`^${who} all threads\\s+\\d+\\.\\d$`, 'm'));
  }
  assert.match(r.stdout, /^mcp-guard wall per request\s+\d+\.\d$/m);
});

test('generated attack variants through the real bridge, daemon and recording upstream (and raw hellos for auth): only the documented limit gets through', async () => {
  const { runGenerated } = await import('../../bench/detection/suite.js');
  // Every 7th variant: a sample over every format, placement, disguise, name trick and URI trick.
  const g = await runGenerated({ every: 7 });
  assert.ok(g.cases > 1000, `${g.cases} variants run`);
  // Auth variants (forged, tampered, revoked and stolen keys and tokens on raw hellos) and config
  // variants (personal configs relaxing a base, each in a daemon of its own) ran, and their controls
  // (the valid key and token; personal configs that only restrict) work.
  const kinds = (cat: string) => g.byCategory.find((c) => c.category === cat)!.kinds;
  assert.equal(kinds('auth-bypass')['must-pass'].pass, 2, 'the valid key and the valid token are accepted');
  assert.equal(kinds('config-override')['must-pass'].pass, 1, 'a restricting personal config works');
  for (const cat of ['pii-request-leak', 'pii-response-leak', 'pii-evasion', 'sampling-injection', 'permission-bypass', 'resource-traversal', 'auth-bypass', 'config-override']) {
    const k = g.byCategory.find((c) => c.category === cat)!.kinds;
    assert.ok(k['must-block'].pass + k['must-redact'].pass > 0, `${cat} has caught attacks`);
  }
  // README "Detection", known limits: base64 of 11 bytes or less is not decoded (the gate's
  // base64 trigger needs 16 characters), so a bare 9-character id in base64 is not seen.
  const known = (d: string) => /^(?:es-dni|uk-nino) base64url of the value$/.test(d);
  const unexpected = g.failures.filter((f) => !known(f.description));
  assert.deepEqual(unexpected.map((f) => `${f.id} ${f.description}: ${f.verdict.reason}`), []);
});

test('generated rate-limit variants: one identity split over sessions, and a tool limit under every spelling of its name, stay within the limit', async () => {
  const { runRateVariants } = await import('../../bench/detection/suite.js');
  const dir = mkdtempSync(join(tmpdir(), 'mg-rate-'));
  try {
    const script = join(dir, 'script.json');
    writeFileSync(script, '{}');
    const wanted = /split over 2 sessions|12 spellings of its name|8 calls under|other tools beside/;
    const r = await runRateVariants(script, () => {}, (c) => wanted.test(c.description));
    assert.equal(r.length, 4);
    assert.deepEqual(r.filter((x) => !x.verdict.pass).map((x) => `${x.description}: ${x.verdict.reason}`), []);
    // The limits really were reached (not a pass by an empty run).
    for (const x of r.filter((y) => y.kind === 'must-block')) assert.match(x.verdict.reason, /got -32009/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
