// Tool-definition pinning, the pure part: what a definition is (the fields of a tool, prompt or
// resource template an agent reads), its canonical form and SHA-256, and the decisions: may this
// listed definition be shown, may this call reach the upstream. The threat is the rug pull: a
// server whose definition changes after it was trusted steers the agent without any call looking
// wrong. The store and the stage live in src/daemon/ (pins.ts, pinning.ts).
import { createHash } from 'node:crypto';
import RE2 from 're2';
import type { HiddenFinding } from '../detect/hidden.js';
import { quote } from './pattern.js';
import type { Denial } from './permissions.js';
import { normalizeUri } from './uri.js';

export type PinMode = 'tofu' | 'strict' | 'off';
export const PIN_MODES: readonly PinMode[] = ['off', 'tofu', 'strict'];
export const DEFAULT_PIN_MODE: PinMode = 'tofu';
export type PinKind = 'tool' | 'prompt' | 'template';
export const PIN_KINDS: readonly PinKind[] = ['tool', 'prompt', 'template'];

/** The stricter of two modes (off < tofu < strict): a personal config can only tighten. */
export function stricterMode(a: PinMode | undefined, b: PinMode | undefined): PinMode | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return PIN_MODES.indexOf(b) > PIN_MODES.indexOf(a) ? b : a;
}

/** List methods whose results carry definitions, with the array that holds them. */
export const LISTS: Readonly<Record<string, { kind: PinKind; array: string }>> = {
  'tools/list': { kind: 'tool', array: 'tools' },
  'prompts/list': { kind: 'prompt', array: 'prompts' },
  'resources/templates/list': { kind: 'template', array: 'resourceTemplates' },
};

/** The notification that tells a 2025 client to list a kind again, and the 2026 listen filter key. */
export const LIST_CHANGED: Readonly<Record<PinKind, { method: string; filter: 'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged' }>> = {
  tool: { method: 'notifications/tools/list_changed', filter: 'toolsListChanged' },
  prompt: { method: 'notifications/prompts/list_changed', filter: 'promptsListChanged' },
  template: { method: 'notifications/resources/list_changed', filter: 'resourcesListChanged' },
};

/** The fields of a definition, per kind: what an agent reads of it. */
const FIELDS: Readonly<Record<PinKind, readonly string[]>> = {
  tool: ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'],
  prompt: ['name', 'title', 'description', 'arguments'],
  template: ['uriTemplate', 'name', 'title', 'description', 'mimeType', 'annotations'],
};

const WHAT: Readonly<Record<PinKind, string>> = { tool: 'tool', prompt: 'prompt', template: 'resource template' };

/** What names an item within its kind: a tool's or prompt's name, a template's uriTemplate. */
export function keyOf(kind: PinKind, item: unknown): string | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const v = (item as Record<string, unknown>)[kind === 'template' ? 'uriTemplate' : 'name'];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * How a person and the config name an item: a tool by its name, a prompt as `prompt:NAME`, a
 * template as `template:URI_TEMPLATE` (the keys of `servers.<name>.pins`).
 */
export function pinId(kind: PinKind, key: string): string {
  return kind === 'tool' ? key : `${kind}:${key}`;
}

/** The definition of an item: its kind and the fields of FIELDS that it has. */
export function definitionOf(kind: PinKind, item: Record<string, unknown>): Record<string, unknown> {
  const def: Record<string, unknown> = { kind };
  for (const f of FIELDS[kind]) if (item[f] !== undefined) def[f] = item[f];
  return def;
}

/** Stable JSON: object keys sorted at every depth, no whitespace; what the hash is taken of. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  const keys = Object.keys(value);
  // Most objects arrive with few keys, often in order already: sort only when they are not.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function') continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return out + '}';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** One listed item, ready for a decision. */
export interface SeenDefinition {
  kind: PinKind;
  key: string;
  /** Canonical JSON of the definition. */
  canonical: string;
  hash: string;
  hidden: HiddenFinding[];
}

/** What the store knows of one item. */
export interface PinRecord {
  /** The approved definition's hash; undefined when nothing of this item was ever trusted. */
  trusted?: string;
  /** The latest definition seen that is not the trusted one (pending or quarantined), or the trusted one. */
  seen?: string;
  /** The seen definition has hidden text. */
  seenHidden?: boolean;
}

export type ListVerdict =
  | { show: true; pin?: true }
  | { show: false; why: 'changed' | 'new' | 'hidden' | 'strict_unpinned' | 'strict_mismatch'; trusted?: string };

/**
 * May a listed definition be shown? `firstListing` is true for the pages of the first listing of
 * this kind on this server: in tofu mode they pin every clean definition.
 */
export function decideListed(mode: PinMode, configPins: Readonly<Record<string, string>> | undefined, record: PinRecord | undefined, seen: SeenDefinition, firstListing: boolean): ListVerdict {
  if (mode === 'off') return { show: true };
  if (mode === 'strict') {
    // The config's author pinned this exact hash: that is the approval, hidden text or not.
    const want = configPins?.[pinId(seen.kind, seen.key)]?.toLowerCase();
    if (want === seen.hash) return { show: true };
    return { show: false, why: want === undefined ? 'strict_unpinned' : 'strict_mismatch', trusted: want };
  }
  if (record?.trusted === seen.hash) return { show: true };
  if (record?.trusted === undefined && firstListing && seen.hidden.length === 0) return { show: true, pin: true };
  return { show: false, why: seen.hidden.length ? 'hidden' : record?.trusted !== undefined ? 'changed' : 'new', trusted: record?.trusted };
}

