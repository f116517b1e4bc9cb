// Cost of tool-definition pinning (src/daemon/pinning.ts) on the main thread: a tools/list
// response of 100 tools through the policy stages with and without the pinning stage (steady
// state: every definition pinned, so nothing is written), the canonical form and hash alone, and
// a tools/call. Pins live in a real state.db in a temp dir. Each task runs a batch of messages;
// figures are per message. Prints a table, writes bench/results/native-pinning.json.
// Run: npx tsc -p . && node dist/native-bench/pinning.js
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { PinStore } from '../src/daemon/pins.js';
import { Pinning } from '../src/daemon/pinning.js';
import { RateLimiter } from '../src/policy/ratelimit.js';
import { policyStages } from '../src/policy/stage.js';
import { canonicalJson, definitionOf, sha256Hex } from '../src/policy/pinning.js';
import { findHiddenText } from '../src/detect/hidden.js';
import type { Identity } from '../src/protocol/identity.js';
import type { Logger } from '../src/protocol/log.js';
import type { JsonRpcMessage } from '../src/protocol/message.js';
import type { MessageContext, SessionInfo, Stage } from '../src/protocol/stage.js';

const TOOLS = 100;
const BATCH = 20;
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as unknown as Logger;

/** A tool definition of a realistic size (~600 bytes): a description and a schema of three properties. */
function tool(i: number): Record<string, unknown> {
  return {
    name: `tool_${i}`,
    title: `Tool ${i}`,
    description: `Does step ${i} of the job: reads its input, checks it against the project's rules and returns what it found. Use it after tool_${i - 1} and before tool_${i + 1}.`,
    inputSchema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'the file or directory to work on, relative to the project root' },
        depth: { type: 'integer', minimum: 0, maximum: 10, description: 'how many levels to descend' },
        mode: { type: 'string', enum: ['fast', 'thorough', 'dry-run'] },
      },
      required: ['path'],
    },
    annotations: { readOnlyHint: i % 2 === 0 },
  };
}

function runStages(stages: readonly Stage[], ctx: MessageContext): void {
  for (const s of stages) {
    const v = s.handle(ctx);
    if (v && 'block' in v) return;
    if (v && 'replace' in v) ctx.msg = v.replace;
  }
}

