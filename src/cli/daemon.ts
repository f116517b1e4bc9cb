// `start`, `stop`, `status`, `health`, `reload`: run the daemon and ask it how it is.
import type { Command } from 'commander';
import { AlreadyRunning, pidAlive, readLockPid, waitForExit } from '../daemon/lock.js';
import { createLogger } from '../daemon/log.js';
import { connectOrStart } from '../bridge/bridge.js';
import { control, daemonOf, NoDaemon } from './control.js';
import { locate, resolveConfigPath, type Located } from '../config/locate.js';

export function registerDaemonCommands(program: Command): void {
  program
    .command('start')
    .description('start the daemon (foreground, or -d to detach)')
    .option('-c, --config <file>', 'config file')
    .option('-d, --detach', 'run in the background and return once it answers')
    .option('--quiet-if-running', 'exit 0 without a message when a daemon already runs (used by auto-start)')
    .action(async (opts: { config?: string; detach?: boolean; quietIfRunning?: boolean }) => {
      const loaded = await loadOrExit(opts.config);
      if (opts.detach) {
        const running = readLockPid(loaded.home);
        if (running && pidAlive(running)) fail(`mcp-guard daemon is already running (pid ${running})`);
        const sock = await connectOrStart(loaded, 30_000);
        sock.destroy();
        const r = await control(loaded.socketPath, 'health');
        process.stdout.write(`mcp-guard daemon started (pid ${r.ok ? r.pid : '?'}), socket ${loaded.socketPath}\n`);
        return;
      }
      const log = createLogger(loaded.config.daemon.log_level);
      const { Daemon } = await import('../daemon/daemon.js');
      const daemon = new Daemon(loaded, log);
      try {
        await daemon.start();
      } catch (err) {
        if (err instanceof AlreadyRunning) {
          if (opts.quietIfRunning) process.exit(0);
          fail(err.pid > 0 ? err.message : `mcp-guard daemon is already running (socket ${loaded.socketPath})`);
        }
        throw err;
      }
      const onSignal = (sig: string) => void daemon.stop(sig).then(() => process.exit(0));
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      process.on('SIGHUP', () => void control(loaded.socketPath, 'reload').catch(() => {}));
    });

  program
    .command('stop')
    .description('stop the running daemon after in-flight requests complete')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => {
      const place = await runningOrExit(opts.config);
      const r = await control(place.socketPath, 'stop').catch((err) => fail((err as Error).message));
      if (!r.ok) fail(r.error);
      // The daemon drains for up to its shutdown_timeout, which it says itself: the file may be broken.
      const drainS = typeof r.shutdownTimeoutS === 'number' ? r.shutdownTimeoutS : 30;
      if (!(await waitForExit(r.pid, (drainS + 10) * 1000))) fail(`the daemon (pid ${r.pid}) is still running after the shutdown timeout`);
      process.stdout.write(`mcp-guard daemon stopped (pid ${r.pid})\n`);
    });

  program
    .command('status')
    .description('show the running daemon: pid, uptime, config (and whether the file on disk is valid), servers and live sessions')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const place = await runningOrExit(opts.config);
      const r = await control(place.socketPath, 'status').catch((err) => fail((err as Error).message));
      if (!r.ok) fail(r.error);
      if (opts.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const s = r as any;
      const file = s.configFile as { valid: boolean; error?: string; problems?: number } | undefined;
      const lines = [
        `daemon    running (pid ${s.pid}), up ${formatUptime(s.uptimeS)}`,
        `config    ${s.config}`,
        ...(file && !file.valid
          ? [
              `          the file on disk is INVALID; the daemon runs its last good config. First of ${file.problems} error${file.problems === 1 ? '' : 's'}:`,
              `          ${file.error}`,
            ]
          : []),
        `socket    ${s.socket}`,
        `sessions  ${s.sessions}`,
        'servers',
        ...s.servers.map((v: any) => `  ${String(v.name).padEnd(20)} ${String(v.transport).padEnd(16)} ${v.sessions} session${v.sessions === 1 ? '' : 's'}`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });

  program
    .command('health')
    .description('liveness check: exit 0 when the daemon answers, 1 otherwise')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => {
      const place = await runningOrExit(opts.config);
      try {
        const r = await control(place.socketPath, 'health', 3000);
        if (r.ok) {
          process.stdout.write(`ok (pid ${r.pid})\n`);
          return;
        }
        fail(r.error);
      } catch (err) {
        fail((err as Error).message);
      }
    });

  program
    .command('reload')
    .description('reload the config in the running daemon (new sessions use it); exit 1 when the file is invalid')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => {
      const place = await runningOrExit(opts.config);
      const r = await control(place.socketPath, 'reload').catch((err) => fail((err as Error).message));
      if (!r.ok) fail(r.error);
      if (r.reloaded === false) fail(`reload refused, the running config is kept:\n${String(r.error)}`);
      process.stdout.write('config reloaded\n');
    });
}

/**
 * Where the daemon of a config lives, without validating the rest: stop, status, health and reload
 * must work while the file is being edited into shape (the daemon validates on reload).
 */
export function locateOrExit(config?: string): Located {
  const path = resolveConfigPath(config);
  if (typeof path !== 'string') fail(`no config file found (looked in ${path.missing.join(', ')})`);
  return locate(path);
}

/** The running daemon of a config, found also when the file is broken; exits 1 when none runs. */
export async function runningOrExit(config?: string): Promise<Located> {
  const located = locateOrExit(config);
  try {
    return await daemonOf(located);
  } catch (err) {
    if (!(err instanceof NoDaemon)) fail((err as Error).message);
    // daemonOf names the file's problem when it is why the daemon could not be found.
    fail(located.exact && located.problem ? `${err.message}; the config file is invalid: ${located.problem}` : err.message);
  }
}

/** The whole config, validated (imported lazily: the bridge never needs it). */
export async function loadOrExit(config?: string) {
  const { loadConfig, ConfigError } = await import('../config/loader.js');
  try {
    return await loadConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`mcp-guard: ${message}\n`);
  process.exit(code);
}

function formatUptime(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
