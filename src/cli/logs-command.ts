// `logs`: wires the audit query commands with the database path resolved from the config.
import { join, resolve, dirname } from 'node:path';
import type { Command } from 'commander';
import { registerLogs } from './logs.js';
import { loadOrExit } from './daemon.js';
import { expandHome } from '../config/locate.js';

export function registerLogsCommand(program: Command): void {
  registerLogs(program, async (opts: { config?: string }) => {
    const loaded = await loadOrExit(opts.config);
    const p = loaded.config.audit.path;
    return p ? resolve(dirname(loaded.path), expandHome(p)) : join(loaded.home, 'audit.db');
  });
}
