// `keys create | list | revoke`: manage the API keys of api_key auth mode in <home>/keys.db.
import { Option, type Command } from 'commander';
import { KeyStore } from '../identity/keys.js';

/** Where keys.db lives and which roles the config defines; may be async (an `extends` base is fetched). */
export interface KeysContext {
  home: string;
  /** The role names of auth.roles. */
  roles: string[];
  /** The config file they come from, named in errors. */
  config: string;
}
type ResolveContext = (opts: { config?: string }) => KeysContext | Promise<KeysContext>;

const configOpt = () => new Option('-c, --config <file>', 'config file (its daemon.home holds keys.db)');

/** A usage error: the message and exit code 2, nothing created. */
function usage(message: string): never {
  process.stderr.write(`mcp-guard: ${message}\n`);
  process.exit(2);
}

/** A key's roles must be defined in auth.roles: a key with an unknown role would be refused everything. */
function checkRoles(wanted: string[], ctx: KeysContext): void {
  if (wanted.length === 0) usage('a key needs at least one --role' + definedRoles(ctx));
  const unknown = wanted.filter((r) => !ctx.roles.includes(r));
  if (unknown.length === 0) return;
  const which = unknown.map((r) => `'${r}'`).join(', ');
  const one = unknown.length === 1;
  usage(`${one ? 'role' : 'roles'} ${which} ${one ? 'is' : 'are'} not defined in auth.roles of ${ctx.config} (a key with ${one ? 'it' : 'them'} could use nothing); no key created` + definedRoles(ctx));
}

function definedRoles(ctx: KeysContext): string {
  return ctx.roles.length
    ? `; defined roles: ${ctx.roles.join(', ')}`
    : `; no roles are defined there yet: add one, e.g. auth: { roles: { agent: {} } }`;
}

export function registerKeys(program: Command, resolveContext: ResolveContext): void {
  const keys = program.command('keys').description('manage API keys (auth.mode: api_key)');

  const withStore = async <T>(ctx: KeysContext, fn: (store: KeyStore) => T): Promise<T> => {
    const store = KeyStore.open(ctx.home);
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
      const ctx = await resolveContext(opts);
      checkRoles(opts.role, ctx);
      const { key, info } = await withStore(ctx, (s) => s.create(opts.name, opts.role));
      process.stderr.write(`created key '${info.name}' with roles ${info.roles.join(', ')}.\nIt is shown only now; store it (for example in a file passed to \`mcp-guard connect --key-file\`):\n`);
      process.stdout.write(key + '\n');
    });

  keys
    .command('list')
    .description('list keys (names, roles, dates; never the keys)')
    .option('--json', 'machine-readable output')
    .addOption(configOpt())
    .action(async (opts: { json?: boolean; config?: string }) => {
      const all = await withStore(await resolveContext(opts), (s) => s.list());
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
      const done = await withStore(await resolveContext(opts), (s) => s.revoke(name));
      if (!done) {
        process.stderr.write(`mcp-guard: no active key named '${name}' (see \`mcp-guard keys list\`)\n`);
        process.exit(1);
      }
      process.stdout.write(`revoked key '${name}'\n`);
    });
}
