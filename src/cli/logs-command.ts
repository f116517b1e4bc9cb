// `logs`: wires the audit query commands with the database path resolved from the config. While
// the file is broken (an edit in progress), the running daemon says where its audit log is.
import type { Command } from 'commander';
import { registerLogs } from './logs.js';
import { fail } from './daemon.js';
import { control, daemonOf } from './control.js';
import { auditDbOf, locate, resolveConfigPath } from '../config/locate.js';

export function registerLogsCommand(program: Command): void {
  registerLogs(program, async (opts: { config?: string }) => {
    const { loadConfig, ConfigError } = await import('../config/loader.js');
    try {
      const loaded = await loadConfig(opts.config);
      return auditDbOf(loaded.path, loaded.home, loaded.config.audit.path);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const path = resolveConfigPath(opts.config);
      if (typeof path !== 'string') fail(err.message);
      const r = await daemonOf(locate(path))
        .then((place) => control(place.socketPath, 'status'))
        .catch(() => undefined);
      if (!r?.ok || typeof r.auditDb !== 'string') fail(`${err.message}\n(and no running daemon of this config to ask where its audit log is; pass --db)`);
      process.stderr.write(`mcp-guard: the config file is invalid; reading the audit log of the running daemon (pid ${r.pid})\n`);
      return r.auditDb;
    }
  });
}
