// Drives the detection suite through the REAL bridge and daemon against a recording upstream
// (test/fixtures/bench/leak-server.ts), then scores every case from what the upstream recorded and
// what the client got. Scenario categories (auth, config override, rate limits) run their own
// daemons; anything this build cannot do is reported as 'not run', never as a pass.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchHome } from '../../src/bench/guard-env.js';
import { RpcClient, type RpcReply } from '../../src/bench/rpc-client.js';
import { clopperPearsonUpper } from '../../src/bench/stats.js';
import { allCases, CATEGORIES, S, type CaseKind, type DetectionCase } from './cases.js';
import { generateCorpus } from './corpus.js';
import { configVariants, generatedCases, rateVariants, type RateVariant } from './generated.js';
import { runAuthVariants } from './auth-variants.js';
import { scoreMessageCase, scoreSamplingVariant, scoreRate, tally, isRefusal, isSuccess, contains, type Verdict, type CategoryScore } from './score.js';

const LEAK_SERVER = fileURLToPath(new URL('../../test/fixtures/bench/leak-server.js', import.meta.url));

export interface CaseResult {
  id: string;
  category: string;
  kind: CaseKind;
  description: string;
  verdict: Verdict;
}

export interface DetectionReport {
  kind: 'mcp-guard-detection';
  when: string;
  cases: CaseResult[];
  byCategory: CategoryScore[];
  corpus: { calls: number; falsePositives: number; rate: number; upper95: number; byKind: Record<string, { calls: number; fp: number }>; examples: { kind: string; name: string; reason: string }[]; seconds: number };
  /** Generated variants (generated.ts): counts per category, and every case that failed. */
  generated: {
    cases: number;
    /** Every k-th variant was run (1: all of them). */
    every: number;
    byCategory: CategoryScore[];
    /** The PII and secret variants per family of the planted value's type (the README's families). */
    byFamily?: CategoryScore[];
    failures: CaseResult[];
    seconds: number;
  };
}

const POLICY_GUARDED = {
  permissions: {
    allowed_tools: ['echo', 'leak', 'leak_structured', 'sample', 'read_file', 'list_directory', 'lookup_*'],
    denied_tools: ['write_file', 'delete_*', 'admin_*', 'exec_shell'],
    allowed_resources: ['file:///data/**'],
    denied_resources: ['file:///etc/**', '**/.env', 'file:///secret/**'],
    denied_prompts: ['secret_prompt', 'admin_*'],
  },
  argument_rules: [{ tool: 'read_file', path: 'path', glob: '/etc/**', action: 'deny', reason: 'system files' }],
  sampling: { enabled: true, max_tokens: 2000 },
};

function server(dir: string, profile: string, policy: Record<string, unknown>, script: string) {
  return { command: process.execPath, args: [LEAK_SERVER], env: { RECORD_FILE: join(dir, `${profile}.jsonl`), LEAK_SCRIPT: script }, policy };
}

function readRecord(file: string, from: number): { msgs: any[]; size: number } {
  if (!existsSync(file)) return { msgs: [], size: 0 };
  const buf = readFileSync(file);
  const text = buf.subarray(from).toString('utf8');
  const msgs = text.split('\n').filter(Boolean).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return { unparsable: l };
    }
  });
  return { msgs, size: buf.length };
}

const sizeOf = (f: string) => (existsSync(f) ? statSync(f).size : 0);
/** p, or undefined after ms; the timer is cleared once p settles, so it never holds the process open. */
const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
};

export interface SuiteOptions {
  corpusSize: number;
  progress?: (m: string) => void;
  /** Skip scenario categories (auth, config, rate) — used by --quick when time is short. */
  skipScenarios?: boolean;
  /** Run every k-th generated variant only (quick mode: a sample spread over all formats). */
  generatedEvery?: number;
  /** Also run the auth and config variants, which need daemons of their own (default: yes). */
  scenarioVariants?: boolean;
}

/** The suite's config: its server profiles over the recording upstream, PII and audit on. */
function writeSuiteConfig(home: BenchHome, scriptFile: string, more: Record<string, unknown> = {}): void {
  const cfg = {
    servers: {
      guarded: server(home.dir, 'guarded', POLICY_GUARDED, scriptFile),
      denyonly: server(home.dir, 'denyonly', { permissions: { denied_tools: ['write_file', 'delete_*'] } }, scriptFile),
      nosampling: server(home.dir, 'nosampling', { ...POLICY_GUARDED, sampling: { enabled: false } }, scriptFile),
      corpus: server(home.dir, 'corpus', {}, scriptFile),
      ...more,
    },
    daemon: { home: home.home, log_level: 'warn', shutdown_timeout: 2 },
    pii: { enabled: true },
    audit: { enabled: true, path: join(home.dir, 'audit.db') },
  };
  home.writeConfig(JSON.stringify(cfg, null, 2));
}

