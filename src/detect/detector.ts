// A detector is the compiled form of one `pii` config: built-in rules plus custom types, their RE2
// programs, one RE2.Set to pick which rules can match a text, resolved actions and allowlists.
// Compiled once per config (in each worker); pure afterwards.
import { createHmac } from 'node:crypto';
import RE2 from 're2';
import type { Action, PiiConfig } from '../config/pii-schema.js';
import { RULES, type DirectionActions, type Rule } from './rules.js';
import { VALIDATORS, entropy } from './validators.js';

export type ScanDirection = 'request' | 'response';

export interface CompiledRule {
  rule: Rule;
  re: RE2;
  validate?: (s: string) => boolean;
  keywords?: string[];
}

interface CompiledAllow {
  type?: string;
  literal?: string;
  re?: RE2;
  tool?: string;
  path?: string;
}

export interface Detector {
  readonly rules: readonly CompiledRule[];
  readonly set: InstanceType<typeof RE2.Set>;
  /** Rules that may also match `key=value` of a field. */
  readonly assignmentSet?: InstanceType<typeof RE2.Set>;
  readonly assignmentRules: readonly number[];
  readonly pii: PiiConfig;
  action(rule: Rule, direction: ScanDirection): Action;
  allowed(rule: Rule, value: string, path: string, tool: string | undefined): boolean;
  hash(value: string): string;
}

export interface PiiProblem {
  path: (string | number)[];
  message: string;
}

/** The built-in rules plus the config's custom types, as rules. Throws on an invalid custom pattern. */
export function customRules(pii: PiiConfig): Rule[] {
  const out: Rule[] = [];
  for (const [key, ct] of Object.entries(pii.custom_types ?? {})) {
    ct.patterns.forEach((p, i) => {
      const where = `pii.custom_types.${key}.patterns[${i}].regex`;
      try {
        new RE2(p.regex, 'u');
      } catch (e) {
        throw new Error(`${where}: custom type '${key}' has a pattern RE2 cannot compile (${(e as Error).message})`);
      }
      if (ct.validator !== undefined && !VALIDATORS[ct.validator]) {
        throw new Error(`pii.custom_types.${key}.validator: unknown validator '${ct.validator}' (known: ${Object.keys(VALIDATORS).join(', ')})`);
      }
      const kw = (ct.keywords ?? []).map((k) => k.toLowerCase());
      out.push({
        id: `custom_${key}_${i}`,
        type: key,
        description: ct.label ?? key,
        pattern: p.regex,
        ...(kw.length ? { keywords: kw, context: true } : {}),
        ...(ct.validator ? { validator: ct.validator } : {}),
        actions: { request: ct.actions?.request ?? 'block', response: ct.actions?.response ?? 'redact' },
        examples: { match: [], noMatch: [] },
      });
    });
  }
  return out;
}

/** Problems in a `pii` section, with their path inside it, for the config loader to report. */
export function validatePiiConfig(pii: Partial<PiiConfig>): PiiProblem[] {
  const problems: PiiProblem[] = [];
  for (const [key, ct] of Object.entries(pii.custom_types ?? {})) {
    (ct?.patterns ?? []).forEach((p, i) => {
      try {
        new RE2(p.regex, 'u');
      } catch (e) {
        problems.push({
          path: ['custom_types', key, 'patterns', i, 'regex'],
          message: `custom type '${key}': pattern is not valid RE2 (${(e as Error).message}); RE2 has no look-around or back-references`,
        });
      }
    });
    if (ct?.validator !== undefined && !VALIDATORS[ct.validator]) {
      problems.push({ path: ['custom_types', key, 'validator'], message: `custom type '${key}': unknown validator '${ct.validator}'` });
    }
  }
  (pii.allowlist ?? []).forEach((a, i) => {
    if (a.regex === undefined) return;
    try {
      new RE2(a.regex, 'u');
    } catch (e) {
      problems.push({ path: ['allowlist', i, 'regex'], message: `allowlist pattern is not valid RE2 (${(e as Error).message})` });
    }
  });
  return problems;
}

