// `validate --explain`: the effective policy of each server (optionally for a role) and, for each
// value, the files and positions it came from.
import { narrow } from '../policy/roles.js';
import type { LoadedConfig, ParsedFile } from './loader.js';
import type { Policy } from './policy-schema.js';

export function explain(loaded: LoadedConfig, opts: { server?: string; role?: string } = {}): string {
  const { config, layers } = loaded;
  const names = opts.server ? [opts.server] : Object.keys(config.servers);
  const out: string[] = [];
  out.push(`# effective config of ${loaded.path}`);
  if (layers.length > 1) out.push(`# composed from (base first): ${layers.map((l) => l.file).join(' → ')}`);
  for (const name of names) {
    const server = config.servers[name];
    if (!server) throw new Error(`no server '${name}' in the effective config (servers: ${Object.keys(config.servers).join(', ') || 'none'})`);
    let policy: Policy = server.policy;
    if (opts.role) {
      const role = config.auth.roles[opts.role];
      if (!role) throw new Error(`no role '${opts.role}' in auth.roles (roles: ${Object.keys(config.auth.roles).join(', ') || 'none'})`);
      policy = narrow(policy, role);
    }
    out.push('', `servers.${name}:${opts.role ? `   # as role '${opts.role}'` : ''}${server.locked ? '   # locked by base' : ''}`);
    out.push(`  transport: ${server.transport}   # ${sources(layers, ['servers', name, 'transport']) || 'default'}`);
    if (server.command) out.push(`  command: ${[server.command, ...server.args].join(' ')}   # ${sources(layers, ['servers', name, 'command'])}`);
    if (server.url) out.push(`  url: ${server.url}   # ${sources(layers, ['servers', name, 'url'])}`);
    const leaves: [string[], unknown][] = [];
    walk(policy, [], leaves);
    if (!leaves.length) out.push('  policy: {}   # nothing restricted');
    for (const [rel, value] of leaves) {
      const from = [
        sources(layers, ['servers', name, 'policy', ...rel]),
        layers.some((l) => get(l.raw, ['servers', name]) === undefined) ? sources(layers, ['defaults', ...rel], 'defaults') : '',
        opts.role ? sources(layers, ['auth', 'roles', opts.role, ...rel], `role ${opts.role}`) : '',
      ]
        .filter(Boolean)
        .join(' + ');
      out.push(`  policy.${rel.join('.')}: ${JSON.stringify(value)}   # ${from || 'default'}`);
    }
  }
  return out.join('\n') + '\n';
}

function walk(v: unknown, path: string[], out: [string[], unknown][]): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) walk(x, [...path, k], out);
  } else if (v !== undefined) {
    out.push([path, v]);
  }
}

function get(obj: any, path: (string | number)[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

/** The layers whose own text sets `path`, as file:line:column. */
function sources(layers: ParsedFile[], path: (string | number)[], label = ''): string {
  const hits = layers
    .filter((l) => get(l.raw, path) !== undefined)
    .map((l) => {
      const p = l.at(path);
      return `${label ? label + ' ' : ''}${p.file}:${p.line}:${p.column}`;
    });
  return hits.join(' ∩ ');
}