/** Only the generated variants (every `every`-th), in a home of their own: for tests and quick checks. */
export async function runGenerated(opts: { every?: number; progress?: (m: string) => void } = {}): Promise<DetectionReport['generated']> {
  const every = Math.max(1, opts.every ?? 1);
  const script: Record<string, string> = {};
  const variants = generatedCases({ script }).filter((_, k) => k % every === 0);
  const home = new BenchHome('mgg-');
  try {
    const scriptFile = join(home.dir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify(script));
    writeSuiteConfig(home, scriptFile);
    const g = await runVariants(home, variants, every, opts.progress ?? (() => {}));
    return withScenarioVariants(g, await runScenarioVariants(scriptFile, opts.progress ?? (() => {}), every));
  } finally {
    await home.close();
  }
}

/** The generated report with the scenario variants (auth, config, rate) added in, per category. */
function withScenarioVariants(g: DetectionReport['generated'], scenarios: { results: CaseResult[]; seconds: number }): DetectionReport['generated'] {
  const more = scenarios.results;
  const byCategory = g.byCategory.map((c) => {
    const mine = more.filter((r) => r.category === c.category);
    if (!mine.length) return c;
    const t = tally(mine, [c.category])[0]!;
    const kinds = Object.fromEntries(
      Object.entries(c.kinds).map(([k, v]) => {
        const w = t.kinds[k as CaseKind];
        return [k, { pass: v.pass + w.pass, fail: v.fail + w.fail, notRun: v.notRun + w.notRun }];
      }),
    ) as CategoryScore['kinds'];
    return { category: c.category, kinds };
  });
  return { ...g, cases: g.cases + more.length, byCategory, failures: [...g.failures, ...more.filter((r) => !r.verdict.pass)], seconds: g.seconds + scenarios.seconds };
}

/**
 * Rate-limit variants: one daemon, a server (so a bucket) per variant, run one at a time so that each
 * finishes within seconds of its start (a slow run would be refilled, at one token a second for 60/min).
 */
export async function runRateVariants(scriptFile: string, say: (m: string) => void = () => {}, pick: (c: DetectionCase) => boolean = () => true): Promise<CaseResult[]> {
  const variants = rateVariants().filter(pick);
  const h = new BenchHome('mgr-');
  const results: CaseResult[] = [];
  try {
    const specs = variants.map((c) => c.scenario as unknown as RateVariant);
    const servers = Object.fromEntries(
      specs.map((r, i) => {
        const rate = r.toolLimit ? { requests_per_minute: 1_000_000, tool_limits: { echo: { requests_per_minute: r.limit } } } : { requests_per_minute: r.limit };
        return [`rl${i}`, server(h.dir, `rl${i}`, { rate_limit: rate }, scriptFile)];
      }),
    );
    h.writeConfig(JSON.stringify({ servers, daemon: { home: h.home, log_level: 'warn', shutdown_timeout: 1 }, pii: { enabled: true }, audit: { enabled: false } }));
    for (const [i, c] of variants.entries()) {
      say(`rate variant ${i + 1}/${variants.length} ${c.description}`);
      const r = specs[i]!;
      const clients: RpcClient[] = [];
      let verdict: Verdict;
      try {
        for (let k = 0; k < r.sessions; k++) {
          const cl = h.bridge(`rl${i}`);
          clients.push(cl);
          const init = await withTimeout(cl.initialize(), 20_000);
          if (!init?.ok) throw new Error(`session ${k + 1} failed: ${JSON.stringify(init?.msg?.error ?? 'timeout')}`);
        }
        const names = r.names ?? ['echo'];
        let j = 0;
        const one = (cl: RpcClient) => {
          const k = j++;
          if (r.mixed && k % 3 === 1) return cl.request('resources/read', { uri: `file:///data/r${k}.txt` });
          if (r.mixed && k % 3 === 2) return cl.request('prompts/get', { name: 'greet', arguments: { k: String(k) } });
          return cl.request('tools/call', { name: names[k % names.length], arguments: { k } });
        };
        const replies: (RpcReply | undefined)[] = [];
        await Promise.all(
          clients.map(async (cl) => {
            if (r.sequential) for (let k = 0; k < r.perSession; k++) replies.push(await withTimeout(one(cl), 20_000));
            else replies.push(...(await Promise.all(Array.from({ length: r.perSession }, () => withTimeout(one(cl), 20_000)))));
          }),
        );
        const ok = replies.filter((x) => isSuccess(x?.msg) && !x!.msg.result?.isError).length;
        const limited = replies.filter((x) => x?.msg?.error?.code === -32003).length;
        // Names the proxy refuses outright (invisible characters) are not a way past the limit: only successes count.
        verdict = scoreRate(c.kind, { sent: replies.length, ok, limited, other: c.kind === 'must-pass' ? replies.length - ok - limited : 0, limit: r.limit });
      } catch (err) {
        verdict = { pass: false, reason: `variant failed to run: ${(err as Error).message.split('\n')[0]}` };
      } finally {
        await Promise.all(clients.map((cl) => cl.close()));
      }
      results.push({ id: c.id, category: c.category, kind: c.kind, description: c.description, verdict });
    }
  } finally {
    await h.close();
  }
  return results;
}

/**
 * Auth variants on raw hellos alongside config variants (each in a daemon of its own, three at a
 * time); then, in a full run, the rate variants.
 */
