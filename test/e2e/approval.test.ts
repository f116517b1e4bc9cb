// Per-call human approval as a user meets it: calls an approval rule holds, decided from another
// "terminal" with `mcp-guard approvals list | approve | deny`, or left to time out, with a
// recording upstream showing what was forwarded. Through the real bridge (SDK v1, 2025) and with
// SDK v2 clients in the 2026 era, over the bridge and the HTTP front; a restart and a revoked key
// while a call is held; two held calls at once; an approval that tries to cover another call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { GuardEnv, eraServer, recordingServer } from './harness.js';
import { HttpGuard } from '../fixtures/http/env.js';

const V = '2026-07-28';

const POLICY = (timeout = 60, extra = '') => `    policy:
      approval:
        - tool: write_file
          reason: writes need a person
        - { tool: echo, path: amount, max: 1000, reason: large amounts }
      approval_timeout_s: ${timeout}
${extra}`;

type Held = { id: string; server: string; tool: string; user: string; identity: string; arguments: string; binding: string; rule: string; reason: string; round: number; expiresInS: number };

async function held(env: GuardEnv): Promise<Held[]> {
  const r = await env.cliAsync(['approvals', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Held[];
}

async function waitHeld(env: GuardEnv, n: number): Promise<Held[]> {
  let items: Held[] = [];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    items = await held(env);
    if (items.length >= n) return items;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${n} held calls, saw ${items.length}`);
}

/** The audit rows, once `ready` holds for them (the writer commits in batches). */
async function auditRows(env: GuardEnv, ready: (rows: Array<Record<string, any>>) => boolean): Promise<Array<Record<string, any>>> {
  let rows: Array<Record<string, any>> = [];
  const deadline = Date.now() + 10_000;
  do {
    const r = await env.cliAsync(['logs', '--json', '--limit', '200']);
    rows = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (ready(rows)) return rows;
    await new Promise((res) => setTimeout(res, 100));
  } while (Date.now() < deadline);
  return rows;
}

const forwarded = (env: GuardEnv, tool: string) => env.recorded().filter((m) => m.method === 'tools/call' && m.params?.name === tool);
const settle = <T>(p: Promise<T>) => p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));
const text = (r: any) => r.content?.[0]?.text;

test('2025 through the bridge: a held call waits for approve, other calls go on, deny tells the reason, --hash binds, the audit records who decided', async () => {
  const env = new GuardEnv(() => `servers:\n${recordingServer('rec', POLICY())}`);
  try {
    const client = await env.client('rec');
    // A call no rule holds passes at once; so does one under the limit of a conditional rule.
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { amount: 5 } })), '{"amount":5}');

    const write = settle(client.callTool({ name: 'write_file', arguments: { path: '/srv/a.txt', note: 'mail alice.smith@example.com' } }));
    const [h] = await waitHeld(env, 1);
    assert.equal(h!.tool, 'write_file');
    assert.equal(h!.server, 'rec');
    assert.match(h!.reason, /writes need a person/);
    assert.match(h!.arguments, /\/srv\/a\.txt/);
    assert.doesNotMatch(h!.arguments, /alice\.smith@example\.com/, 'the approver sees arguments with PII redacted');
    assert.equal(forwarded(env, 'write_file').length, 0, 'a held call is not forwarded');

    // The session goes on while the call is held.
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { amount: 7 } })), '{"amount":7}');

    // The human-readable list shows it too.
    const shown = await env.cliAsync(['approvals', 'list']);
    assert.match(shown.stdout, new RegExp(`${h!.id}\\s+rec/write_file`));

    // An approval bound to other arguments decides nothing.
    const wrong = await env.cliAsync(['approvals', 'approve', h!.id, '--hash', 'deadbeefdeadbeef']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not the ones you read; nothing was decided/);
    assert.equal((await held(env)).length, 1);
    assert.equal(forwarded(env, 'write_file').length, 0);

    const ok = await env.cliAsync(['approvals', 'approve', h!.id, '--hash', h!.binding.slice(0, 12), '--reason', 'ticket 42']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /approved .*rec\/write_file \(decided by uid:\d+/);
    const w = await write;
    assert.ok(w.ok, String(!w.ok && w.e));
    assert.equal(text(w.v), 'written');
    assert.equal(forwarded(env, 'write_file').length, 1, 'approved: forwarded once');
    // The id is spent: deciding it again does nothing.
    const again = await env.cliAsync(['approvals', 'approve', h!.id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no held call/);

    // Deny: the client hears the reason, the upstream never sees the call.
    const big = settle(client.callTool({ name: 'echo', arguments: { amount: 5000 } }));
    const [b] = await waitHeld(env, 1);
    assert.match(b!.reason, /large amounts/);
    const no = await env.cliAsync(['approvals', 'deny', b!.id, '--reason', 'over the daily limit']);
    assert.equal(no.code, 0, no.stderr);
    const d = await big;
    assert.ok(!d.ok);
    assert.ok(d.e instanceof McpError);
    assert.equal(d.e.code, -32013);
    assert.match(d.e.message, /over the daily limit/);
    assert.equal(forwarded(env, 'echo').filter((m) => m.params.arguments.amount === 5000).length, 0);

    // The audit log: held, approved by whom, denied by whom; and the chain verifies.
    const rows = await auditRows(env, (rs) => rs.filter((r) => r.stage === 'approval').length >= 4);
    const approval = rows.filter((r) => r.stage === 'approval').map((r) => `${r.decision} ${r.reason}`);
    assert.ok(approval.some((r) => r.startsWith(`warn held for approval ${h!.id}`)), approval.join('\n'));
    assert.ok(approval.some((r) => new RegExp(`^allow approval ${h!.id} approved by uid:\\d+.*: ticket 42`).test(r)), approval.join('\n'));
    assert.ok(approval.some((r) => new RegExp(`^block approval ${b!.id} denied by uid:\\d+.*: over the daily limit`).test(r)), approval.join('\n'));
    assert.ok(!JSON.stringify(rows).includes('alice.smith@example.com'), 'no raw PII in audit rows');
    const verify = env.cli(['logs', 'verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    await env.close();
  }
});

test('two held calls at once are decided each on its own; an undecided call expires and is refused; a cancelled one leaves the list', async () => {
  const env = new GuardEnv(() => `servers:\n${recordingServer('rec', POLICY(3))}`);
  try {
    const client = await env.client('rec');
    const a = settle(client.callTool({ name: 'write_file', arguments: { path: 'a' } }));
    const b = settle(client.callTool({ name: 'write_file', arguments: { path: 'b' } }));
    const items = await waitHeld(env, 2);
    const byPath = (p: string) => items.find((i) => i.arguments.includes(`"${p}"`))!;
    assert.notEqual(byPath('a').binding, byPath('b').binding, 'each approval is bound to its own arguments');
    // b's binding does not decide a.
    const cross = await env.cliAsync(['approvals', 'approve', byPath('a').id, '--hash', byPath('b').binding]);
    assert.equal(cross.code, 1);
    assert.equal((await env.cliAsync(['approvals', 'approve', byPath('b').id])).code, 0);
    const rb = await b;
    assert.ok(rb.ok);
    assert.deepEqual(forwarded(env, 'write_file').map((m) => m.params.arguments.path), ['b']);
    // a is left alone: after approval_timeout_s (3 s here) it is refused, never forwarded.
    const ra = await a;
    assert.ok(!ra.ok);
    assert.ok(ra.e instanceof McpError);
    assert.equal(ra.e.code, -32014);
    assert.match(ra.e.message, /no decision within 3 s/);
    assert.deepEqual(await held(env), []);
    assert.deepEqual(forwarded(env, 'write_file').map((m) => m.params.arguments.path), ['b']);

    // A client that gives up (notifications/cancelled) takes its call off the list.
    const ctl = new AbortController();
    const c = settle(client.callTool({ name: 'write_file', arguments: { path: 'c' } }, undefined, { signal: ctl.signal }));
    await waitHeld(env, 1);
    ctl.abort();
    assert.ok(!(await c).ok);
    const deadline = Date.now() + 5000;
    while ((await held(env)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await held(env), []);
    assert.equal(forwarded(env, 'write_file').length, 1);
  } finally {
    await env.close();
  }
});

test('a held call sends progress, so a client that extends its timeout on progress waits for the person', async () => {
  const env = new GuardEnv(() => `servers:\n${recordingServer('rec', POLICY())}`);
  try {
    const client = await env.client('rec');
    const progress: number[] = [];
    // Without progress this call would time out after 6 s; the approval comes at about 7 s.
    const call = settle(client.callTool({ name: 'write_file', arguments: { path: 'p' } }, undefined, { timeout: 6000, resetTimeoutOnProgress: true, onprogress: (p) => void progress.push(p.progress) }));
    const [h] = await waitHeld(env, 1);
    await new Promise((r) => setTimeout(r, 7000));
    assert.equal((await env.cliAsync(['approvals', 'approve', h!.id])).code, 0);
    const r = await call;
    assert.ok(r.ok, String(!r.ok && r.e));
    assert.ok(progress.length >= 2, `progress while held: ${progress.join(',')}`);
    assert.deepEqual(progress, [...progress].sort((x, y) => x - y), 'progress increases');
  } finally {
    await env.close();
  }
});

test('a daemon that stops while a call is held refuses it; the call is never forwarded, before or after the restart', async () => {
  const env = new GuardEnv(() => `servers:\n${recordingServer('rec', POLICY())}`);
  try {
    const client = await env.client('rec');
    const call = settle(client.callTool({ name: 'write_file', arguments: { path: 'r' } }));
    const [h] = await waitHeld(env, 1);
    assert.equal(env.cli(['stop']).code, 0);
    const r = await call;
    assert.ok(!r.ok, 'refused, not forwarded');
    assert.ok(r.e instanceof McpError);
    assert.ok([-32014, -32011].includes(r.e.code), `code ${r.e.code}: ${r.e.message}`);
    // A new daemon holds nothing, and approving the old id does nothing.
    const fresh = await env.client('rec');
    assert.equal(text(await fresh.callTool({ name: 'echo', arguments: { amount: 1 } })), '{"amount":1}');
    assert.deepEqual(await held(env), []);
    assert.equal((await env.cliAsync(['approvals', 'approve', h!.id])).code, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(forwarded(env, 'write_file').length, 0);
  } finally {
    await env.close();
  }
});

test('a key revoked while its call is held: the call is refused as unauthenticated and cannot be approved', async () => {
  const env = new GuardEnv(() => `servers:\n${recordingServer('rec', POLICY())}\nauth:\n  mode: api_key\n  roles: { agent: {} }\n`);
  try {
    const made = env.cli(['keys', 'create', '--name', 'fleet-1', '--role', 'agent']);
    assert.equal(made.code, 0, made.stderr);
    const key = made.stdout.match(/mcpg_[A-Za-z0-9_-]+/)![0];
    const client = await env.client('rec', { env: { MCP_GUARD_API_KEY: key } });
    const call = settle(client.callTool({ name: 'write_file', arguments: { path: 'k' } }));
    const [h] = await waitHeld(env, 1);
    assert.equal(h!.identity, 'key:fleet-1');
    assert.equal(env.cli(['keys', 'revoke', 'fleet-1']).code, 0);
    const r = await call;
    assert.ok(!r.ok);
    assert.ok(r.e instanceof McpError);
    assert.equal(r.e.code, -32010);
    assert.deepEqual(await held(env), []);
    assert.equal((await env.cliAsync(['approvals', 'approve', h!.id])).code, 1);
    assert.equal(forwarded(env, 'write_file').length, 0);
  } finally {
    await env.close();
  }
});

test('roles add approval rules, never remove them', async () => {
  const env = new GuardEnv(
    () => `servers:\n${recordingServer('rec', POLICY())}\nauth:\n  mode: api_key\n  roles:\n    intern: { approval: [{ tool: echo }] }\n    admin: { permissions: { allowed_tools: ['*'] } }\n`,
  );
  try {
    const keyOf = (name: string, role: string) => env.cli(['keys', 'create', '--name', name, '--role', role]).stdout.match(/mcpg_[A-Za-z0-9_-]+/)![0];
    const intern = await env.client('rec', { env: { MCP_GUARD_API_KEY: keyOf('i', 'intern') } });
    const admin = await env.client('rec', { env: { MCP_GUARD_API_KEY: keyOf('a', 'admin') } });
    // The admin's role says nothing about approval: the server's rules still hold its writes.
    const w = settle(admin.callTool({ name: 'write_file', arguments: { path: 'x' } }));
    // The intern's role adds a rule: even a small echo is held.
    const e = settle(intern.callTool({ name: 'echo', arguments: { amount: 1 } }));
    const items = await waitHeld(env, 2);
    assert.deepEqual(items.map((i) => `${i.identity} ${i.tool}`).sort(), ['key:a write_file', 'key:i echo']);
    assert.equal(text(await admin.callTool({ name: 'echo', arguments: { amount: 1 } })), '{"amount":1}');
    for (const i of items) assert.equal((await env.cliAsync(['approvals', 'deny', i.id])).code, 0);
    assert.ok(!(await w).ok);
    assert.ok(!(await e).ok);
  } finally {
    await env.close();
  }
});

test('2026 era through the bridge: a held call is approved once for all its rounds; a round with other arguments would be held again', async () => {
  const env = new GuardEnv(
    () => `servers:\n${eraServer('era', `    policy:\n      sampling: { enabled: true }\n      approval:\n        - { tool: sample }\n        - { tool: write_file }\n      approval_timeout_s: 60\n`)}`,
  );
  try {
    let sampled = 0;
    const client = await env.clientV2('era', {
      mode: { pin: V },
      sampling: async () => {
        sampled++;
        return { role: 'assistant', content: { type: 'text', text: 'model says hi' }, model: 'test' };
      },
    });
    const w = settle(client.callTool({ name: 'write_file', arguments: { path: 'w' } }));
    const [h] = await waitHeld(env, 1);
    assert.equal(forwarded(env, 'write_file').length, 0);
    assert.equal((await env.cliAsync(['approvals', 'approve', h!.id])).code, 0);
    const rw = await w;
    assert.ok(rw.ok, String(!rw.ok && rw.e));
    assert.equal(forwarded(env, 'write_file').length, 1);

    // sample takes two rounds (input_required, then the retry with the model's answer): one approval.
    const s = settle(client.callTool({ name: 'sample', arguments: { prompt: 'hi' } }));
    const [hs] = await waitHeld(env, 1);
    assert.equal(hs!.round, 1);
    assert.equal((await env.cliAsync(['approvals', 'approve', hs!.id])).code, 0);
    const rs = await s;
    assert.ok(rs.ok, String(!rs.ok && rs.e));
    assert.match(text(rs.v), /sampled: .*model says hi/);
    assert.equal(sampled, 1);
    assert.equal(forwarded(env, 'sample').length, 2, 'both rounds reached the server');
    assert.deepEqual(await held(env), [], 'the retried round was not held again');
    const rows = await auditRows(env, (rs) => rs.filter((r) => r.stage === 'approval' && r.target === 'sample').length >= 3);
    const approvals = rows.filter((r) => r.stage === 'approval' && r.target === 'sample').map((r) => r.reason as string);
    assert.equal(approvals.filter((r) => r.startsWith('held')).length, 1, approvals.join('\n'));
    assert.ok(approvals.some((r) => r.includes('of an earlier round of this call')), approvals.join('\n'));
  } finally {
    await env.close();
  }
});

test('over the HTTP front, in both eras: held, approved, denied; the stream stays open while held', async () => {
  const env = new GuardEnv(
    () => `servers:\n${eraServer('era', POLICY())}\ndaemon:\n  http:\n    listen: 127.0.0.1:0\n`,
  );
  const g = new HttpGuard(env);
  try {
    await g.start();
    // 2026: a stateless POST per request.
    const modern = new ClientV2({ name: 'v2', version: '2.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: V } } });
    await modern.connect(new HttpV2(g.endpoint('era'), { requestInit: { headers: { Authorization: `Bearer ${g.token}` } } }));
    const m = settle(modern.callTool({ name: 'write_file', arguments: { path: 'http-2026' } }));
    const [h1] = await waitHeld(env, 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(forwarded(env, 'write_file').length, 0);
    assert.equal((await env.cliAsync(['approvals', 'approve', h1!.id])).code, 0);
    const rm = await m;
    assert.ok(rm.ok, String(!rm.ok && rm.e));
    assert.equal(text(rm.v), 'written');

    // 2025: a session of its own.
    const { client: old } = await g.client('era');
    const o = settle(old.callTool({ name: 'echo', arguments: { amount: 99999 } }));
    const [h2] = await waitHeld(env, 1);
    assert.equal((await env.cliAsync(['approvals', 'deny', h2!.id, '--reason', 'no'])).code, 0);
    const ro = await o;
    assert.ok(!ro.ok);
    assert.equal((ro.e as McpError).code, -32013);
    assert.equal(forwarded(env, 'write_file').length, 1);
    assert.equal(forwarded(env, 'echo').length, 0);
    await modern.close();
  } finally {
    await g.stop();
    await env.close();
  }
});

test('approval.via: client asks the person at the client (2025, elicitation); a client that cannot be asked, or a 2026 one, waits for the CLI', async () => {
  const policy = `    policy:\n      approval:\n        - { tool: write_file, via: client, reason: confirm writes }\n      approval_timeout_s: 60\n`;
  const env = new GuardEnv(() => `servers:\n${recordingServer('rec', policy)}${eraServer('era', policy)}`);
  try {
    const asked: string[] = [];
    let answer = true;
    const client = await env.client('rec', { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { approve: answer } };
    });
    const yes = await client.callTool({ name: 'write_file', arguments: { path: 'yes' } });
    assert.equal(text(yes), 'written');
    assert.equal(asked.length, 1);
    assert.match(asked[0]!, /write_file.*confirm writes.*"path":"yes"/);
    answer = false;
    const no = await settle(client.callTool({ name: 'write_file', arguments: { path: 'no' } }));
    assert.ok(!no.ok);
    assert.equal((no.e as McpError).code, -32013);
    assert.match((no.e as McpError).message, /declined at the client/);
    assert.deepEqual(forwarded(env, 'write_file').map((m) => m.params.arguments.path), ['yes']);
    // The elicitation was mcp-guard's own: it never reached the upstream.
    assert.equal(env.recorded().filter((m) => m.result?.action !== undefined).length, 0);

    // A client that did not declare elicitation cannot be asked: a person at the CLI decides.
    const plain = await env.client('rec');
    const p = settle(plain.callTool({ name: 'write_file', arguments: { path: 'plain' } }));
    const [h] = await waitHeld(env, 1);
    assert.equal((await env.cliAsync(['approvals', 'approve', h!.id])).code, 0);
    assert.ok((await p).ok);

    // In the 2026 era the call waits for the CLI as well.
    const modern = await env.clientV2('era', { mode: { pin: V }, elicitation: async () => ({ action: 'accept', content: { approve: true } }) });
    const m = settle(modern.callTool({ name: 'write_file', arguments: { path: 'modern' } }));
    const [h2] = await waitHeld(env, 1);
    assert.equal((await env.cliAsync(['approvals', 'deny', h2!.id])).code, 0);
    assert.ok(!(await m).ok);
    const rows = await auditRows(env, (rs) => rs.some((r) => r.reason?.includes('by the person at the client')));
    assert.ok(rows.some((r) => r.stage === 'approval' && /approved by the person at the client \(elicitation\)/.test(r.reason ?? '')));
  } finally {
    await env.close();
  }
});