/**
 * May a call (tools/call, prompts/get, a completion of a prompt or template) reach the upstream?
 * `sessionHash` is the definition this session's upstream last listed under that key; without it
 * the store's latest seen one stands in. `listed` says whether this kind was ever listed on this
 * server: before the first listing nothing is pinned yet and a tofu call passes.
 */
export function decideCall(
  mode: PinMode,
  configPins: Readonly<Record<string, string>> | undefined,
  server: string,
  kind: PinKind,
  key: string,
  record: PinRecord | undefined,
  sessionHash: string | undefined,
  listed: boolean,
): Denial | undefined {
  if (mode === 'off') return undefined;
  const h = sessionHash ?? record?.seen ?? record?.trusted;
  const id = pinId(kind, key);
  const what = `${WHAT[kind]} ${quote(key)}`;
  if (mode === 'strict') {
    const want = configPins?.[id]?.toLowerCase();
    if (want === undefined) return { rule: 'pinning', reason: `${what} is not pinned in servers.${server}.pins (strict pinning); see \`mcp-guard pins list --server ${server}\`` };
    if (h === undefined) return { rule: 'pinning', reason: `${what} has not been listed through mcp-guard yet, so its definition cannot be checked against its pin (strict pinning); list it first` };
    if (h !== want) return { rule: 'pinning', reason: `the definition of ${what} does not match its pin in servers.${server}.pins (strict pinning); see \`mcp-guard pins list --server ${server}\`` };
    return undefined;
  }
  if (h === undefined) {
    if (!listed) return undefined;
    return { rule: 'pinning', reason: `${what} was not in the first listing of ${server} and is quarantined until a person approves it: review it with \`mcp-guard pins list --server ${server}\`` };
  }
  if (record?.trusted === h) return undefined;
  return { rule: 'pinning', reason: reviewReason(server, kind, key, record?.trusted === undefined ? (record?.seenHidden ? 'hidden' : 'new') : record?.seenHidden ? 'hidden' : 'changed') };
}

/** The sentence a client and the audit log get for a quarantined item: what happened and how to review it. */
export function reviewReason(server: string, kind: PinKind, key: string, why: 'changed' | 'new' | 'hidden'): string {
  const id = pinId(kind, key);
  const what = `${WHAT[kind]} ${quote(key)}`;
  const arg = /^[A-Za-z0-9_.:\/-]+$/.test(id) ? id : `'${id.replace(/'/g, `'\\''`)}'`;
  const how = `review it with \`mcp-guard pins diff ${server} ${arg}\`, then \`mcp-guard pins approve ${server} ${arg}\``;
  switch (why) {
    case 'changed':
      return `the definition of ${what} changed since it was pinned; it is quarantined until a person approves the change: ${how}`;
    case 'new':
      return `${what} appeared after the first listing of ${server}; it is quarantined until a person approves it: ${how}`;
    case 'hidden':
      return `the definition of ${what} contains hidden text (invisible, bidi or control characters); it is quarantined until a person approves it: ${how}`;
  }
}

// ---- resource templates -------------------------------------------------------------------

const TEMPLATE_EXPR = /\{([+#./;?&]?)[^{}]*\}/g;
const RE2_SPECIAL = /[\\^$.*+?()[\]{}|]/g;

/**
 * An RE2 matching every URI the RFC 6570 template can expand to, generously (a quarantined
 * template refuses more rather than less). Undefined for a template that is not one.
 */
export function templateMatcher(template: string): RE2 | undefined {
  if (template.length > 4096 || /[{}]/.test(template.replace(TEMPLATE_EXPR, ''))) return undefined;
  let src = '^';
  let last = 0;
  for (const m of template.matchAll(TEMPLATE_EXPR)) {
    src += template.slice(last, m.index).replace(RE2_SPECIAL, '\\$&');
    last = m.index! + m[0].length;
    switch (m[1]) {
      case '+':
      case '#':
        src += '.*';
        break;
      case '/':
        src += '(?:/[^?#]*)*';
        break;
      case '?':
      case '&':
        src += '(?:[?&][^#]*)?';
        break;
      case '.':
        src += '(?:\\.[^/?#]*)*';
        break;
      case ';':
        src += '(?:;[^/?#]*)*';
        break;
      default:
        src += '[^/?#]*';
    }
  }
  src += template.slice(last).replace(RE2_SPECIAL, '\\$&') + '$';
  try {
    return new RE2(src, 's');
  } catch {
    return undefined;
  }
}

/** Whether `uri` (in any of its readings) is an expansion of the template. */
export function uriMatchesTemplate(matcher: RE2, uri: string): boolean {
  if (matcher.test(uri)) return true;
  const n = normalizeUri(uri);
  return n.ok && n.forms.some((f) => matcher.test(f));
}