async function runScenarioVariants(scriptFile: string, say: (m: string) => void, every: number): Promise<{ results: CaseResult[]; seconds: number }> {
  const t0 = Date.now();
  // The auth variants run alongside the config variants: both mostly wait for daemons to start.
  const auth = runAuthVariants(LEAK_SERVER, say, every);
  // Each config variant starts a daemon (about 1.3 s of CPU): a sample keeps every 3k-th and one control.
  const all = configVariants();
  const firstControl = all.find((c) => c.kind === 'must-pass');
  const cfg = every === 1 ? all : all.filter((c, k) => c === firstControl || (c.kind !== 'must-pass' && k % (3 * every) === 0));
  const verdicts = new Map<string, Verdict>();
  let next = 0;
  const worker = async () => {
    while (next < cfg.length) {
      const c = cfg[next++]!;
      say(`config variant ${next}/${cfg.length} ${c.description}`);
      try {
        verdicts.set(c.id, await runConfigCase(c, scriptFile));
      } catch (err) {
        verdicts.set(c.id, { pass: false, reason: `variant failed to run: ${(err as Error).message.split('\n')[0]}` });
      }
    }
  };
  await Promise.all(Array.from({ length: 3 }, worker));
  const out: CaseResult[] = [...(await auth)];
  if (every === 1) out.push(...(await runRateVariants(scriptFile, say)));
  for (const c of cfg) out.push({ id: c.id, category: c.category, kind: c.kind, description: c.description, verdict: verdicts.get(c.id)! });
  return { results: out, seconds: (Date.now() - t0) / 1000 };
}

