// `mcp-guard init` reads real client config files (in a fake HOME) and writes a config that
// validates and proxies the servers it found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
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

test('init reads JSONC, turns VS Code inputs into ${VAR}, takes Claude Code project servers, and reports every skip and rename under --print', async () => {
  const env = new GuardEnv(() => '');
  try {
    const home = join(env.dir, 'fakehome');
    const project = join(env.dir, 'project');
    mkdirSync(join(home, '.config/Claude'), { recursive: true });
    mkdirSync(join(home, '.cursor'), { recursive: true });
    mkdirSync(join(project, '.vscode'), { recursive: true });
    const rec = { command: NODE, args: [RECORDING] };
    writeFileSync(join(home, '.config/Claude/claude_desktop_config.json'), JSON.stringify({ mcpServers: { rec: { ...rec, env: { WHO: 'desktop' } } } }));
    writeFileSync(
      join(home, '.claude.json'),
      JSON.stringify({ numStartups: 4, mcpServers: { rec }, projects: { [project]: { allowedTools: [], mcpServers: { 'proj rec': rec } }, '/elsewhere': { mcpServers: {} } } }),
    );
    writeFileSync(join(home, '.cursor/mcp.json'), JSON.stringify({ mcpServers: { rec } }));
    // VS Code's own format: comments, trailing commas, and an input it prompts for.
    writeFileSync(
      join(project, '.vscode/mcp.json'),
      `// servers for this workspace
{
  "inputs": [
    { "type": "promptString", "id": "rec-token", "description": "Token for rec", "password": true },
  ],
  "servers": {
    /* the recording server */
    "vs rec": {
      "type": "stdio",
      "command": ${JSON.stringify(NODE)},
      "args": [${JSON.stringify(RECORDING)}],
      "env": { "REC_TOKEN": "\${input:rec-token}", "WORKDIR": "\${workspaceFolder}" },
    },
  },
}
`,
    );
    const r = spawnSync(NODE, [MAIN, 'init', '--print'], { cwd: project, env: { ...env.env, HOME: home }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const notes = r.stderr.trimEnd().split('\n');
    const expect = [
      /^mcp-guard: renamed server 'rec' \(Claude Code, .*\/\.claude\.json\) to 'rec-claude-code': the 'rec' of Claude Desktop, .* is a different server$/,
      /^mcp-guard: renamed server 'proj rec' \(Claude Code \(project .*\/project\), .*\/\.claude\.json\) to 'proj-rec': server names may only use/,
      /^mcp-guard: skipped server 'rec' \(Cursor, .*\/\.cursor\/mcp\.json\): the same as 'rec-claude-code' from Claude Code, .*, kept once$/,
      /^mcp-guard: renamed server 'vs rec' \(VS Code, .*\/\.vscode\/mcp\.json\) to 'vs-rec'/,
      /^mcp-guard: server 'vs-rec' \(VS Code, .*\): env\.REC_TOKEN: the client prompts for \$\{input:rec-token\} \("Token for rec"\); written as \$\{REC_TOKEN\}: set REC_TOKEN where the daemon starts/,
    ];
    assert.equal(notes.length, expect.length, r.stderr);
    expect.forEach((re, i) => assert.match(notes[i]!, re));
    const config = parse(r.stdout);
    assert.deepEqual(Object.keys(config.servers), ['rec', 'rec-claude-code', 'proj-rec', 'vs-rec']);
    assert.deepEqual(config.servers['vs-rec'].env, { REC_TOKEN: '${REC_TOKEN}', WORKDIR: project });
    assert.equal(config.servers['proj-rec'].cwd, project, "a project's servers run in the project directory");
    assert.doesNotMatch(JSON.stringify(config), /\$\{input:/, 'no value holds a VS Code placeholder');
    assert.match(r.stdout, /# env\.REC_TOKEN: the client prompts for/);
    assert.match(r.stdout, /# renamed from "vs rec"/);

    // Detection off here only: the env tool answers with this machine's whole environment.
    assert.match(r.stdout, /\npii:\n  enabled: true\n/);
    env.writeConfig(r.stdout.replace(/\npii:\n  enabled: true\n/, '\npii:\n  enabled: false\n') + `daemon: { home: ${JSON.stringify(env.home)}, dashboard_port: 0 }\n`);
    const unset = env.cli(['validate']);
    assert.equal(unset.code, 1);
    assert.match(unset.stdout + unset.stderr, /REC_TOKEN is not set/);
    assert.equal(env.cli(['validate'], { REC_TOKEN: 'tok-from-env' }).code, 0);
    // The daemon reads the token from its environment and hands it to the upstream.
    const c = await env.client('vs-rec', { env: { REC_TOKEN: 'tok-from-env' } });
    const upstream = JSON.parse(((await c.callTool({ name: 'env', arguments: {} })).content as { text: string }[])[0]!.text);
    assert.equal(upstream.REC_TOKEN, 'tok-from-env');
    assert.equal(upstream.WORKDIR, project);
    const p = await env.client('proj-rec', { env: { REC_TOKEN: 'tok-from-env' } });
    assert.deepEqual((await p.callTool({ name: 'echo', arguments: { via: 'project' } })).content, [{ type: 'text', text: '{"via":"project"}' }]);
  } finally {
    await env.close();
  }
});
