#!/usr/bin/env node
// The mcp-guard command line: wires one file per command into commander.
import { Command } from 'commander';

const program = new Command();
program
  .name('mcp-guard')
  .description('Security proxy daemon for MCP servers: authentication, rate limits, permissions, PII detection, audit')
  .version('0.1.0')
  .configureOutput({ outputError: (s, write) => write(s) });

const command = process.argv[2];
if (command === 'connect') {
  // The bridge an MCP client starts for every connection sits on the path of every message: it
  // loads only what it needs. With every command's modules loaded (sqlite, jose, openid-client,
  // the bench...) the same bridge code added 50-100 µs to each round trip (measured; see README).
  const { registerConnect } = await import('./connect.js');
  registerConnect(program);
} else if (command === 'start' || command === 'stop' || command === 'status' || command === 'health' || command === 'reload') {
  // The daemon too: only the daemon's own modules, none of the other commands'.
  const { registerDaemonCommands } = await import('./daemon.js');
  registerDaemonCommands(program);
} else {
  const [daemon, connect, validate, logs, keys, auth, bench, dashboardToken, init, demo, pins, approvals] = await Promise.all([
    import('./daemon.js'),
    import('./connect.js'),
    import('./validate.js'),
    import('./logs-command.js'),
    import('./keys.js'),
    import('./auth.js'),
    import('./bench.js'),
    import('./dashboard-token.js'),
    import('./init.js'),
    import('./demo.js'),
    import('./pins.js'),
    import('./approvals.js'),
  ]);
  const { loadOrExit } = daemon;
  daemon.registerDaemonCommands(program);
  connect.registerConnect(program);
  validate.registerValidate(program);
  logs.registerLogsCommand(program);
  keys.registerKeys(program, async (o: { config?: string }) => {
    const l = await loadOrExit(o.config);
    return { home: l.home, roles: Object.keys(l.config.auth.roles), config: l.path };
  });
  auth.registerAuth(program, async (o: { config?: string }) => {
    const l = await loadOrExit(o.config);
    return { home: l.home, auth: l.config.auth };
  });
  dashboardToken.registerDashboardToken(program, async (o: { config?: string }) => (await loadOrExit(o.config)).home);
  bench.registerBench(program);
  init.registerInit(program);
  demo.registerDemo(program);
  pins.registerPins(program, (o: { config?: string }) => loadOrExit(o.config));
  approvals.registerApprovals(program);
}

// A usage error is its one line and one hint: the whole help after it buried the error.
const hintHelp = (cmd: Command, path: string): void => {
  cmd.showHelpAfterError(`(see \`${path} --help\`)`);
  for (const sub of cmd.commands) hintHelp(sub, `${path} ${sub.name()}`);
};
hintHelp(program, 'mcp-guard');

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`mcp-guard: ${(err as Error).message}\n`);
  process.exit(1);
});
