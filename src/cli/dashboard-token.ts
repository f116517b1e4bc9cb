// `mcp-guard dashboard-token`: print the token that /metrics and the other non-health endpoints of
// the dashboard port require (created, 0600, on first use if the daemon has not made it yet).
import type { Command } from 'commander';
import { ensureDashboardToken } from '../http/token.js';

export function registerDashboardToken(program: Command, resolveHome: (opts: { config?: string }) => string | Promise<string>): void {
  program
    .command('dashboard-token')
    .description('print the bearer token for the dashboard port (/metrics); in auth mode os it also opens the HTTP front')
    .option('-c, --config <file>', 'config file (default: $MCP_GUARD_CONFIG, ~/.config/mcp-guard/mcp-guard.yaml, ./mcp-guard.yaml)')
    .action(async (opts: { config?: string }) => {
      process.stdout.write(ensureDashboardToken(await resolveHome(opts)) + '\n');
    });
}