export async function runDetection(opts: SuiteOptions): Promise<DetectionReport> {
  const say = opts.progress ?? (() => {});
  const cases = allCases();
  const results: CaseResult[] = [];
  const home = new BenchHome('mgd-');
  const script: Record<string, string> = {};
  for (const c of cases) if (c.upstreamReply !== undefined) script[c.id] = c.upstreamReply;
  const every = Math.max(1, opts.generatedEvery ?? 1);
  const variants = generatedCases({ script }).filter((_, k) => k % every === 0);
  script['resource:file:///data/report.txt'] = cases.find((c) => c.id === 'resp-resource')!.upstreamReply!;
  const scriptFile = join(home.dir, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(script));
  const answers = new Map<string, string>();
  for (const c of cases) if (c.clientAnswer) answers.set(c.upstreamReply!, c.clientAnswer);
  const rateCases = cases.filter((c) => c.scenario?.run === 'rate');
  const limited = Object.fromEntries(rateCases.map((c) => [`rl-${c.id}`, server(home.dir, `rl-${c.id}`, { rate_limit: { requests_per_minute: c.scenario!.limit } }, scriptFile)]));
  writeSuiteConfig(home, scriptFile, limited);
  const sampleHandler = (msg: any) => {
    if (msg.method !== 'sampling/createMessage') return undefined;
    const prompt = msg.params?.messages?.[0]?.content?.text ?? '';
    return { role: 'assistant', content: { type: 'text', text: answers.get(prompt) ?? 'ok, done' }, model: 'bench-model', stopReason: 'endTurn' };
  };
  const t0 = Date.now();
  let corpus: DetectionReport['corpus'];
  let generated: DetectionReport['generated'];
  try {
    // ---- message cases, one at a time per profile so each recording delta belongs to one case
    const clients = new Map<string, RpcClient>();
    const clientFor = async (profile: string) => {
      let c = clients.get(profile);
      if (!c) {
        c = home.bridge(profile, { keepAll: true, onServerRequest: sampleHandler });
        const r = await withTimeout(c.initialize({ sampling: {} }), 30_000);
        if (!r?.ok) throw new Error(`cannot initialize ${profile} through mcp-guard: ${JSON.stringify(r?.msg?.error ?? 'timeout')}\n${c.stderr}\n${home.daemonLog().slice(-1500)}`);
        clients.set(profile, c);
      }
      return c;
    };
    const messageCases = cases.filter((c) => c.check !== 'scenario');
    let i = 0;
    for (const c of messageCases) {
      say(`detection case ${++i}/${messageCases.length} ${c.id}`);
      const profile = c.profile ?? 'guarded';
      const client = await clientFor(profile);
      const rec = join(home.dir, `${profile}.jsonl`);
      const from = sizeOf(rec);
      const seenFrom = client.received.length;
      const id = `case:${c.id}`;
      const p = c.raw ? client.sendRaw(c.raw.replace('__ID__', JSON.stringify(id)), id) : client.request(c.request!.method, c.request!.params, id);
      const reply = await withTimeout(p, 15_000);
      // Give a refused-but-forwarded message a moment to show up at the upstream anyway.
      await new Promise((r) => setTimeout(r, 5));
      const delta = readRecord(rec, from).msgs;
      const serverRequests = client.received.slice(seenFrom).filter((m) => typeof m?.method === 'string' && m.id !== undefined);
      results.push({ id: c.id, category: c.category, kind: c.kind, description: c.description, verdict: scoreMessageCase(c, { reply: reply?.msg, upstreamDelta: delta, serverRequests }) });
    }

    // ---- generated variants, many in flight: each is scored by its own request id
    generated = await runVariants(home, variants, every, say);
    if (opts.scenarioVariants !== false) generated = withScenarioVariants(generated, await runScenarioVariants(scriptFile, say, every));

    // ---- scenarios: each runs its own daemon (or its own server), so they run a few at a time
    const scenarioCases = cases.filter((x) => x.check === 'scenario');
    const scenarioResults = new Map<string, Verdict>();
    let nextScenario = 0;
    const scenarioWorker = async () => {
      while (nextScenario < scenarioCases.length) {
        const c = scenarioCases[nextScenario++]!;
        say(`scenario ${nextScenario}/${scenarioCases.length} ${c.id}`);
        let v: Verdict;
        if (opts.skipScenarios && c.scenario!.run !== 'rate') v = { pass: false, notRun: true, reason: 'skipped (--skip-scenarios)' };
        else {
          try {
            v = await runScenario(c, home, clientFor, scriptFile);
          } catch (err) {
            v = { pass: false, reason: `scenario failed to run: ${(err as Error).message.split('\n')[0]}` };
          }
        }
        scenarioResults.set(c.id, v);
      }
    };
    await clientFor('guarded');
    await Promise.all(Array.from({ length: 4 }, scenarioWorker));
    for (const c of scenarioCases) results.push({ id: c.id, category: c.category, kind: c.kind, description: c.description, verdict: scenarioResults.get(c.id)! });

    // ---- legitimate corpus, many in flight over a few sessions
    corpus = await runCorpus(home, opts.corpusSize, say);
  } finally {
    await home.close();
  }
  say(`detection done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { kind: 'mcp-guard-detection', when: new Date().toISOString(), cases: results, byCategory: tally(results, CATEGORIES), corpus, generated };
}

/**
 * Generated variants run 16 in flight per profile over fresh sessions. Each request has its own id,
 * so what the upstream received for it is found by id in the recording afterwards, whatever ran
 * alongside it.
 */
async function runVariants(home: BenchHome, variants: DetectionCase[], every: number, say: (m: string) => void): Promise<DetectionReport['generated']> {
  const t0 = Date.now();
  const INFLIGHT = 16;
  const byProfile = new Map<string, DetectionCase[]>();
  for (const c of variants) {
    const p = c.profile ?? 'guarded';
    if (!byProfile.has(p)) byProfile.set(p, []);
    byProfile.get(p)!.push(c);
  }
  const replies = new Map<string, any>();
  const sampled: any[] = [];
  let done = 0;
  const clients: RpcClient[] = [];
  try {
    await Promise.all(
      [...byProfile].map(async ([profile, list]) => {
        const c = home.bridge(profile, {
          keepAll: false,
          onServerRequest: (m) => {
            if (m.method !== 'sampling/createMessage') return undefined;
            sampled.push(m);
            return { role: 'assistant', content: { type: 'text', text: 'ok, done' }, model: 'bench-model', stopReason: 'endTurn' };
          },
        });
        clients.push(c);
        const r = await withTimeout(c.initialize({ sampling: {} }), 30_000);
        if (!r?.ok) throw new Error(`cannot initialize ${profile} for the generated variants: ${JSON.stringify(r?.msg?.error ?? 'timeout')}`);
        let next = 0;
        const worker = async () => {
          while (next < list.length) {
            const v = list[next++]!;
            const p = v.raw ? c.sendRaw(v.raw.replace('__ID__', JSON.stringify(v.id)), v.id) : c.request(v.request!.method, v.request!.params, v.id);
            replies.set(v.id, (await withTimeout(p, 30_000))?.msg);
            if (++done % 500 === 0) say(`generated variant ${done}/${variants.length}`);
          }
        };
        await Promise.all(Array.from({ length: INFLIGHT }, worker));
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  // The upstream records a line as it reads it; give a refused-but-forwarded one time to land.
  await new Promise((r) => setTimeout(r, 200));
  const received = new Map<string, any[]>();
  for (const profile of byProfile.keys()) {
    for (const m of readRecord(join(home.dir, `${profile}.jsonl`), 0).msgs) {
      if (typeof m?.id !== 'string' || !m.id.startsWith('g-')) continue;
      if (!received.has(m.id)) received.set(m.id, []);
      received.get(m.id)!.push(m);
    }
  }
  // The leak server names the case in the request's metadata: sort what the client was asked by it.
  const sampledByKey = new Map<string, any[]>();
  for (const m of sampled) {
    const key = String(m.params?.metadata?.case ?? '');
    if (!sampledByKey.has(key)) sampledByKey.set(key, []);
    sampledByKey.get(key)!.push(m);
  }
  const results: CaseResult[] = variants.map((v) => ({
    id: v.id,
    category: v.category,
    kind: v.kind,
    description: v.description,
    verdict:
      v.check === 'sampling'
        ? scoreSamplingVariant(v, replies.get(v.id), sampledByKey.get(v.secret) ?? [])
        : scoreMessageCase(v, { reply: replies.get(v.id), upstreamDelta: received.get(v.id) ?? [], serverRequests: [] }),
  }));
  const failures = results.filter((r) => !r.verdict.pass);
  say(`generated variants: ${variants.length - failures.length}/${variants.length} passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const familyOf = new Map(variants.map((v) => [v.id, v.family]));
  const withFamily = results.filter((r) => familyOf.get(r.id) !== undefined).map((r) => ({ ...r, category: familyOf.get(r.id)! }));
  const families = [...new Set(variants.map((v) => v.family).filter((f): f is string => f !== undefined))];
  return { cases: variants.length, every, byCategory: tally(results, CATEGORIES), byFamily: tally(withFamily, families), failures, seconds: (Date.now() - t0) / 1000 };
}

async function runCorpus(home: BenchHome, n: number, say: (m: string) => void): Promise<DetectionReport['corpus']> {
  const t0 = Date.now();
  const calls = generateCorpus(n);
  const SESSIONS = 4;
  const INFLIGHT = 64;
  const clients: RpcClient[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const c = home.bridge('corpus', { keepAll: false });
    const r = await withTimeout(c.initialize(), 30_000);
    if (!r?.ok) throw new Error(`corpus session failed to initialize: ${JSON.stringify(r?.msg?.error ?? 'timeout')}`);
    clients.push(c);
  }
  const replies: (any | undefined)[] = new Array(calls.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    clients.map(async (c) => {
      const worker = async () => {
        while (next < calls.length) {
          const k = next++;
          const call = calls[k]!;
          const r = await withTimeout(c.request('tools/call', { name: call.name, arguments: call.arguments }, `corpus-${k}`), 30_000);
          replies[k] = r?.msg;
          if (++done % 500 === 0) say(`corpus ${done}/${calls.length}`);
        }
      };
      await Promise.all(Array.from({ length: INFLIGHT }, worker));
    }),
  );
  const recorded = readRecord(join(home.dir, 'corpus.jsonl'), 0).msgs;
  const seen = new Set<string>();
  for (const m of recorded) if (m.method === 'tools/call') seen.add(JSON.stringify(m.params));
  const byKind: Record<string, { calls: number; fp: number }> = {};
  const examples: { kind: string; name: string; reason: string }[] = [];
  let fp = 0;
  calls.forEach((call, k) => {
    const reply = replies[k];
    const b = (byKind[call.kind] ??= { calls: 0, fp: 0 });
    b.calls++;
    let reason = '';
    if (!isSuccess(reply)) reason = reply === undefined ? 'no reply' : `error ${reply.error?.code}: ${String(reply.error?.message ?? '').slice(0, 100)}`;
    else if (!seen.has(JSON.stringify({ name: call.name, arguments: call.arguments }))) reason = 'the upstream received a changed payload';
    else if (reply.result?.content?.[0]?.text !== JSON.stringify(call.arguments)) reason = 'the client received a changed result';
    if (reason) {
      fp++;
      b.fp++;
      if (examples.length < 15) examples.push({ kind: call.kind, name: call.name, reason });
    }
  });
  return { calls: calls.length, falsePositives: fp, rate: fp / calls.length, upper95: clopperPearsonUpper(fp, calls.length), byKind, examples, seconds: (Date.now() - t0) / 1000 };
}

// ---- scenarios ----------------------------------------------------------------------------

const NOT_AVAILABLE = /not available in this build|not supported|not implemented|unknown command/i;

async function runScenario(c: DetectionCase, main: BenchHome, clientFor: (p: string) => Promise<RpcClient>, scriptFile: string): Promise<Verdict> {
  const sc = c.scenario!;
  switch (sc.run) {
    case 'rate':
      return runRate(c, main);
    case 'auth-os-pass': {
      const cl = await clientFor('guarded');
      const r = await withTimeout(cl.request('tools/call', { name: 'echo', arguments: { hi: 'there' } }), 15_000);
      return isSuccess(r?.msg) ? { pass: true, reason: 'owner connected and called' } : { pass: false, reason: `owner call failed: ${JSON.stringify(r?.msg?.error)}` };
    }
    case 'auth-os-not-allowed':
      return authAttempt(c, { mode: 'os', os: { allowed_users: ['mcp-guard-bench-nobody'] } }, scriptFile, {});
    case 'auth-key':
      return authKey(c, scriptFile);
    case 'auth-oauth': {
      const tokens: Record<string, string> = {
        'none-alg': `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u({ sub: 'attacker', iss: 'http://127.0.0.1:9/', aud: 'mcp-guard', exp: Math.floor(Date.now() / 1000) + 3600, roles: ['admin'] })}.`,
        garbage: 'not-a-token',
        hs256: hs256({ sub: 'attacker', iss: 'http://127.0.0.1:9/', aud: 'mcp-guard', exp: Math.floor(Date.now() / 1000) + 3600, roles: ['admin'] }, 'secret'),
      };
      return authAttempt(c, { mode: 'oauth', oauth: { issuer: 'http://127.0.0.1:9/', audience: 'mcp-guard', jwks_uri: 'http://127.0.0.1:9/jwks' } }, scriptFile, { MCP_GUARD_TOKEN: tokens[String(sc.variant)]! });
    }
    case 'config':
    case 'config-locked':
      return runConfigCase(c, scriptFile);
  }
  return { pass: false, notRun: true, reason: `unknown scenario ${sc.run}` };
}

const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function hs256(payload: unknown, key: string): string {
  const h = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(payload)}`;
  return `${h}.${createHash('sha256').update(key + h).digest('base64url')}`;
}

/** A private daemon with the given auth section; the client must be refused before the upstream. */
async function authAttempt(c: DetectionCase, auth: Record<string, unknown>, scriptFile: string, env: Record<string, string>, params?: Record<string, unknown>): Promise<Verdict> {
  const h = new BenchHome('mga-');
  try {
    h.writeConfig(JSON.stringify({ servers: { s: server(h.dir, 's', {}, scriptFile) }, daemon: { home: h.home, log_level: 'warn', shutdown_timeout: 1 }, auth, audit: { enabled: false } }));
    const cl = h.bridge('s', { extraEnv: env });
    const init = await withTimeout(cl.initialize(), 20_000);
    let reply = init?.msg;
    if (init?.ok) reply = (await withTimeout(cl.request('tools/call', { name: 'echo', arguments: { x: 1, ...(params ?? {}) } }), 15_000))?.msg;
    const msg = `${reply?.error?.message ?? ''} ${cl.stderr} ${h.daemonLog().slice(-2000)}`;
    const rec = readRecord(join(h.dir, 's.jsonl'), 0).msgs;
    if (!isRefusal(reply) && NOT_AVAILABLE.test(msg)) return { pass: false, notRun: true, reason: `auth mode '${auth.mode}' is not available in this build` };
    if (isRefusal(reply) && NOT_AVAILABLE.test(msg) && /mode/.test(msg)) return { pass: false, notRun: true, reason: `auth mode '${auth.mode}' is not available in this build (${reply.error.message.slice(0, 80)})` };
    const secrets = [env.MCP_GUARD_API_KEY ?? '', env.MCP_GUARD_TOKEN ?? ''].filter(Boolean);
    if (c.kind === 'must-pass') {
      if (!isSuccess(reply)) return { pass: false, reason: `valid credentials refused: ${JSON.stringify(reply?.error ?? 'no reply')}` };
      if (contains(rec, secrets)) return { pass: false, reason: 'the credential reached the upstream' };
      return { pass: true, reason: 'accepted; the credential never reached the upstream' };
    }
    if (contains(rec, secrets)) return { pass: false, reason: 'the credential reached the upstream' };
    if (!isRefusal(reply)) return { pass: false, reason: `expected -32004, got ${reply?.error ? reply.error.code : 'success'}` };
    if (rec.some((m) => m.method === 'tools/call')) return { pass: false, reason: 'a call reached the upstream' };
    return { pass: true, reason: `refused with ${reply.error.code}` };
  } finally {
    await h.close();
  }
}

async function authKey(c: DetectionCase, scriptFile: string): Promise<Verdict> {
  const variant = String(c.scenario!.variant);
  const h = new BenchHome('mgk-');
  try {
    h.writeConfig(JSON.stringify({ servers: { s: server(h.dir, 's', {}, scriptFile) }, daemon: { home: h.home, log_level: 'warn' }, auth: { mode: 'api_key', roles: { dev: {} } }, audit: { enabled: false } }));
    const created = h.cli(['keys', 'create', '--name', 'bench', '--role', 'dev', '--config', h.configPath]);
    if (created.code !== 0) return { pass: false, notRun: true, reason: `api_key mode not available in this build (keys create: ${(created.stderr || created.stdout).trim().split('\n')[0]?.slice(0, 100)})` };
    const key = (created.stdout.match(/[A-Za-z0-9_\-.]{24,}/g) ?? []).sort((a, b) => b.length - a.length)[0];
    if (!key) return { pass: false, notRun: true, reason: 'could not find the key in `keys create` output' };
    await h.close(true);
    const env: Record<string, string> = {};
    let params: Record<string, unknown> | undefined;
    if (variant === 'valid') env.MCP_GUARD_API_KEY = key;
    if (variant === 'forged') env.MCP_GUARD_API_KEY = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    if (variant === 'params') params = { apiKey: key, _meta: { apiKey: key } };
    if (variant === 'revoked') {
      const rv = h.cli(['keys', 'revoke', 'bench', '--config', h.configPath]);
      if (rv.code !== 0) return { pass: false, notRun: true, reason: `keys revoke failed: ${(rv.stderr || rv.stdout).trim().slice(0, 100)}` };
      env.MCP_GUARD_API_KEY = key;
    }
    // Reuse the same home (keys live there) for the attempt.
    return await authAttemptIn(h, c, env, params, key);
  } finally {
    await h.close();
  }
}

async function authAttemptIn(h: BenchHome, c: DetectionCase, env: Record<string, string>, params: Record<string, unknown> | undefined, key: string): Promise<Verdict> {
  const cl = h.bridge('s', { extraEnv: env });
  const init = await withTimeout(cl.initialize(), 20_000);
  let reply = init?.msg;
  if (init?.ok) reply = (await withTimeout(cl.request('tools/call', { name: 'echo', arguments: { x: 1, ...(params ?? {}) } }), 15_000))?.msg;
  const rec = readRecord(join(h.dir, 's.jsonl'), 0).msgs;
  const msg = `${reply?.error?.message ?? ''} ${cl.stderr}`;
  if (NOT_AVAILABLE.test(msg)) return { pass: false, notRun: true, reason: 'api_key mode is not available in this build' };
  if (contains(rec, [key])) return { pass: false, reason: 'the API key reached the upstream' };
  if (c.kind === 'must-pass') return isSuccess(reply) ? { pass: true, reason: 'valid key accepted; never reached the upstream' } : { pass: false, reason: `valid key refused: ${JSON.stringify(reply?.error ?? 'no reply')}` };
  if (!isRefusal(reply)) return { pass: false, reason: `expected a refusal, got ${reply?.error ? reply.error.code : 'success'}` };
  return { pass: true, reason: `refused with ${reply.error.code}` };
}

async function runRate(c: DetectionCase, main: BenchHome): Promise<Verdict> {
  const sc = c.scenario as { run: string; sessions: number; perSession: number; limit: number };
  const clients: RpcClient[] = [];
  for (let s = 0; s < sc.sessions; s++) {
    const cl = main.bridge(`rl-${c.id}`);
    const r = await withTimeout(cl.initialize(), 20_000);
    if (!r?.ok) return { pass: false, reason: `session failed: ${JSON.stringify(r?.msg?.error ?? 'timeout')}` };
    clients.push(cl);
  }
  const all = await Promise.all(clients.flatMap((cl) => Array.from({ length: sc.perSession }, (_, k) => withTimeout(cl.request('tools/call', { name: 'echo', arguments: { k } }), 20_000))));
  let ok = 0, limited = 0, other = 0;
  for (const r of all) {
    if (isSuccess(r?.msg)) ok++;
    else if (r?.msg?.error?.code === -32003) limited++;
    else other++;
  }
  await Promise.all(clients.map((cl) => cl.close()));
  return scoreRate(c.kind, { sent: all.length, ok, limited, other, limit: sc.limit });
}

/**
 * A generated personal config (generated.ts `configVariants`): `extends` the base (with a wrong pin
 * for `__badPin`); a server entry is written out in full over the recording upstream, as a user
 * would copy it, with `__LEAK__` as the command of a server the personal config adds.
 */
function generatedPersonal(p: Record<string, any>, pin: { path: string; sha256: string }, full: (name: string, policy: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> {
  const { __badPin, servers, ...rest } = p;
  const out: Record<string, unknown> = { extends: { path: pin.path, sha256: __badPin ? pin.sha256.replace(/^./, (ch) => (ch === '0' ? '1' : '0')) : pin.sha256 }, ...rest };
  if (servers) {
    out.servers = Object.fromEntries(
      Object.entries(servers as Record<string, any>).map(([name, s]) => {
        const { policy, command, args, ...more } = s;
        const spec = full(name, policy ?? {});
        if (command !== undefined && command !== '__LEAK__') Object.assign(spec, { command, args });
        return [name, { ...spec, ...more }];
      }),
    );
  }
  return out;
}

/** Config override: a base with a floor, personal configs that try to relax it, driven end to end. */
async function runConfigCase(c: DetectionCase, scriptFile: string): Promise<Verdict> {
  const sc = c.scenario as {
    run: string; tool: string; server: string; leak?: string; sample?: boolean; relax?: string;
    /** Generated variants (generated.ts `configVariants`): the personal config, and what to probe. */
    personal?: Record<string, any>; args?: Record<string, unknown>; hammer?: number; limit?: number; redact?: boolean; configRefused?: boolean;
  };
  const h = new BenchHome('mgc-');
  try {
    const sharedPolicy = {
      permissions: { denied_tools: ['write_file', 'delete_*'] },
      argument_rules: [{ tool: 'read_file', path: 'path', glob: '/etc/**', action: 'deny', reason: 'system files' }],
      rate_limit: { requests_per_minute: 30 },
      sampling: { enabled: false },
    };
    const base = {
      servers: {
        shared: server(h.dir, 'shared', sharedPolicy, scriptFile),
        vault: { ...server(h.dir, 'vault', { permissions: { denied_tools: ['write_file'] } }, scriptFile), locked: true },
      },
      defaults: { permissions: { denied_tools: ['write_file'] } },
      pii: { enabled: true },
    };
    const basePath = join(h.dir, 'base.yaml');
    writeFileSync(basePath, JSON.stringify(base, null, 2));
    const sha256 = createHash('sha256').update(readFileSync(basePath)).digest('hex');
    // One relaxation per personal config, so that a refused field cannot hide another.
    const shared = (policy: Record<string, unknown>) => ({ shared: server(h.dir, 'shared', policy, scriptFile) });
    const relax: Record<string, Record<string, unknown>> = {
      'allow-all': { servers: shared({ permissions: { allowed_tools: ['*'], denied_tools: [] } }) },
      'pii-off': { pii: { enabled: false } },
      'pii-allow': { pii: { actions: { aws_access_key: { request: 'allow', response: 'allow' }, secret: { request: 'allow', response: 'allow' }, credit_card: { request: 'allow', response: 'allow' } } } },
      'sampling-on': { servers: shared({ sampling: { enabled: true } }) },
      'new-server': { servers: { mine: server(h.dir, 'mine', {}, scriptFile) } },
      none: { servers: shared({ permissions: { denied_tools: ['write_file', 'delete_*', 'exec_*'] } }) },
    };
    const personal: Record<string, unknown> =
      sc.run === 'config-locked'
        ? { extends: { path: basePath, sha256 }, servers: { vault: { ...server(h.dir, 'vault', { permissions: { allowed_tools: ['*'], denied_tools: [] } }, scriptFile), locked: false } } }
        : sc.personal
          ? generatedPersonal(sc.personal, { path: basePath, sha256 }, (name, policy) => server(h.dir, name, policy, scriptFile))
          : { extends: { path: basePath, sha256 }, ...(relax[String(sc.relax)] ?? {}) };
    personal.daemon = { home: h.home, log_level: 'warn', shutdown_timeout: 1 };
    h.writeConfig(JSON.stringify(personal, null, 2));
    // Is `extends` merged at all in this build? A personal config that only extends must show the base's servers.
    const probePath = join(h.dir, 'probe.yaml');
    writeFileSync(probePath, JSON.stringify({ extends: { path: basePath, sha256 } }));
    const { loadConfig } = await import('../../src/config/loader.js');
    try {
      const probe = await loadConfig(probePath);
      if (!probe.config.servers.shared) return { pass: false, notRun: true, reason: '`extends` is not merged by the config loader in this build' };
    } catch (err) {
      return { pass: false, notRun: true, reason: `the config loader refuses a plain extends: ${(err as Error).message.split('\n')[0]?.slice(0, 120)}` };
    }
    let refusedConfig: string | undefined;
    try {
      await loadConfig(h.configPath);
    } catch (err) {
      refusedConfig = (err as Error).message.split('\n')[0];
    }
    if (refusedConfig) {
      if (c.kind !== 'must-block') return { pass: false, reason: `config refused: ${refusedConfig.slice(0, 120)}` };
      // Refused because it relaxes the base, not because the variant itself is broken.
      if (sc.personal && !/personal config|locked|sha-?256|cannot/i.test(refusedConfig)) return { pass: false, reason: `config refused for another reason: ${refusedConfig.slice(0, 120)}` };
      return { pass: true, reason: `the relaxing config is refused: ${refusedConfig.slice(0, 120)}` };
    }
    if (sc.configRefused) return { pass: false, reason: 'the config was accepted' };
    const cl = h.bridge(sc.server, { keepAll: true, onServerRequest: (m) => (m.method === 'sampling/createMessage' ? { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' } : undefined) });
    const init = await withTimeout(cl.initialize({ sampling: {} }), 20_000);
    // A generated variant is stopped by the merged config or at load, never by a session that fails to start.
    if (!init?.ok) return c.kind === 'must-block' && !sc.personal ? { pass: true, reason: `session refused: ${JSON.stringify(init?.msg?.error)}` } : { pass: false, reason: `session refused: ${JSON.stringify(init?.msg?.error)}` };
    if (sc.hammer) {
      const all = await Promise.all(Array.from({ length: sc.hammer }, (_, k) => withTimeout(cl.request('tools/call', { name: 'echo', arguments: { k } }), 20_000)));
      let ok = 0, limited = 0, other = 0;
      for (const r of all) {
        if (isSuccess(r?.msg)) ok++;
        else if (r?.msg?.error?.code === -32003) limited++;
        else other++;
      }
      return scoreRate(c.kind, { sent: all.length, ok, limited, other, limit: sc.limit ?? 30 });
    }
    const args = sc.leak ? { note: `value ${sc.leak}` } : sc.sample ? { key: 'cfg-sample' } : (sc.args ?? { hello: 'world' });
    const r = (await withTimeout(cl.request('tools/call', { name: sc.tool, arguments: args }), 15_000))?.msg;
    const rec = readRecord(join(h.dir, `${sc.server}.jsonl`), 0).msgs;
    if (sc.redact && c.kind === 'must-redact') {
      if (contains(rec, [sc.leak!])) return { pass: false, reason: 'the planted value reached the upstream' };
      return isSuccess(r) ? { pass: true, reason: 'forwarded with the value redacted' } : { pass: false, reason: `expected the call redacted, got ${JSON.stringify(r?.error ?? 'no reply')}` };
    }
    if (c.kind === 'must-pass') return isSuccess(r) && !r.result?.isError ? { pass: true, reason: 'allowed call works' } : { pass: false, reason: `allowed call failed: ${JSON.stringify(r?.error ?? 'no reply')}` };
    if (sc.sample) {
      const sawSampling = cl.received.some((m) => m?.method === 'sampling/createMessage');
      const upstreamRefused = rec.some((m) => m.method === undefined && isRefusal(m));
      return !sawSampling && upstreamRefused ? { pass: true, reason: 'sampling stays disabled' } : { pass: false, reason: `sampling ${sawSampling ? 'reached the client' : 'was not refused to the upstream'}` };
    }
    if (sc.leak && contains(rec, [sc.leak])) return { pass: false, reason: 'the planted value reached the upstream' };
    if (!sc.leak && rec.some((m) => m.method === 'tools/call' && m.params?.name === sc.tool && JSON.stringify(m.params?.arguments) === JSON.stringify(args))) return { pass: false, reason: `${sc.tool} reached the upstream` };
    return isRefusal(r) ? { pass: true, reason: `refused with ${r.error.code}` } : { pass: false, reason: `expected a refusal, got ${r?.error ? r.error.code : 'success'}` };
  } finally {
    await h.close();
  }
}

export { S };