const RANK: Record<Action, number> = { allow: 0, warn: 1, mask: 2, hash: 3, redact: 4, block: 5 };
export const actionRank = (a: Action): number => RANK[a];
export const stricter = (a: Action, b: Action): Action => (RANK[a] >= RANK[b] ? a : b);

export function compileDetector(pii: PiiConfig, hashKey: Buffer): Detector {
  const disabled = new Set(pii.disabled_types ?? []);
  const all = [...RULES, ...customRules(pii)].filter((r) => !disabled.has(r.id) && !disabled.has(r.type));
  const rules: CompiledRule[] = all.map((rule) => {
    const c: CompiledRule = { rule, re: new RE2(rule.pattern, 'g' + (rule.flags ?? '')) };
    if (rule.validator) {
      const v = VALIDATORS[rule.validator];
      if (!v) throw new Error(`rule ${rule.id}: unknown validator ${rule.validator}`);
      c.validate = v;
    }
    if (rule.context && rule.keywords?.length) c.keywords = rule.keywords;
    return c;
  });
  const sources = rules.map((c) => (c.rule.flags === 'i' ? `(?i:${c.rule.pattern})` : c.rule.pattern));
  const set = new RE2.Set(sources, 'u');
  const assignmentRules = rules.map((c, i) => (c.rule.assignment ? i : -1)).filter((i) => i >= 0);
  const assignmentSet = assignmentRules.length ? new RE2.Set(assignmentRules.map((i) => sources[i]!), 'u') : undefined;

  const allow: CompiledAllow[] = (pii.allowlist ?? []).map((a) => {
    let tool = a.tool;
    let path = a.path;
    if (tool !== undefined && path === undefined && tool.includes(':')) [tool, path] = tool.split(':', 2) as [string, string];
    return {
      ...(a.type !== undefined ? { type: a.type } : {}),
      ...(a.literal !== undefined ? { literal: a.literal } : {}),
      ...(a.regex !== undefined ? { re: new RE2(`^(?:${a.regex})$`, 'u') } : {}),
      ...(tool !== undefined ? { tool } : {}),
      ...(path !== undefined ? { path } : {}),
    };
  });

  const actionsCache = new Map<string, Action>();
  return {
    rules,
    set,
    assignmentSet,
    assignmentRules,
    pii,
    action(rule, direction) {
      const k = rule.id + '\0' + direction;
      let a = actionsCache.get(k);
      if (a === undefined) {
        const cfg = pii.actions ?? {};
        a = cfg[rule.id]?.[direction] ?? cfg[rule.type]?.[direction] ?? (rule.actions as DirectionActions)[direction];
        actionsCache.set(k, a);
      }
      return a;
    },
    allowed(rule, value, path, tool) {
      for (const a of allow) {
        if (a.type !== undefined && a.type !== rule.type && a.type !== rule.id) continue;
        if (a.tool !== undefined && a.tool !== tool) continue;
        if (a.path !== undefined && !pathMatches(path, a.path)) continue;
        if (a.literal !== undefined && !literalMatches(value, a.literal)) continue;
        if (a.re !== undefined && !a.re.test(value)) continue;
        return true;
      }
      return false;
    },
    hash(value) {
      return createHmac('sha256', hashKey).update(value).digest('hex').slice(0, 16);
    },
  };
}

function pathMatches(path: string, want: string): boolean {
  return path === want || path === `params.arguments.${want}` || path.endsWith(`.${want}`);
}

function literalMatches(value: string, literal: string): boolean {
  if (value === literal || value.toLowerCase() === literal.toLowerCase()) return true;
  const strip = (s: string): string => s.replace(/[\s.-]/g, '');
  return strip(value) === strip(literal);
}

/** True when `value` passes the rule's validator and entropy threshold. */
export function accepts(c: CompiledRule, value: string): boolean {
  if (c.validate && !c.validate(value)) return false;
  if (c.rule.entropy !== undefined && entropy(value) < c.rule.entropy) return false;
  return true;
}
