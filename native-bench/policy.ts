// Cost of the policy stage list (src/policy/stage.ts) per message, on the main thread.
// Each task runs a batch of messages so that the timer resolution does not dominate;
// figures are per message. Prints a table, writes bench/results/native-policy.json.
// Run: npx tsc -p . && node dist/native-bench/policy.js
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import type { Policy } from '../src/config/policy-schema.js';
import type { Identity } from '../src/protocol/identity.js';
import { RateLimiter } from '../src/policy/ratelimit.js';
import { policyStages } from '../src/policy/stage.js';
import type { MessageContext, Stage } from '../src/protocol/stage.js';
import type { JsonRpcMessage } from '../src/protocol/message.js';

const BATCH = 200;

const policy: Policy = {
  permissions: {
    allowed_tools: ['read_*', 'list_directory', 'search_files', 'write_file', 'get_file_info'],
    denied_tools: ['delete_*', 'move_file', '/^exec/i', 'write_secret'],
    allowed_resources: ['file:///home/me/projects/**'],
    denied_resources: ['file:///etc/**', '**/.env', '**/.ssh/**'],
  },
  argument_rules: [
    { tool: 'write_file', path: 'path', glob: '/etc/**', action: 'deny' },
    { tool: 'write_file', path: 'path', glob: '/home/me/projects/**', action: 'require' },
    { tool: 'search_files', path: 'pattern', max_length: 200, action: 'deny' },
  ],
  // High limits so that the hammering benchmark measures the bucket arithmetic, not refusals.
  rate_limit: { requests_per_minute: 1e9, requests_per_hour: 1e10, tool_limits: { search_files: { requests_per_minute: 1e9 } } },
};
const roles = { reader: { permissions: { denied_tools: ['write_*'] }, rate_limit: { requests_per_minute: 1e9 } } };

function makeCtx(identity: Identity, direction: 'c2s' | 's2c', kind: 'request' | 'response', method: string, msg: JsonRpcMessage): MessageContext {
  return {
    session: { id: 's', server: 'fs', identity },
    direction,
    kind,
    method,
    id: msg.id,
    line: Buffer.from(JSON.stringify(msg)),
    msg,
    now: 0,
    audit: { decision: 'allow' },
  };
}

function runStages(stages: Stage[], ctx: MessageContext): void {
  for (const s of stages) {
    const v = s.handle(ctx);
    if (v && 'block' in v) return;
  }
}

export async function run(): Promise<unknown> {
  const stages = policyStages({ server: 'fs', policy, roles, limiter: new RateLimiter() });
  // The same policy with approval rules, none of which holds the calls measured: what a rule
  // check costs a call that is not held (issue 19: within noise of no rule).
  const approval: Policy['approval'] = [
    { tool: 'write_file', path: 'path', glob: '/home/me/projects/**', action: 'require' },
    { tool: 'transfer', path: 'amount', max: 1000, action: 'deny' },
    { tool: 'delete_*', action: 'deny' },
    { tool: '/^deploy/i', action: 'deny' },
    { tool: 'send_email', path: 'to', regex: '@example\\.com$', action: 'require' },
  ];
  const withApproval = policyStages({ server: 'fs', policy: { ...policy, approval }, roles, limiter: new RateLimiter() });
  const empty = policyStages({ server: 'fs', policy: {}, roles: {}, limiter: new RateLimiter() });
  const plain: Identity = { id: 'uid:1000', name: 'me', kind: 'os', roles: [] };
  const reader: Identity = { id: 'key:ci', name: 'ci', kind: 'api_key', roles: ['reader'] };
  let clock = 0;

  const call = (name: string, args: unknown): JsonRpcMessage => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
  const cases: Array<{ name: string; stages: Stage[]; ctx: MessageContext }> = [
    { name: 'tools/call allowed, no policy', stages: empty, ctx: makeCtx(plain, 'c2s', 'request', 'tools/call', call('read_file', { path: '/home/me/projects/a.ts' })) },
    { name: 'tools/call allowed', stages, ctx: makeCtx(plain, 'c2s', 'request', 'tools/call', call('read_file', { path: '/home/me/projects/a.ts' })) },
    { name: 'tools/call allowed + 5 approval rules (none holds it)', stages: withApproval, ctx: makeCtx(plain, 'c2s', 'request', 'tools/call', call('read_file', { path: '/home/me/projects/a.ts' })) },
    { name: 'tools/call write_file + 2 arg rules', stages, ctx: makeCtx(plain, 'c2s', 'request', 'tools/call', call('write_file', { path: '/home/me/projects/src/a.ts', content: 'x'.repeat(500) })) },
    { name: 'tools/call write_file + 2 arg rules + its approval rule (not held)', stages: withApproval, ctx: makeCtx(plain, 'c2s', 'request', 'tools/call', call('write_file', { path: '/home/me/projects/src/a.ts', content: 'x'.repeat(500) })) },
    { name: 'tools/call denied (Write_Secret)', stages, ctx: makeCtx(plain, 'c2s', 'request', 'tools/call', call('Write_Secret', {})) },
    { name: 'tools/call with role', stages, ctx: makeCtx(reader, 'c2s', 'request', 'tools/call', call('read_file', { path: '/home/me/projects/a.ts' })) },
    { name: 'resources/read encoded URI', stages, ctx: makeCtx(plain, 'c2s', 'request', 'resources/read', { id: 2, method: 'resources/read', params: { uri: 'file:///home/me/projects/src/%2e%2e/lib/x.ts' } }) },
    {
      name: 'tools/list response, 50 tools',
      stages,
      ctx: makeCtx(plain, 's2c', 'response', 'tools/list', {
        id: 3,
        result: { tools: Array.from({ length: 50 }, (_, i) => ({ name: i % 5 === 0 ? `delete_${i}` : `read_${i}`, inputSchema: {} })) },
      }),
    },
  ];

  const bench = new Bench({ time: 500, warmup: true });
  for (const c of cases) {
    // Fresh copies, as if parsed from the wire: re2 caches the UTF-8 form of the last string it
    // saw, so reusing one message object would flatter the figures.
    const copies = Array.from({ length: BATCH }, () => ({ ...c.ctx, msg: JSON.parse(JSON.stringify(c.ctx.msg)) as JsonRpcMessage }));
    bench.add(c.name, () => {
      for (let i = 0; i < BATCH; i++) {
        const ctx = copies[i]!;
        ctx.now = clock++;
        ctx.audit = { decision: 'allow' };
        runStages(c.stages, ctx);
      }
    });
  }
  await bench.run();

  const rows = bench.tasks.map((t) => {
    const r = t.result as unknown as { latency?: { mean: number; p50: number; p99: number } };
    const l = r.latency!;
    return {
      case: t.name,
      'mean µs/msg': +((l.mean * 1000) / BATCH).toFixed(3),
      'p50 µs/msg': +((l.p50 * 1000) / BATCH).toFixed(3),
      'p99 µs/msg': +((l.p99 * 1000) / BATCH).toFixed(3),
      'msgs/s': Math.round(BATCH / (l.mean / 1000)),
    };
  });
  console.table(rows);
  const out = { bench: 'native-policy', node: process.version, batch: BATCH, date: new Date().toISOString(), rows };
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(dir + 'native-policy.json', JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${dir}native-policy.json`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();
