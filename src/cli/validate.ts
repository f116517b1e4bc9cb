// `validate`: check a config file and print every problem as file:line:column.
import type { Command } from 'commander';
import { loadConfig, ConfigError } from '../config/loader.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('validate a config file (exit 0 when valid, 1 with file:line:column errors otherwise)')
    .option('-c, --config <file>', 'config file')
    .action((opts: { config?: string }) => {
      try {
        const loaded = loadConfig(opts.config);
        const n = Object.keys(loaded.config.servers).length;
        process.stdout.write(`${loaded.path}: valid (${n} server${n === 1 ? '' : 's'})\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(err.message + '\n');
        process.exit(1);
      }
    });
}
