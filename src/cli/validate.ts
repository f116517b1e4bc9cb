// `validate`: check a config file and print every problem as file:line:column.
import type { Command } from 'commander';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('validate a config file (exit 0 when valid, 1 with file:line:column errors otherwise)')
    .option('-c, --config <file>', 'config file')
    .option('--explain', 'print the effective policy of each server and where each value came from')
    .option('--server <name>', 'with --explain: only this server')
    .option('--role <name>', 'with --explain: the policy as seen by a caller with this role')
    .action(async (opts: { config?: string; explain?: boolean; server?: string; role?: string }) => {
      const { loadConfig, ConfigError } = await import('../config/loader.js');
      const { explain } = await import('../config/explain.js');
      let loaded;
      try {
        loaded = await loadConfig(opts.config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(err.message + '\n');
        process.exit(1);
      }
      if (opts.explain) {
        try {
          process.stdout.write(explain(loaded, { server: opts.server, role: opts.role }));
        } catch (err) {
          process.stderr.write(`mcp-guard: ${(err as Error).message}\n`);
          process.exit(1);
        }
        return;
      }
      const n = Object.keys(loaded.config.servers).length;
      const composed = loaded.layers.length > 1 ? `, extends ${loaded.layers.length - 1} base config${loaded.layers.length > 2 ? 's' : ''}` : '';
      process.stdout.write(`${loaded.path}: valid (${n} server${n === 1 ? '' : 's'}${composed})\n`);
    });
}
