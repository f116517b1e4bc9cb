// `mcp-guard init` reads real client config files (in a fake HOME) and writes a config that
// validates and proxies the servers it found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { GuardEnv, MAIN, NODE, RECORDING } from './harness.js';

test('init gathers servers from Claude Desktop, Cursor and VS Code configs into a working config', async () => {
  const env = new GuardEnv(() => '');
  try {
    const home = join(env.dir, 'fakehome');
    const project = join(env.dir, 'project');
    mkdirSync(join(home, '.config/Claude'), { recursive: true });
    mkdirSync(join(home, '.cursor'), { recursive: true });
    mkdirSync(join(project, '.vscode'), { recursive: true });
    writeFileSync(
      join(home, '.config/Claude/claude_desktop_config.json'),
      JSON.stringify({ mcpServers: { rec: { command: NODE, args: [RECORDING], env: { TOKEN: 'x' } }, guarded: { command: 'mcp-guard', args: ['connect', '--server', 'rec'] } } }),
    );
    writeFileSync(join(home, '.cursor/mcp.json'), JSON.stringify({ mcpServers: { 'remote api': { url: 'https://mcp.example.com/mcp' } } }));
    writeFileSync(join(project, '.vscode/mcp.json'), JSON.stringify({ servers: { events: { type: 'sse', url: 'https://mcp.example.com/sse' } } }));
    writeFileSync(join(home, '.claude.json'), '{ not json');
    const out = join(env.dir, 'generated.yaml');
    const run = (args: string[]) => spawnSync(NODE, [MAIN, 'init', ...args], { cwd: project, env: { ...env.env, HOME: home }, encoding: 'utf8' });
    const made = run(['--output', out]);
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stderr, /skipped .*\.claude\.json: not valid JSON/);
    assert.match(made.stdout, /3 server\(s\)/);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const text = readFileSync(out, 'utf8');
    assert.match(text, /remote-api:\n\s+transport: streamable-http\n\s+url: https:\/\/mcp.example.com\/mcp/);
    assert.match(text, /events:\n\s+transport: sse/);
    assert.doesNotMatch(text, /guarded/, 'entries that already go through mcp-guard are not proxied twice');
    assert.equal(run(['--output', out]).status, 1, 'an existing file is not overwritten without --force');
    // The result is a valid config and the daemon proxies the discovered server.
    env.writeConfig(text + `daemon: { home: ${JSON.stringify(env.home)} }\n`);
    assert.equal(env.cli(['validate']).code, 0);
    const c = await env.client('rec');
    assert.deepEqual((await c.callTool({ name: 'echo', arguments: { via: 'init' } })).content, [{ type: 'text', text: '{"via":"init"}' }]);
  } finally {
    await env.close();
  }
});
