// `keys create | list | revoke`: manage the API keys of api_key auth mode in <home>/keys.db.
import { Option, type Command } from 'commander';
import { KeyStore } from '../identity/keys.js';

/** May be async (the config loader can fetch an `extends` base). */
type ResolveHome = (opts: { config?: string }) => string | Promise<string>;

const configOpt = () => new Option('-c, --config <file>', 'config file (its daemon.home holds keys.db)');

export function registerKeys(program: Command, resolveHome: ResolveHome): void {
  const keys = program.command('keys').description('manage API keys (auth.mode: api_key)');

  const withStore = async <T>(opts: { config?: string }, fn: (store: KeyStore) => T): Promise<T> => {
    const store = KeyStore.open(await resolveHome(opts));
    try {
      return fn(store);
    } finally {
      store.close();
    }
  };

  keys
    .command('create')
    .description('create a key and print it once; only its hash is stored')
    .requiredOption('-n, --name <name>', 'name of the key: its identity in roles, rate limits and audit (key:<name>)')
    .option('-r, --role <role>', 'role given to the key (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addOption(configOpt())
    .action(async (opts: { name: string; role: string[]; config?: string }) => {
      const { key, info } = await withStore(opts, (s) => s.create(opts.name, opts.role));
      process.stderr.write(`created key '${info.name}' with roles ${info.roles.join(', ')}.\nIt is shown only now; store it (for example in a file passed to \`mcp-guard connect --key-file\`):\n`);
      process.stdout.write(key + '\n');
    });

  keys
    .command('list')
    .description('list keys (names, roles, dates; never the keys)')
    .option('--json', 'machine-readable output')
    .addOption(configOpt())
    .action(async (opts: { json?: boolean; config?: string }) => {
      const all = await withStore(opts, (s) => s.list());
      if (opts.json) {
        process.stdout.write(JSON.stringify(all, null, 2) + '\n');
        return;
      }
      if (all.length === 0) {
        process.stdout.write('no API keys; create one with `mcp-guard keys create --name NAME --role ROLE`\n');
        return;
      }
      const rows = all.map((k) => [k.name, k.id, k.roles.join(','), k.createdAt.toISOString(), k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active']);
      const head = ['NAME', 'ID', 'ROLES', 'CREATED', 'STATUS'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    });

  keys
    .command('revoke')
    .description('revoke the active key with this name; it is refused from the next connection on')
    .argument('<name>', 'key name')
    .addOption(configOpt())
    .action(async (name: string, opts: { config?: string }) => {
      const done = await withStore(opts, (s) => s.revoke(name));
      if (!done) {
        process.stderr.write(`mcp-guard: no active key named '${name}' (see \`mcp-guard keys list\`)\n`);
        process.exit(1);
      }
      process.stdout.write(`revoked key '${name}'\n`);
    });
}