export async function run(): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-pins-'));
  const store = PinStore.open(dir);
  try {
    const pinning = new Pinning(store, quiet);
    const stage = pinning.stage('fs', { mode: 'tofu' })!;
    const policy = policyStages({ server: 'fs', policy: {}, roles: {}, limiter: new RateLimiter() });
    const at = policy.findIndex((s) => s.name === 'capabilities');
    const withPinning = [...policy.slice(0, at), stage, ...policy.slice(at)];
    const identity: Identity = { id: 'uid:1000', name: 'me', kind: 'os', roles: [] };
    const session: SessionInfo = { id: 's', server: 'fs', identity };
    const list: JsonRpcMessage = { jsonrpc: '2.0', id: 3, result: { tools: Array.from({ length: TOOLS }, (_, i) => tool(i)) } };
    const bytes = Buffer.byteLength(JSON.stringify(list));
    const ctxOf = (msg: JsonRpcMessage, direction: 'c2s' | 's2c', kind: 'request' | 'response', method: string): MessageContext => ({
      session,
      direction,
      kind,
      method,
      id: msg.id,
      line: Buffer.from(JSON.stringify(msg)),
      msg,
      now: 0,
      requestParams: {},
      audit: { decision: 'allow' },
    });
    // The first listing pins every definition; the benchmark then measures the steady state.
    runStages(withPinning, ctxOf(structuredClone(list), 's2c', 'response', 'tools/list'));
    if (store.items('fs').length !== TOOLS) throw new Error('the first listing did not pin every tool');

    const call: JsonRpcMessage = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'tool_7', arguments: { path: 'src' } } };
    const cases: Array<{ name: string; stages: readonly Stage[]; msg: JsonRpcMessage; direction: 'c2s' | 's2c'; kind: 'request' | 'response'; method: string }> = [
      { name: `tools/list ${TOOLS} tools, policy stages only`, stages: policy, msg: list, direction: 's2c', kind: 'response', method: 'tools/list' },
      { name: `tools/list ${TOOLS} tools, policy + pinning`, stages: withPinning, msg: list, direction: 's2c', kind: 'response', method: 'tools/list' },
      { name: `tools/list ${TOOLS} tools, pinning stage alone`, stages: [stage], msg: list, direction: 's2c', kind: 'response', method: 'tools/list' },
      { name: 'tools/call, policy stages only', stages: policy, msg: call, direction: 'c2s', kind: 'request', method: 'tools/call' },
      { name: 'tools/call, policy + pinning', stages: withPinning, msg: call, direction: 'c2s', kind: 'request', method: 'tools/call' },
    ];

    const bench = new Bench({ time: 1000, warmup: true });
    for (const c of cases) {
      // Fresh copies, as if parsed from the wire.
      const copies = Array.from({ length: BATCH }, () => ctxOf(structuredClone(c.msg), c.direction, c.kind, c.method));
      bench.add(c.name, () => {
        for (let i = 0; i < BATCH; i++) {
          const ctx = copies[i]!;
          ctx.audit = { decision: 'allow' };
          runStages(c.stages, ctx);
        }
      });
    }
    const defs = (list.result.tools as Record<string, unknown>[]).map((t) => definitionOf('tool', t));
    bench.add(`canonical JSON + SHA-256 of ${TOOLS} definitions`, () => {
      for (let i = 0; i < BATCH; i++) for (const d of defs) sha256Hex(canonicalJson(d));
    });
    // A yardstick from the same run: what parsing the response line costs (the session does it anyway).
    const line = JSON.stringify(list);
    bench.add(`JSON.parse of the tools/list line (${bytes} bytes)`, () => {
      for (let i = 0; i < BATCH; i++) JSON.parse(line);
    });
    bench.add(`hidden-text check of ${TOOLS} definitions`, () => {
      for (let i = 0; i < BATCH; i++) for (const d of defs) findHiddenText(d);
    });
    await bench.run();

    const rows = bench.tasks.map((t) => {
      const r = t.result as unknown as { latency?: { mean: number; p50: number; p99: number } };
      const l = r.latency!;
      return {
        case: t.name,
        'mean µs/msg': +((l.mean * 1000) / BATCH).toFixed(2),
        'p50 µs/msg': +((l.p50 * 1000) / BATCH).toFixed(2),
        'p99 µs/msg': +((l.p99 * 1000) / BATCH).toFixed(2),
        'msgs/s': Math.round(BATCH / (l.mean / 1000)),
      };
    });
    console.table(rows);
    const p50 = (name: string) => rows.find((r) => r.case === name)!['p50 µs/msg'];
    const listCost = +(p50(`tools/list ${TOOLS} tools, policy + pinning`) - p50(`tools/list ${TOOLS} tools, policy stages only`)).toFixed(2);
    const callCost = +(p50('tools/call, policy + pinning') - p50('tools/call, policy stages only')).toFixed(2);
    const parse = p50(`JSON.parse of the tools/list line (${bytes} bytes)`);
    console.log(`pinning adds ${listCost} µs (p50) to a tools/list of ${TOOLS} tools (${bytes} bytes; ${(listCost / parse).toFixed(1)}× its JSON.parse), ${callCost} µs to a tools/call`);
    const out = { bench: 'native-pinning', node: process.version, tools: TOOLS, listBytes: bytes, batch: BATCH, date: new Date().toISOString(), rows, pinningCostP50Us: { toolsList: listCost, toolsCall: callCost, listParse: parse } };
    const outDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
    mkdirSync(outDir, { recursive: true });
    writeFileSync(outDir + 'native-pinning.json', JSON.stringify(out, null, 2) + '\n');
    console.log(`wrote ${outDir}native-pinning.json`);
    return out;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();
