// The one config loader: finds the file, parses YAML keeping source positions, expands ${VAR},
// validates against the schema, and reports every problem as file:line:column with the key.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { expandHome, locate as locateDaemon, resolveConfigPath } from './locate.js';
import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, visit, type Document, type Node } from 'yaml';
import { ConfigSchema, LayerSchema, serverProblems, type Config } from './schema.js';
import { composeConfigs, fetchBase, MAX_EXTENDS_DEPTH } from './compose.js';
import { policyProblems } from '../policy/compiled.js';
import { validatePiiConfig } from '../detect/detector.js';
import { ConfigError, type ConfigProblem } from './problem.js';
import { expandVars } from './expand.js';

export interface LoadedConfig {
  /** Absolute path of the file the config came from. */
  path: string;
  /** The effective config (after `extends` and the floor merge). */
  config: Config;
  /** Daemon home directory (lock, socket, pid, logs, audit database). */
  home: string;
  socketPath: string;
  /** The files that made it, base first; the last is `path`. */
  layers: ParsedFile[];
}

/** One config file, validated on its own. */
export interface ParsedFile {
  file: string;
  config: Config;
  /** The file's own YAML as data, before defaults: what it actually says. */
  raw: any;
  /** Where `path` is in the file (the nearest existing node). */
  at(path: (string | number)[]): ConfigProblem;
}

export { expandHome, defaultHome } from './locate.js';
export { ConfigError, formatProblem, type ConfigProblem } from './problem.js';

/** The config file to use, or a ConfigError naming where it looked. */
export function findConfig(explicit?: string): string {
  const r = resolveConfigPath(explicit);
  if (typeof r === 'string') return r;
  throw new ConfigError([
    {
      file: r.missing[0]!,
      line: 0,
      column: 0,
      key: '',
      message: `no config file found (looked for --config, $MCP_GUARD_CONFIG, ${r.missing.join(', ')}). Create one from mcp-guard.example.yaml.`,
    },
  ]);
}

export async function loadConfig(explicit?: string): Promise<LoadedConfig> {
  const path = findConfig(explicit);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, line: 0, column: 0, key: '', message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseConfig(text, path);
}

/** Parse, validate and compose config text; `file` names it in errors and anchors relative paths. */
export async function parseConfig(text: string, file: string): Promise<LoadedConfig> {
  const top = parseFile(text, file);
  const layers: ParsedFile[] = [top];
  let config = top.config;
  const { home } = locate(top.config, file);
  // Resolve the chain of bases first (bounded, no cycles), then merge from the root down.
  const seen = new Set<string>();
  let cur = top;
  while (cur.config.extends) {
    if (layers.length > MAX_EXTENDS_DEPTH) throw new ConfigError([{ ...cur.at(['extends']), message: `more than ${MAX_EXTENDS_DEPTH} levels of extends` }]);
    const pin = cur.config.extends.sha256.toLowerCase();
    if (seen.has(pin)) throw new ConfigError([{ ...cur.at(['extends']), message: 'extends forms a cycle' }]);
    seen.add(pin);
    const src = await fetchBase(cur.config.extends, cur.file, home);
    cur = parseFile(src.text, src.name);
    layers.unshift(cur);
  }
  config = layers[0]!.config;
  for (const layer of layers.slice(1)) {
    config = composeConfigs(config, layer.config, layer.raw, layer.file, (p) => layer.at(p));
  }
  if (layers.length > 1) {
    const problems: ConfigProblem[] = [];
    for (const [name, s] of Object.entries(config.servers)) {
      for (const p of serverProblems(s)) problems.push({ ...top.at(['servers', name]), key: `servers.${name}.${p.path.join('.')}`, message: p.message });
    }
    if (problems.length) throw new ConfigError(problems);
  }
  return { path: file, config, layers, ...locate(config, file, top) };
}

function locate(config: Config, file: string, top?: ParsedFile): { home: string; socketPath: string } {
  const { home, socketPath } = locateDaemon(file, config.daemon);
  if (top && Buffer.byteLength(socketPath) > 100) {
    throw new ConfigError([{ ...top.at(['daemon', 'socket_path']), message: `socket path is too long for a Unix socket (${socketPath})` }]);
  }
  return { home, socketPath };
}

