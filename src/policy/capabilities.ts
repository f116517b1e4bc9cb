// What a caller is shown: list responses filtered to what it may use, and capabilities that
// are denied entirely not advertised (server side in the initialize and server/discover results;
// client side the sampling/elicitation capabilities in the initialize request, and in the 2026
// per-request `_meta` envelope, when the policy disables them). Results the policy shapes per
// caller are never marked shareable between callers (2026 cache hints).
import { CLIENT_CAPABILITIES_KEY, MODERN_VERSIONS } from '../protocol/era.js';
import type { CompiledPolicy } from './compiled.js';

/** Methods whose results are filtered, with the array and the field checked in each item. */
const LISTS: Record<string, { array: string; field: string; check: 'tool' | 'resource' | 'template' | 'prompt' }> = {
  'tools/list': { array: 'tools', field: 'name', check: 'tool' },
  'resources/list': { array: 'resources', field: 'uri', check: 'resource' },
  'resources/templates/list': { array: 'resourceTemplates', field: 'uriTemplate', check: 'template' },
  'prompts/list': { array: 'prompts', field: 'name', check: 'prompt' },
};

export function isFilteredListMethod(method: string): boolean {
  return Object.prototype.hasOwnProperty.call(LISTS, method);
}

function allowed(c: CompiledPolicy, check: 'tool' | 'resource' | 'template' | 'prompt', v: unknown): boolean {
  if (c.denyAll) return false;
  const p = c.permissions;
  switch (check) {
    case 'tool':
      return p.checkTool(v) === undefined;
    case 'resource':
      return p.checkResource(v) === undefined;
    case 'template':
      return p.checkResourceTemplate(v) === undefined;
    case 'prompt':
      return p.checkPrompt(v) === undefined;
  }
}

/**
 * The filtered result of a list response, or undefined when nothing had to change. Items that
 * are not objects or lack the checked field are dropped; a missing or non-array list becomes [].
 */
export function filterListResult(method: string, result: unknown, c: CompiledPolicy): Record<string, unknown> | undefined {
  const spec = LISTS[method];
  if (!spec || result === null || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  const items = r[spec.array];
  if (!Array.isArray(items)) return { ...r, [spec.array]: [] };
  let kept: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const ok = it !== null && typeof it === 'object' && allowed(c, spec.check, (it as Record<string, unknown>)[spec.field]);
    if (!ok && !kept) kept = items.slice(0, i);
    else if (ok && kept) kept.push(it);
  }
  return kept ? { ...r, [spec.array]: kept } : undefined;
}

/** The initialize result without capabilities the caller can never use, or undefined if unchanged. */
export function filterInitializeResult(result: unknown, c: CompiledPolicy): Record<string, unknown> | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  const caps = r.capabilities;
  if (caps === null || typeof caps !== 'object') return undefined;
  const drop: string[] = [];
  const p = c.permissions;
  if (c.denyAll || p.noTools) drop.push('tools');
  if (c.denyAll || p.noResources) drop.push('resources');
  if (c.denyAll || p.noPrompts) drop.push('prompts');
  const present = drop.filter((k) => Object.prototype.hasOwnProperty.call(caps, k));
  if (present.length === 0) return undefined;
  const nextCaps = { ...(caps as Record<string, unknown>) };
  for (const k of present) delete nextCaps[k];
  return { ...r, capabilities: nextCaps };
}

/** Client capabilities without what the policy disables, or undefined if nothing had to go. */
function withoutDisabled(caps: unknown, c: CompiledPolicy): Record<string, unknown> | undefined {
  if (caps === null || typeof caps !== 'object') return undefined;
  const drop: string[] = [];
  if (!c.sampling.enabled) drop.push('sampling');
  if (!c.elicitation.enabled) drop.push('elicitation');
  const present = drop.filter((k) => Object.prototype.hasOwnProperty.call(caps, k));
  if (present.length === 0) return undefined;
  const nextCaps = { ...(caps as Record<string, unknown>) };
  for (const k of present) delete nextCaps[k];
  return nextCaps;
}

/**
 * The client's initialize params without `sampling` / `elicitation` capabilities that the policy
 * disables (so the server does not try), or undefined if unchanged.
 */
export function filterInitializeRequest(params: unknown, c: CompiledPolicy): Record<string, unknown> | undefined {
  if (params === null || typeof params !== 'object') return undefined;
  const pr = params as Record<string, unknown>;
  const nextCaps = withoutDisabled(pr.capabilities, c);
  return nextCaps ? { ...pr, capabilities: nextCaps } : undefined;
}

/**
 * The same for a 2026 request, whose capabilities travel in each request's `_meta` envelope:
 * the params with the envelope's client capabilities stripped, or undefined if unchanged.
 */
export function filterRequestCapabilities(params: unknown, c: CompiledPolicy): Record<string, unknown> | undefined {
  if (params === null || typeof params !== 'object') return undefined;
  const pr = params as Record<string, unknown>;
  const meta = pr._meta;
  if (meta === null || typeof meta !== 'object') return undefined;
  const nextCaps = withoutDisabled((meta as Record<string, unknown>)[CLIENT_CAPABILITIES_KEY], c);
  return nextCaps ? { ...pr, _meta: { ...(meta as Record<string, unknown>), [CLIENT_CAPABILITIES_KEY]: nextCaps } } : undefined;
}

/**
 * A server/discover result filtered as an initialize result is, and offering only the protocol
 * revisions whose rules mcp-guard enforces (a client then never picks one it cannot inspect).
 * Undefined if unchanged.
 */
export function filterDiscoverResult(result: unknown, c: CompiledPolicy): Record<string, unknown> | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  let r = filterInitializeResult(result, c) ?? (result as Record<string, unknown>);
  const versions = r.supportedVersions;
  if (Array.isArray(versions) && versions.some((v) => !MODERN_VERSIONS.includes(v))) {
    r = { ...r, supportedVersions: versions.filter((v) => MODERN_VERSIONS.includes(v)) };
  }
  return r === result ? undefined : r;
}

/** Results of these methods may carry 2026 cache hints, and depend on the caller behind mcp-guard. */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read', 'server/discover']);

/**
 * A cacheable result marked `cacheScope: "private"` when it carries a cache hint and is not already:
 * what the caller sees depends on its identity (lists filtered, reads permitted, capabilities
 * removed), so a shared cache must never hand it to another caller. Undefined if unchanged.
 */
export function privateCacheScope(method: string, result: unknown): Record<string, unknown> | undefined {
  if (!CACHEABLE.has(method) || result === null || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  if (r.cacheScope === 'private' || (r.cacheScope === undefined && r.ttlMs === undefined)) return undefined;
  return { ...r, cacheScope: 'private' };
}
