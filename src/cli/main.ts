#!/usr/bin/env node
// The mcp-guard command line: wires one file per command into commander.
import { Command, Option } from 'commander';
import { registerDaemonCommands, loadOrExit } from './daemon.js';
import { registerConnect } from './connect.js';
import { registerValidate } from './validate.js';
import { registerDemo } from './demo.js';
import { registerInit } from './init.js';
import { registerLogsCommand } from './logs-command.js';
import { registerKeys } from './keys.js';
import { registerAuth } from './auth.js';
import { registerBench } from './bench.js';
import { registerDashboardToken } from './dashboard-token.js';

const program = new Command();
program
  .name('mcp-guard')
  .description('Security proxy daemon for MCP servers: authentication, rate limits, permissions, PII detection, audit')
  .version('0.1.0')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

registerDaemonCommands(program);
registerConnect(program);
registerValidate(program);
registerLogsCommand(program);
registerKeys(program, async (o: { config?: string }) => (await loadOrExit(o.config)).home);
registerAuth(program, async (o: { config?: string }) => {
  const l = await loadOrExit(o.config);
  return { home: l.home, auth: l.config.auth };
});
registerDashboardToken(program, async (o: { config?: string }) => (await loadOrExit(o.config)).home);
registerBench(program);
registerInit(program);
registerDemo(program);

export const configOption = () => new Option('-c, --config <file>', 'config file (default: $MCP_GUARD_CONFIG, ~/.config/mcp-guard/mcp-guard.yaml, ./mcp-guard.yaml)');

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`mcp-guard: ${(err as Error).message}\n`);
  process.exit(1);
});
