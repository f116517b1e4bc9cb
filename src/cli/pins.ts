// `pins list | diff | approve | reset`: a person's review of tool-definition pins. Reads and writes
// the pin store in the daemon home (<home>/state.db), then tells a running daemon, which re-reads
// it and sends list-changed notifications to live sessions whose lists grew.
import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { diffLines } from 'diff';
import { stringify } from 'yaml';
import { revealHidden } from '../detect/hidden.js';
import { DEFAULT_PIN_MODE, pinId, type PinMode } from '../policy/pinning.js';
import { PinStore, statusOf, type PinStatus, type StoredPin } from '../daemon/pins.js';
import type { LoadedConfig } from '../config/loader.js';
import { control, NoDaemon } from './control.js';

type Load = (opts: { config?: string }) => Promise<LoadedConfig>;

const configOpt = () => new Option('-c, --config <file>', 'config file (its daemon.home holds state.db)');

interface Item extends StoredPin {
  id: string;
  status: PinStatus;
  mode: PinMode;
}

function modeOf(loaded: LoadedConfig, server: string): PinMode {
  return loaded.config.servers[server]?.policy.pinning ?? DEFAULT_PIN_MODE;
}

/** An item as its server's mode sees it: in strict mode the config's pin is the trusted hash. */
function itemOf(loaded: LoadedConfig, p: StoredPin): Item {
  const mode = modeOf(loaded, p.server);
  const id = pinId(p.kind, p.key);
  if (mode !== 'strict') return { ...p, id, mode, status: statusOf(p) };
  const pinned = loaded.config.servers[p.server]?.pins?.[id]?.toLowerCase();
  const status: PinStatus = pinned === p.seenHash ? 'pinned' : p.seenHidden?.length ? 'quarantined' : 'pending';
  return { ...p, id, mode, status, trustedHash: pinned, trustedDef: undefined, trustedBy: pinned ? `servers.${p.server}.pins` : undefined, trustedAt: undefined };
}

function fail(message: string): never {
  process.stderr.write(`mcp-guard: ${message}\n`);
  process.exit(1);
}

/** `NAME` names a tool, `prompt:NAME` a prompt, `template:URI` a template; a bare name of a prompt or template works when it is unique. */
function resolve(items: Item[], server: string, name: string): Item {
  const exact = items.find((i) => i.id === name);
  if (exact) return exact;
  const byKey = items.filter((i) => i.key === name);
  if (byKey.length === 1) return byKey[0]!;
  if (byKey.length > 1) fail(`'${name}' names more than one item of ${server}: ${byKey.map((i) => i.id).join(', ')}; use one of those`);
  fail(`no item '${name}' of server '${server}' in the pin store (see \`mcp-guard pins list --server ${server}\`)`);
}

/** Tell the running daemon of this config that the store changed. */
async function tellDaemon(loaded: LoadedConfig): Promise<string> {
  try {
    const r = await control(loaded.socketPath, 'pins');
    if (!r.ok) return `the daemon refused to re-read the pins: ${r.error}`;
    const n = Number(r.notified ?? 0);
    return `the running daemon (pid ${r.pid}) re-read the pins${n ? `; ${n} live session${n === 1 ? ' was' : 's were'} told the list changed` : ''}`;
  } catch (err) {
    if (err instanceof NoDaemon) return 'no daemon is running; it reads the pins when it starts';
    return `the daemon could not be told (${(err as Error).message}); live sessions see the change on their next listing`;
  }
}

/** A definition as a person reads it: YAML with multi-line text as blocks and hidden characters shown. */
export function readable(canonical: string | undefined): string {
  if (canonical === undefined) return '';
  const reveal = (v: unknown): unknown => {
    if (typeof v === 'string') return revealHidden(v);
    if (Array.isArray(v)) return v.map(reveal);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [revealHidden(k), reveal(x)]));
    return v;
  };
  return stringify(reveal(JSON.parse(canonical)), { lineWidth: 0 });
}

/** A unified line diff of two texts, every line kept (definitions are short). */
export function lineDiff(oldText: string, newText: string): string {
  let out = '';
  for (const part of diffLines(oldText, newText)) {
    const mark = part.added ? '+' : part.removed ? '-' : ' ';
    const lines = part.value.endsWith('\n') ? part.value.slice(0, -1).split('\n') : part.value.split('\n');
    for (const l of lines) out += `${mark} ${l}\n`;
  }
  return out;
}

