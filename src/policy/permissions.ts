// Which tools, resources, resource templates and prompts a caller may use, from the
// allowed_* / denied_* lists. Denied wins; a present allow list (even empty) admits only what is
// on it; an absent one admits everything. Every `also_allowed_*` list is one more allow list.
import type { Permissions } from '../config/policy-schema.js';
import { compilePatterns, normalizeName, quote, type PatternKind, type PatternSet } from './pattern.js';
import { normalizeUri } from './uri.js';

/** Why something was refused: the rule (config path) and a sentence for a person. */
export interface Denial {
  rule: string;
  reason: string;
}

interface Lists {
  deny: PatternSet | undefined;
  /** The value must pass every one of these. */
  allow: PatternSet[];
}

export interface CompiledPermissions {
  checkTool(name: unknown): Denial | undefined;
  checkPrompt(name: unknown): Denial | undefined;
  checkResource(uri: unknown): Denial | undefined;
  /** A `uriTemplate` from resources/templates/list, matched as written (braces literal). */
  checkResourceTemplate(template: unknown): Denial | undefined;
  /** True when no tool / resource / prompt can pass: the capability is not advertised. */
  readonly noTools: boolean;
  readonly noResources: boolean;
  readonly noPrompts: boolean;
}

type Family = 'tools' | 'resources' | 'prompts';
const KIND: Record<Family, PatternKind> = { tools: 'name', resources: 'uri', prompts: 'name' };

function compileLists(p: Permissions | undefined, family: Family): Lists {
  const kind = KIND[family];
  const denied = p?.[`denied_${family}`];
  const allowed = p?.[`allowed_${family}`];
  const also = p?.[`also_allowed_${family}`];
  const deny = denied
    ? compilePatterns(denied, { kind, caseInsensitive: true, label: `permissions.denied_${family}` })
    : undefined;
  const allow: PatternSet[] = [];
  if (allowed) allow.push(compilePatterns(allowed, { kind, caseInsensitive: false, label: `permissions.allowed_${family}` }));
  also?.forEach((list, i) =>
    allow.push(compilePatterns(list, { kind, caseInsensitive: false, label: `permissions.also_allowed_${family}[${i}]` })),
  );
  return { deny, allow };
}

function isClosed(l: Lists): boolean {
  return l.allow.some((s) => s.patterns.length === 0) || (l.deny?.matchesEverything ?? false);
}

const WHAT: Record<Family, string> = { tools: 'tool', resources: 'resource', prompts: 'prompt' };

function checkForms(l: Lists, family: Family, shown: unknown, forDeny: readonly string[], forAllow: readonly string[]): Denial | undefined {
  const what = WHAT[family];
  if (l.deny) {
    for (const f of forDeny) {
      const i = l.deny.matchIndex(f);
      if (i >= 0)
        return {
          rule: `${l.deny.label}[${i}]`,
          reason: `${what} ${quote(shown)} is denied by the pattern ${quote(l.deny.patterns[i])}`,
        };
    }
  }
  for (const set of l.allow) {
    for (const f of forAllow) {
      if (set.matchIndex(f) < 0)
        return { rule: set.label, reason: `${what} ${quote(shown)} is not on the allowed list ${set.label}` };
    }
  }
  return undefined;
}

/** Decisions remembered per checker: a server has few tool and prompt names, called over and over. */
const NAME_MEMO_MAX = 4096;

function nameChecker(l: Lists, family: 'tools' | 'prompts') {
  const active = l.deny !== undefined || l.allow.length > 0;
  const check = (raw: unknown): Denial | undefined => {
    const n = normalizeName(raw, WHAT[family]);
    if (!n.ok) return { rule: `permissions.${family}`, reason: n.reason };
    // Allow lists see the NFKC form and the raw form: the server receives the raw one.
    const forAllow = n.value === raw ? [n.value] : [n.value, raw as string];
    return checkForms(l, family, raw, n.forDeny, forAllow);
  };
  // The decision is a pure function of the name and these compiled lists (a reload compiles new
  // ones), so it is kept: the same name is never normalised and matched twice.
  const memo = new Map<string, Denial | undefined>();
  return (raw: unknown): Denial | undefined => {
    if (!active) return undefined;
    if (typeof raw !== 'string' || raw.length > 256) return check(raw);
    if (memo.has(raw)) return memo.get(raw);
    const d = check(raw);
    if (memo.size >= NAME_MEMO_MAX) memo.clear();
    memo.set(raw, d === undefined ? undefined : Object.freeze(d));
    return d;
  };
}

/** Compiles the permissions section. Throws PatternCompileError for a bad pattern. */
export function compilePermissions(p: Permissions | undefined): CompiledPermissions {
  const tools = compileLists(p, 'tools');
  const resources = compileLists(p, 'resources');
  const prompts = compileLists(p, 'prompts');
  const resourcesActive = resources.deny !== undefined || resources.allow.length > 0;
  const checkResource = (raw: unknown): Denial | undefined => {
    if (!resourcesActive) return undefined;
    const u = normalizeUri(raw);
    if (!u.ok) return { rule: 'permissions.resources', reason: `resource ${typeof raw === 'string' ? quote(raw) + ' ' : ''}refused: ${u.reason}` };
    return checkForms(resources, 'resources', raw, u.forms, u.forms);
  };
  return {
    checkTool: nameChecker(tools, 'tools'),
    checkPrompt: nameChecker(prompts, 'prompts'),
    checkResource,
    checkResourceTemplate: checkResource,
    noTools: isClosed(tools),
    noResources: isClosed(resources),
    noPrompts: isClosed(prompts),
  };
}
