// `mcp-guard logs` over what a real daemon recorded through the real bridge: each finding says which
// side of the exchange it was in (the row carries the request's direction), a blocked response
// tells the client and the audit log that it was withheld (not "remove it and try again"),
// `logs stats` counts a tool under the policy's normal form of its name, and a bad flag value is
// one line of error and one hint, not the whole help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, recordingServer, waitFor } from './harness.js';

const CARD = '4539 1488 0343 6467';

const config = `
servers:
${recordingServer('rec')}
${recordingServer('sampler', '    policy:\n      sampling: { enabled: true }')}
audit:
  flush_ms: 20
daemon:
  dashboard_port: 0
pii:
  actions:
    email: { request: warn, response: redact }
    credit_card: { request: allow, response: block }
  custom_types:
    # Matches a quoted ticket number: the echo tool's answer quotes the argument it was given, the
    # argument itself is unquoted, so this type is found only in the response.
    ticket: { patterns: [{ regex: '"TCK-[0-9]{6}"' }], actions: { request: block, response: redact } }
`;

function rows(env: GuardEnv, ...filters: string[]): any[] {
  const r = env.cli(['logs', '--json', '--limit', '100', ...filters]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l)) : [];
}

test('logs through a real daemon: finding sides, blocked responses, tool names in normal form, one-line usage errors', async (t) => {
  const env = new GuardEnv(() => config);
  t.after(() => env.close());
  const c = await env.client('rec');

  await t.test('a finding in the response says so, though the row is the request direction', async () => {
    const r = await c.callTool({ name: 'echo', arguments: { t: 'TCK-123456' } });
    assert.doesNotMatch(JSON.stringify(r.content), /TCK-123456/, 'the response was redacted');
    await c.callTool({ name: 'leak', arguments: { text: 'write to bob@example.com' } });
    await waitFor(() => rows(env, '--tool', 'leak').length === 1);
    const [echo] = rows(env, '--tool', 'echo');
    assert.equal(echo.direction, 'c2s');
    assert.equal(echo.decision, 'redact');
    assert.deepEqual(echo.findings.map((f: any) => [f.side, f.type, f.count]), [['response', 'ticket', 1]]);
    const [leak] = rows(env, '--tool', 'leak');
    assert.deepEqual(leak.findings.map((f: any) => [f.side, f.type]), [['request', 'email'], ['response', 'email']]);
    const table = env.cli(['logs', '--tool', 'leak']).stdout;
    assert.match(table, /request: email×1; response: email×1/);
    assert.match(env.cli(['logs', '--tool', 'echo']).stdout, /response: ticket×1/);
    assert.match(env.cli(['logs', '--tool', 'echo', '--csv']).stdout, /,response\/ticket:1,/);
  });

  await t.test('a blocked response is withheld, and nothing tells anyone to remove it and try again', async () => {
    const err = await c.callTool({ name: 'leak', arguments: { text: `card ${CARD}` } }).catch((e) => e);
    assert.equal(err.code, -32008);
    assert.equal(err.data.direction, 'response');
    assert.match(err.message, /the server's response contains sensitive data \(credit_card\), so it was withheld/);
    assert.doesNotMatch(err.message, /try again/i);
    await waitFor(() => rows(env, '--tool', 'leak', '--decision', 'block').length === 1);
    const [row] = rows(env, '--tool', 'leak', '--decision', 'block');
    assert.deepEqual(row.findings.map((f: any) => [f.side, f.type]), [['request', 'credit_card'], ['response', 'credit_card']]);
    assert.equal(row.reason, 'credit_card in the response: withheld');
    assert.doesNotMatch(JSON.stringify(row), /try again|remove it/i);

    // A client's answer to a server's sampling request is not a request either.
    const s = await env.client('sampler', { capabilities: { sampling: {} } });
    s.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant' as const, content: { type: 'text' as const, text: 'your ticket is "TCK-654321"' } }));
    const sampled = await s.callTool({ name: 'sample', arguments: { prompt: 'which ticket?' } });
    const answer = JSON.stringify(sampled.content);
    assert.match(answer, /-32008/);
    assert.match(answer, /the client's answer contains sensitive data \(ticket\), so it was withheld/);
    assert.doesNotMatch(answer, /TCK-654321|try again/i);
    await waitFor(() => rows(env, '--server', 'sampler', '--method', 'sampling/createMessage').length === 1);
    const [exchange] = rows(env, '--server', 'sampler', '--method', 'sampling/createMessage');
    assert.equal(exchange.direction, 's2c', "the row is the server's request");
    assert.equal(exchange.reason, "ticket in the client's answer: withheld");
    assert.deepEqual(exchange.findings.map((f: any) => [f.side, f.type]), [['response', 'ticket']]);
    assert.doesNotMatch(env.cli(['logs']).stdout, /try again|remove it/i);
  });

  await t.test('logs stats counts a tool under the normal form of its name', async () => {
    for (const name of ['Move_File', 'move_file', 'MOVE_FILE', 'ｍｏｖｅ_ｆｉｌｅ']) await c.callTool({ name, arguments: {} }).catch(() => {});
    await waitFor(() => rows(env, '--server', 'rec', '--method', 'tools/call').length >= 7);
    const r = env.cli(['logs', 'stats', '--json', '--server', 'rec']);
    assert.equal(r.code, 0, r.stderr);
    const byTool = JSON.parse(r.stdout).byTool;
    assert.equal(byTool.move_file, 4, JSON.stringify(byTool));
    assert.deepEqual(Object.keys(byTool).filter((k) => /move/i.test(k)), ['move_file']);
    assert.match(env.cli(['logs', 'stats', '--server', 'rec']).stdout, /by tool\n(.*\n)*\s+move_file\s+4\n/);
  });

  await t.test('a bad flag value is one line of error and one hint (exit 2), not the whole help', () => {
    const r = env.cli(['logs', '--decision', 'maybe']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      `error: option '--decision <d>' argument 'maybe' is invalid. invalid decision "maybe": expected one of allow, block, redact, warn, error`,
      '(see `mcp-guard logs --help`)',
    ]);
    const missing = env.cli(['keys', 'create']);
    assert.deepEqual(missing.stderr.trimEnd().split('\n'), [`error: required option '-n, --name <name>' not specified`, '(see `mcp-guard keys create --help`)']);
  });
});