const when = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : '-');

export function registerPins(program: Command, load: Load): void {
  const pins = program.command('pins').description('review tool-definition pins: what changed since it was trusted, approve or reset');

  const withStore = async <T>(opts: { config?: string }, fn: (store: PinStore, loaded: LoadedConfig) => T | Promise<T>): Promise<T> => {
    const loaded = await load(opts);
    const store = PinStore.open(loaded.home);
    try {
      return await fn(store, loaded);
    } finally {
      store.close();
    }
  };

  const checkServer = (store: PinStore, loaded: LoadedConfig, server: string) => {
    if (!loaded.config.servers[server] && !store.servers().includes(server)) {
      fail(`unknown server '${server}' (configured: ${Object.keys(loaded.config.servers).join(', ') || 'none'})`);
    }
  };

  pins
    .command('list')
    .description('pinned, pending and quarantined tools, prompts and resource templates, with their SHA-256')
    .option('-s, --server <name>', 'only this server')
    .option('--json', 'machine-readable output')
    .addOption(configOpt())
    .action(async (opts: { server?: string; json?: boolean; config?: string }) =>
      withStore(opts, (store, loaded) => {
        if (opts.server) checkServer(store, loaded, opts.server);
        const items = (opts.server ? store.items(opts.server) : store.all()).map((p) => itemOf(loaded, p));
        if (opts.json) {
          const out = items.map((i) => ({
            server: i.server,
            item: i.id,
            kind: i.kind,
            name: i.key,
            status: i.status,
            mode: i.mode,
            sha256: i.seenHash,
            trustedSha256: i.trustedHash ?? null,
            trustedBy: i.trustedBy ?? null,
            trustedAt: i.trustedAt ? new Date(i.trustedAt).toISOString() : null,
            seenAt: new Date(i.seenAt).toISOString(),
            hidden: i.seenHidden ?? [],
          }));
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return;
        }
        if (items.length === 0) {
          process.stdout.write(`no definitions pinned${opts.server ? ` for ${opts.server}` : ''} yet: they are pinned when a client first lists them through mcp-guard\n`);
          return;
        }
        const rows = items.map((i) => [i.server, i.id, i.status, i.seenHash, i.status === 'pinned' ? `${i.trustedBy ?? ''} ${when(i.trustedAt)}`.trim() : i.trustedHash ? `was ${i.trustedHash.slice(0, 12)}…` : 'new', i.seenHidden?.length ? `hidden text: ${i.seenHidden.map((h) => `${h.what} in ${h.path}`).join(', ')}` : '']);
        const head = ['SERVER', 'ITEM', 'STATUS', 'SHA256', 'TRUSTED', 'NOTE'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
        const waiting = items.filter((i) => i.status !== 'pinned');
        for (const server of new Set(waiting.map((i) => i.server))) {
          const mine = waiting.filter((i) => i.server === server);
          if (modeOf(loaded, server) === 'strict') {
            process.stdout.write(`\n${server} is strict: to allow a definition, add its hash to the config after reviewing it:\n  servers:\n    ${server}:\n      pins:\n`);
            for (const i of mine) process.stdout.write(`        ${JSON.stringify(i.id)}: ${i.seenHash}\n`);
          } else {
            process.stdout.write(`\n${server}: ${mine.length} item${mine.length === 1 ? '' : 's'} quarantined; review with \`mcp-guard pins diff ${server} ITEM\`, then \`mcp-guard pins approve ${server} [ITEM]\`\n`);
          }
        }
      }),
    );

  pins
    .command('diff')
    .description('a line diff of the trusted and the latest definition of one item')
    .argument('<server>', 'server name')
    .argument('<name>', 'tool name, prompt:NAME or template:URI_TEMPLATE')
    .addOption(configOpt())
    .action(async (server: string, name: string, opts: { config?: string }) =>
      withStore(opts, (store, loaded) => {
        checkServer(store, loaded, server);
        const i = resolve(store.items(server).map((p) => itemOf(loaded, p)), server, name);
        if (i.status === 'pinned' && i.trustedDef === i.seenDef) {
          process.stdout.write(`${i.id} of ${server} is pinned (sha256 ${i.seenHash}); the latest definition seen is the trusted one\n`);
          return;
        }
        const old = i.mode === 'strict' ? undefined : i.trustedDef;
        process.stdout.write(`--- ${i.id} trusted: ${old ? `sha256 ${i.trustedHash} (${i.trustedBy ?? 'approved'}, ${when(i.trustedAt)})` : i.mode === 'strict' ? (i.trustedHash ? `servers.${server}.pins has sha256 ${i.trustedHash}` : `not in servers.${server}.pins`) : i.seenHidden?.length ? 'never (hidden text is not pinned on first use)' : 'never (new since the first listing)'}\n`);
        process.stdout.write(`+++ ${i.id} seen: sha256 ${i.seenHash} (${when(i.seenAt)})\n`);
        for (const h of i.seenHidden ?? []) process.stdout.write(`! hidden text: ${h.what} in ${h.path}\n`);
        process.stdout.write(lineDiff(readable(old), readable(i.seenDef)));
        if (i.mode === 'strict') process.stdout.write(`\n${server} is strict: to allow it, add to servers.${server}.pins:  ${JSON.stringify(i.id)}: ${i.seenHash}\n`);
        else process.stdout.write(`\nto trust it: mcp-guard pins approve ${server} ${/^[A-Za-z0-9_.:\/-]+$/.test(i.id) ? i.id : JSON.stringify(i.id)} --hash ${i.seenHash}\n`);
      }),
    );

  pins
    .command('approve')
    .description('trust the latest definition of an item, or of every pending item of a server (hidden text needs its NAME)')
    .argument('<server>', 'server name')
    .argument('[name]', 'tool name, prompt:NAME or template:URI_TEMPLATE; all pending items when left out')
    .option('--hash <sha256>', 'approve only if the latest definition still has this hash (the one you reviewed)')
    .addOption(configOpt())
    .action(async (server: string, name: string | undefined, opts: { hash?: string; config?: string }) => {
      const msg = await withStore(opts, async (store, loaded) => {
        checkServer(store, loaded, server);
        if (modeOf(loaded, server) === 'strict') {
          fail(`${server} uses strict pinning: only servers.${server}.pins in the config allows definitions (see \`mcp-guard pins list --server ${server}\` for their hashes)`);
        }
        if (opts.hash !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.hash)) fail('--hash takes the 64-hex-digit SHA-256 that `pins list` or `pins diff` prints');
        const items = store.items(server).map((p) => itemOf(loaded, p));
        let chosen: Item[];
        if (name !== undefined) {
          const i = resolve(items, server, name);
          if (i.status === 'pinned') fail(`${i.id} of ${server} is already pinned (sha256 ${i.seenHash}); nothing to approve`);
          chosen = [i];
        } else {
          if (opts.hash !== undefined) fail('--hash needs the NAME of the item it is the hash of');
          chosen = items.filter((i) => i.status === 'pending');
          for (const i of items.filter((x) => x.status === 'quarantined')) {
            process.stderr.write(`skipped ${i.id}: its definition has hidden text; review it with \`mcp-guard pins diff ${server} ${i.id}\` and approve it by name\n`);
          }
          if (chosen.length === 0) {
            process.stdout.write(`nothing pending for ${server}\n`);
            return undefined;
          }
        }
        const by = `pins approve as ${userInfo().username}`;
        const now = Date.now();
        for (const i of chosen) {
          const done = store.approve(server, i.kind, i.key, by, now, opts.hash);
          if (!done) fail(`${i.id} of ${server} changed since it was reviewed (its latest sha256 is ${store.get(server, i.kind, i.key)?.seenHash}); review it again with \`mcp-guard pins diff ${server} ${i.id}\``);
          process.stdout.write(`approved ${i.id} of ${server} (sha256 ${done.trustedHash})\n`);
        }
        return tellDaemon(loaded);
      });
      if (msg) process.stdout.write(msg + '\n');
    });

  pins
    .command('reset')
    .description("forget every pin of a server: its next listing pins anew (trust on first use again)")
    .argument('<server>', 'server name')
    .addOption(configOpt())
    .action(async (server: string, opts: { config?: string }) => {
      const msg = await withStore(opts, async (store, loaded) => {
        checkServer(store, loaded, server);
        const n = store.reset(server);
        process.stdout.write(`forgot ${n} pin${n === 1 ? '' : 's'} of ${server}; its next listing pins anew\n`);
        return tellDaemon(loaded);
      });
      process.stdout.write(msg + '\n');
    });
}
