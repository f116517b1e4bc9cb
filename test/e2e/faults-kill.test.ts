// Issue #16 item 7: the audit of the last moments. By default (audit.durability: buffered) a call
// answered in the last flush_ms before a SIGKILL may have no row. With `acknowledged` an answer
// leaves only once its row is committed: after three kills under load, every call the client saw
// answered has its row, and `logs verify` passes each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GuardEnv, RawBridge, recordingServer, waitFor } from './harness.js';

const CALLS = 20_000;

test('durability acknowledged: SIGKILL under load, three times: no answered call without its row', async () => {
  const env = new GuardEnv(
    () => `
servers:
${recordingServer('rec')}
daemon: { dashboard_port: 0 }
audit: { durability: acknowledged }
`,
  );
  try {
    let total = 0;
    for (let round = 0; round < 3; round++) {
      const b = new RawBridge(env, 'rec');
      await b.initialize();
      for (let i = 0; i < CALLS; i++) b.send({ jsonrpc: '2.0', id: `r${round}-${i}`, method: 'tools/call', params: { name: 'echo', arguments: { i } } });
      await waitFor(() => b.lines.length > 3000, 60_000);
      assert.ok(b.lines.length < CALLS, 'still under load when killed');
      process.kill(env.daemonPid()!, 'SIGKILL');
      await b.exited;
      const answered = b.lines.filter((l) => typeof l.id === 'string' && l.id.startsWith(`r${round}-`) && l.result).map((l) => l.id as string);
      assert.ok(answered.length > 3000);
      const v = env.cli(['logs', 'verify', '--json']);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const db = new Database(join(env.home, 'audit.db'), { readonly: true, fileMustExist: true });
      const rows = new Set(db.prepare("SELECT request_id FROM audit WHERE method = 'tools/call' AND decision = 'allow'").pluck().all() as string[]);
      db.close();
      const missing = answered.filter((id) => !rows.has(id));
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${answered.length} answered calls have no row (round ${round + 1})`);
      total += answered.length;
    }
    process.stdout.write(`# durability acknowledged: ${total} answered calls over three kills, all with their row\n`);
  } finally {
    await env.close();
  }
});
