// Test harness: a temp daemon home with a config, SDK clients spawning the real bridge, and
// cleanup that stops the real daemon. Everything runs as real processes.
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioClientTransportV2 } from '@modelcontextprotocol/client/stdio';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = join(ROOT, 'dist/src/cli/main.js');
export const NODE = process.execPath;
export const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const MEMORY = join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
export const RECORDING = join(ROOT, 'dist/test/fixtures/recording-server.js');
/** The dual-era fixture (SDK v2, serveStdio): 2025 push requests and 2026 input_required results. */
export const ERA_SERVER = join(ROOT, 'dist/test/fixtures/era-server.js');

/** How an SDK v2 client negotiates: probe and fall back, pinned to a 2026 revision, or 2025 only. */
export type V2Mode = 'auto' | 'legacy' | { pin: string };
export interface V2Options {
  mode?: V2Mode;
  capabilities?: Record<string, unknown>;
  env?: Record<string, string>;
  name?: string;
  /** Handlers for what a server may ask (2025 requests and 2026 inputRequests alike). */
  sampling?: (params: any) => unknown;
  elicitation?: (params: any) => unknown;
  roots?: () => unknown;
}

export class GuardEnv {
  readonly dir: string;
  readonly home: string;
  readonly configPath: string;
  readonly recordFile: string;
  private clients: { close(): Promise<void> }[] = [];

  constructor(yaml: (env: GuardEnv) => string) {
    this.dir = mkdtempSync(join(tmpdir(), 'mg-'));
    this.home = join(this.dir, 'home');
    this.configPath = join(this.dir, 'mcp-guard.yaml');
    this.recordFile = join(this.dir, 'recorded.jsonl');
    this.writeConfig(yaml(this));
  }

  writeConfig(text: string): void {
    writeFileSync(this.configPath, text);
  }

  get env(): Record<string, string> {
    return { ...(process.env as Record<string, string>), MCP_GUARD_HOME: this.home, RECORD_FILE: this.recordFile };
  }

  /** An SDK client connected through `mcp-guard connect --server NAME`. */
  async client(server: string, opts: { capabilities?: Record<string, unknown>; env?: Record<string, string>; name?: string } = {}): Promise<Client> {
    const transport = new StdioClientTransport({
      command: NODE,
      args: [MAIN, 'connect', '--server', server, '--config', this.configPath],
      env: { ...this.env, ...opts.env },
      stderr: 'pipe',
    });
    const client = new Client({ name: opts.name ?? 'test-client', version: '1.0.0' }, { capabilities: opts.capabilities ?? {} });
    this.clients.push(client);
    await client.connect(transport);
    return client;
  }

  /** An SDK v2 client connected through the bridge, negotiating as `mode` says (default auto). */
  async clientV2(server: string, opts: V2Options = {}): Promise<ClientV2> {
    const transport = new StdioClientTransportV2({
      command: NODE,
      args: [MAIN, 'connect', '--server', server, '--config', this.configPath],
      env: { ...this.env, ...opts.env },
      stderr: 'pipe',
    });
    const caps: Record<string, unknown> = { ...(opts.capabilities ?? {}) };
    if (opts.sampling) caps.sampling ??= {};
    if (opts.elicitation) caps.elicitation ??= {};
    if (opts.roots) caps.roots ??= {};
    const client = new ClientV2(
      { name: opts.name ?? 'test-client-v2', version: '2.0.0' },
      { capabilities: caps, versionNegotiation: { mode: opts.mode ?? 'auto' } },
    );
    if (opts.sampling) client.setRequestHandler('sampling/createMessage', async (req) => opts.sampling!(req.params) as never);
    if (opts.elicitation) client.setRequestHandler('elicitation/create', async (req) => opts.elicitation!(req.params) as never);
    if (opts.roots) client.setRequestHandler('roots/list', async () => opts.roots!() as never);
    this.clients.push(client);
    await client.connect(transport);
    return client;
  }

  /** Run the CLI to completion. */
  cli(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(NODE, [MAIN, ...args, ...(args.includes('--config') || args.includes('--db') ? [] : ['--config', this.configPath])], {
      env: { ...this.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Run the CLI without blocking this process's event loop (for tests that serve something). */
  cliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(NODE, [MAIN, ...args, ...(args.includes('--config') ? [] : ['--config', this.configPath])], { env: this.env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c) => (stdout += c));
      p.stderr.on('data', (c) => (stderr += c));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  spawnCli(args: string[]) {
    return spawn(NODE, [MAIN, ...args], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  recorded(): any[] {
    if (!existsSync(this.recordFile)) return [];
    return readFileSync(this.recordFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  daemonPid(): number | undefined {
    try {
      return Number(readFileSync(join(this.home, 'daemon.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
    this.cli(['stop']);
    const pid = this.daemonPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (!process.env.MG_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

export const recordingServer = (name = 'rec', policy = '') => `
  ${name}:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(RECORDING)}]
${policy}`;

export const eraServer = (name = 'era', policy = '', env: Record<string, string> = {}) => `
  ${name}:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(ERA_SERVER)}]${Object.keys(env).length ? `\n    env: ${JSON.stringify(env)}` : ''}
${policy}`;

export function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** A bridge driven with raw lines, for tests of what a misbehaving client gets back. */
export class RawBridge {
  readonly proc;
  readonly lines: any[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private buf = '';

  constructor(env: GuardEnv, server: string, extraEnv: Record<string, string> = {}) {
    this.proc = spawn(NODE, [MAIN, 'connect', '--server', server, '--config', env.configPath], {
      env: { ...env.env, ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (c: Buffer) => {
      this.buf += c.toString('utf8');
      let nl;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        const l = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (l.trim()) this.lines.push(JSON.parse(l));
      }
    });
    this.proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  send(obj: unknown): void {
    this.proc.stdin!.write((typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n');
  }

  async reply(id: unknown, ms = 15_000): Promise<any> {
    await waitFor(() => this.lines.some((l) => l.id === id && l.method === undefined), ms);
    return this.lines.find((l) => l.id === id && l.method === undefined);
  }

  async initialize(): Promise<void> {
    this.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    await this.reply('init');
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  end(): void {
    this.proc.stdin!.end();
  }
}