/** Parse and validate one file on its own. */
export function parseFile(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const at = (offset: number | undefined) => {
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  for (const e of doc.errors) {
    problems.push({ file, ...at(e.pos[0]), key: '', message: e.message.split('\n')[0]! });
  }
  if (problems.length) throw new ConfigError(problems);

  // ${VAR} expansion in every string scalar, before validation so that types check the result.
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string') return;
      const { value, problems: found } = expandVars(node.value);
      if (!found.length) {
        node.value = value;
        return;
      }
      // Point at the offending `${` in the source (quotes and escapes shift it from the value's index).
      const [start, end] = node.range ?? [undefined, undefined];
      const source = start === undefined ? '' : text.slice(start, end);
      for (const f of found) {
        const j = source.indexOf(f.text);
        problems.push({ file, ...at(start === undefined ? undefined : start + Math.max(j, 0)), key: keyOfScalar(path, node), message: f.message });
      }
    },
  });
  if (problems.length) throw new ConfigError(problems);

  const raw = doc.toJS() ?? {};
  const parsed = (raw && typeof raw === 'object' && 'extends' in raw ? LayerSchema : ConfigSchema).safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as (string | number)[];
      const extra = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
      if (extra.length) {
        for (const k of extra) {
          problems.push({ file, ...at(offsetOf(doc, path, k)), key: [...path, k].join('.'), message: `unknown key '${k}'` });
        }
      } else {
        problems.push({ file, ...at(offsetOf(doc, path)), key: path.join('.'), message: issue.message });
      }
    }
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  // Checks the schema cannot express: patterns must compile as RE2, with their positions.
  const semantic = (prefix: (string | number)[], found: { path: (string | number)[] | string; message: string }[]) => {
    for (const p of found) {
      const rel = typeof p.path === 'string' ? splitPath(p.path) : p.path;
      const full = [...prefix, ...rel];
      problems.push({ file, ...at(offsetOf(doc, full)), key: full.join('.'), message: p.message });
    }
  };
  for (const [name, s] of Object.entries(config.servers)) semantic(['servers', name, 'policy'], policyProblems(s.policy));
  for (const [name, r] of Object.entries(config.auth.roles)) semantic(['auth', 'roles', name], policyProblems(r));
  if (config.defaults) semantic(['defaults'], policyProblems(config.defaults));
  semantic(['pii'], validatePiiConfig(config.pii));
  if (problems.length) throw new ConfigError(problems);
  for (const s of Object.values(config.servers)) {
    if (s.cwd && !isAbsolute(s.cwd)) s.cwd = resolve(dirname(file), expandHome(s.cwd));
  }
  return {
    file,
    config,
    raw,
    at: (path) => ({ file, ...at(offsetOf(doc, path)), key: path.join('.'), message: '' }),
  };
}

/** The dotted key of a scalar from its ancestors (as `visit` passes them): `servers.rec.args.1`. */
function keyOfScalar(ancestors: readonly unknown[], node: unknown): string {
  const parts: string[] = [];
  for (let i = 0; i < ancestors.length; i++) {
    const a = ancestors[i];
    const child = ancestors[i + 1] ?? node;
    if (isPair(a) && isScalar(a.key)) parts.push(String(a.key.value));
    else if (isSeq(a)) parts.push(String(a.items.indexOf(child as never)));
  }
  return parts.join('.');
}

/** `permissions.denied_tools[1]` → ['permissions', 'denied_tools', 1] */
function splitPath(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of p.split('.')) {
    if (!part) continue;
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Offset of the node at `path` (or of the key `key` inside it); falls back to the nearest parent. */
function offsetOf(doc: Document, path: (string | number)[], key?: string): number | undefined {
  let p = path.slice();
  for (;;) {
    const node = (p.length ? doc.getIn(p, true) : doc.contents) as Node | undefined;
    if (node && key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
      const k = pair && isPair(pair) && isScalar(pair.key) ? pair.key : undefined;
      if (k?.range) return k.range[0];
    }
    if (node && node.range) {
      // A bad scalar is shown where its value is; a bad section where its key is.
      if (!isScalar(node) && p.length) {
        const parent = (p.length > 1 ? doc.getIn(p.slice(0, -1), true) : doc.contents) as Node | undefined;
        const last = p[p.length - 1];
        if (parent && isMap(parent)) {
          const pair = parent.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === last);
          if (pair && isPair(pair) && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
        }
      }
      return node.range[0];
    }
    if (!p.length) return undefined;
    key = String(p[p.length - 1]);
    p = p.slice(0, -1);
  }
}
