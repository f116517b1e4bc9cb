// A revoked API key ends what a live session may do, not only future connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { GuardEnv, recordingServer, waitFor } from './harness.js';

test('revoking a key refuses the next request of a session already open with it', async () => {
  const env = new GuardEnv(
    () => `
servers:
${recordingServer('rec')}
auth:
  mode: api_key
  roles: { agent: {} }
`,
  );
  try {
    const made = env.cli(['keys', 'create', '--name', 'fleet-1', '--role', 'agent']);
    assert.equal(made.code, 0, made.stderr);
    const key = made.stdout.match(/mcpg_[A-Za-z0-9_-]+/)![0];
    const c = await env.client('rec', { env: { MCP_GUARD_API_KEY: key } });
    assert.deepEqual((await c.callTool({ name: 'echo', arguments: { n: 1 } })).content, [{ type: 'text', text: '{"n":1}' }]);
    assert.equal(env.cli(['keys', 'revoke', 'fleet-1']).code, 0);
    let last: unknown;
    await waitFor(() => {
      void c.callTool({ name: 'echo', arguments: {} }).then(
        () => (last = 'ok'),
        (e) => (last = e),
      );
      return last instanceof McpError && last.code === -32010;
    }, 10_000);
    assert.match((last as McpError).message, /revoked/);
    assert.equal(env.recorded().filter((m) => m.method === 'tools/call').length >= 1, true);
  } finally {
    await env.close();
  }
});
