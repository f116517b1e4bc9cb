// Argument rules: conditions on tools/call arguments addressed by a JSON path.
// glob / regex / enum are the rule's match conditions (all that are given must hold): `deny`
// refuses when the argument matches, `require` refuses when it does not match or is missing.
// min / max / max_length are limits: a value outside them is refused whatever the action.
// Arrays are looked through (every element is checked), so `["ok", "/etc/passwd"]` cannot hide
// a value from a rule written for a string.
import RE2 from 're2';
import type { ApprovalRule, ArgumentRule } from '../config/policy-schema.js';
import { compilePatterns, normalizeName, nfkc, parsePattern, PatternCompileError, quote, type PatternSet } from './pattern.js';
import { pathForms } from './uri.js';
import type { Denial } from './permissions.js';

/** Longest string a regex condition is run on; longer cannot be verified and is refused. */
export const MAX_REGEX_INPUT = 1 << 20;
const MAX_LEAVES = 10_000;
const MAX_DEPTH = 32;

const WILDCARD = Symbol('wildcard');
type Seg = string | number | typeof WILDCARD;

/** Parses `options.paths[0]`, `items[*].name`, `a.*`, `["key.with.dots"]`. */
export function parseJsonPath(path: string, where: string): Seg[] {
  const segs: Seg[] = [];
  let i = 0;
  const n = path.length;
  const fail = (why: string): never => {
    throw new PatternCompileError(where, `invalid path ${quote(path)}: ${why}`);
  };
  while (i < n) {
    const c = path[i]!;
    if (c === '.') {
      if (i === 0 || i === n - 1) fail('a path cannot start or end with "."');
      i++;
      continue;
    }
    if (c === '[') {
      const end = path.indexOf(']', i);
      if (end < 0) fail('unclosed "["');
      const inner = path.slice(i + 1, end).trim();
      if (inner === '*') segs.push(WILDCARD);
      else if (/^\d+$/.test(inner)) segs.push(Number(inner));
      else if (/^(['"]).*\1$/.test(inner)) segs.push(inner.slice(1, -1));
      else fail(`cannot read ${quote(inner)} inside brackets`);
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < n && path[j] !== '.' && path[j] !== '[') j++;
    const key = path.slice(i, j);
    segs.push(key === '*' ? WILDCARD : key);
    i = j;
  }
  if (segs.length === 0) fail('empty path');
  return segs;
}

function resolve(root: unknown, segs: readonly Seg[], out: unknown[]): void {
  const walk = (v: unknown, k: number) => {
    if (out.length > MAX_LEAVES) return;
    if (k === segs.length) {
      out.push(v);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const s = segs[k]!;
    if (s === WILDCARD) {
      const vals = Array.isArray(v) ? v : Object.values(v);
      for (const x of vals) walk(x, k + 1);
      return;
    }
    if (Array.isArray(v)) {
      const idx = typeof s === 'number' ? s : /^\d+$/.test(s) ? Number(s) : -1;
      if (idx >= 0 && idx < v.length) walk(v[idx], k + 1);
      return;
    }
    const key = String(s);
    if (Object.prototype.hasOwnProperty.call(v, key)) walk((v as Record<string, unknown>)[key], k + 1);
  };
  walk(root, 0);
}

/** Scalars under a value: arrays are flattened; objects are kept whole (the caller decides). */
function leaves(v: unknown, out: unknown[], depth = 0): boolean {
  if (out.length > MAX_LEAVES || depth > MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (!leaves(x, out, depth + 1)) return false;
    return true;
  }
  out.push(v);
  return true;
}

/** Every string inside an object, for deny rules that meet an object where a string was expected. */
function deepStrings(v: unknown, out: string[], depth = 0): boolean {
  if (out.length > MAX_LEAVES || depth > MAX_DEPTH) return false;
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
  else if (v && typeof v === 'object') {
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (!deepStrings(x, out, depth + 1)) return false;
  }
  return true;
}

interface CompiledRule {
  label: string;
  rule: ApprovalRule;
  tools: PatternSet;
  /** Absent (an approval rule without a path): the rule applies to every call of its tools. */
  segs?: Seg[];
  glob?: PatternSet;
  regex?: RE2;
  enumStrings?: Set<string>;
  enumOthers?: Set<number | boolean>;
  hasMatch: boolean;
  deny: boolean;
}

function compileRegex(src: string, where: string): RE2 {
  let source = src;
  let flags = '';
  const p = parsePattern(src, 'name');
  if (p.form === 'regex') {
    source = p.source;
    flags = p.flags;
  }
  try {
    return new RE2(source, flags);
  } catch (e) {
    throw new PatternCompileError(where, `RE2 cannot compile this regex: ${(e as Error).message}`);
  }
}

function compileRule(rule: ApprovalRule, label: string): CompiledRule {
  const deny = rule.action !== 'require';
  const c: CompiledRule = {
    label,
    rule,
    deny,
    // Matching the tool case-insensitively applies a rule to more calls, which is stricter for both actions.
    tools: compilePatterns([rule.tool], { kind: 'name', caseInsensitive: true, label: `${label}.tool` }),
    segs: rule.path === undefined ? undefined : parseJsonPath(rule.path, `${label}.path`),
    hasMatch: rule.glob !== undefined || rule.regex !== undefined || rule.enum !== undefined,
  };
  if (c.segs === undefined && (c.hasMatch || rule.min !== undefined || rule.max !== undefined || rule.max_length !== undefined || rule.action === 'require')) {
    throw new PatternCompileError(`${label}.path`, 'a condition needs the path of the argument it is about; without a path the rule holds every call of the tool');
  }
  if (rule.glob !== undefined)
    c.glob = compilePatterns([rule.glob], { kind: 'path', caseInsensitive: deny, label: `${label}.glob` });
  if (rule.regex !== undefined) c.regex = compileRegex(rule.regex, `${label}.regex`);
  if (rule.enum !== undefined) {
    c.enumStrings = new Set();
    c.enumOthers = new Set();
    for (const e of rule.enum) {
      if (typeof e === 'string') c.enumStrings.add(deny ? nfkc(e).toLowerCase() : nfkc(e));
      else c.enumOthers.add(e);
    }
  }
  return c;
}

type Match = 'yes' | 'no' | { unverifiable: string };

/** Do all given match conditions hold for one scalar? deny: any reading; require: every reading. */
function matches(c: CompiledRule, v: unknown): Match {
  if (v === null || v === undefined) return 'no';
  if (typeof v === 'object') return { unverifiable: 'is an object where a value was expected' };
  const s = typeof v === 'string' ? v : String(v);
  if (c.enumStrings) {
    let hit: boolean;
    if (typeof v === 'string') hit = c.enumStrings.has(c.deny ? nfkc(s).toLowerCase() : s) && (c.deny || nfkc(s) === s);
    else hit = c.enumOthers!.has(v as number | boolean) || (c.deny && c.enumStrings.has(s));
    if (!hit) return 'no';
  }
  if (c.glob) {
    const f = pathForms(s);
    if (!f.ok) return { unverifiable: f.reason };
    const hit = c.deny ? f.forms.some((x) => c.glob!.matchIndex(x) >= 0) : f.forms.every((x) => c.glob!.matchIndex(x) >= 0);
    if (!hit) return 'no';
  }
  if (c.regex) {
    if (s.length > MAX_REGEX_INPUT) return { unverifiable: `is longer than ${MAX_REGEX_INPUT} characters` };
    const n = nfkc(s);
    const hit = c.deny ? c.regex.test(s) || (n !== s && c.regex.test(n)) : c.regex.test(s) && (n === s || c.regex.test(n));
    if (!hit) return 'no';
  }
  return 'yes';
}

function boundsViolation(r: ApprovalRule, v: unknown): string | undefined {
  if (r.min !== undefined || r.max !== undefined) {
    const num = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(num)) return 'must be a number';
    if (r.min !== undefined && num < r.min) return `must be at least ${r.min}`;
    if (r.max !== undefined && num > r.max) return `must be at most ${r.max}`;
  }
  if (r.max_length !== undefined) {
    let len: number;
    if (typeof v === 'string') len = v.length;
    else if (v !== null && typeof v === 'object') {
      try {
        len = JSON.stringify(v).length;
      } catch {
        len = Infinity;
      }
    } else len = String(v).length;
    if (len > r.max_length) return `is longer than ${r.max_length} characters`;
  }
  return undefined;
}

export interface CompiledArgumentRules {
  readonly size: number;
  /** Checks a tools/call. `args` is params.arguments (may be missing). */
  check(toolName: unknown, args: unknown): Denial | undefined;
}

function refuse(c: CompiledRule, tool: string, why: string): Denial {
  if (c.rule.path === undefined) {
    const what = `every call of tool ${quote(tool, 60)}`;
    return { rule: c.label, reason: c.rule.reason ? `${c.rule.reason} (${what})` : what };
  }
  const arg = quote(c.rule.path, 60);
  const reason = c.rule.reason
    ? `${c.rule.reason} (argument ${arg} of tool ${quote(tool, 60)} ${why})`
    : `argument ${arg} of tool ${quote(tool, 60)} ${why}`;
  return { rule: c.label, reason };
}

function evaluate(c: CompiledRule, tool: string, args: unknown): Denial | undefined {
  if (c.segs === undefined) return refuse(c, tool, '');
  const found: unknown[] = [];
  resolve(args, c.segs, found);
  const flat: unknown[] = [];
  for (const v of found) if (!leaves(v, flat)) return refuse(c, tool, 'is too deeply nested or too large to check');
  if (flat.length > MAX_LEAVES) return refuse(c, tool, 'has too many values to check');
  if (flat.length === 0) return c.deny ? undefined : refuse(c, tool, 'is required');
  for (const v of flat) {
    const b = boundsViolation(c.rule, v);
    if (b) return refuse(c, tool, b);
    if (!c.hasMatch) continue;
    if (c.deny) {
      // An object where a string was expected: every string inside it is checked.
      if (v !== null && typeof v === 'object') {
        const strs: string[] = [];
        if (!deepStrings(v, strs)) return refuse(c, tool, 'is too deeply nested to check');
        for (const s of strs) {
          const m = matches(c, s);
          if (m !== 'no') return refuse(c, tool, m === 'yes' ? 'matches a denied condition' : `cannot be checked: it ${m.unverifiable}`);
        }
        continue;
      }
      const m = matches(c, v);
      if (m !== 'no') return refuse(c, tool, m === 'yes' ? 'matches a denied condition' : `cannot be checked: it ${m.unverifiable}`);
    } else {
      if (v === null || v === undefined) return refuse(c, tool, 'is required');
      const m = matches(c, v);
      if (m !== 'yes')
        return refuse(c, tool, m === 'no' ? 'does not match the required condition' : `cannot be checked: it ${m.unverifiable}`);
    }
  }
  return undefined;
}

/** Compiles argument rules; `label` prefixes rule names (`argument_rules[2]`), counted from `first`. */
export function compileArgumentRules(rules: readonly ArgumentRule[] | undefined, label = 'argument_rules', first = 0): CompiledArgumentRules {
  const m = compileMatcher(rules, label, first);
  return {
    size: m.size,
    check(toolName: unknown, args: unknown): Denial | undefined {
      let first: Denial | undefined;
      m.each(toolName, args, (d) => {
        first = d;
        return false;
      });
      return first;
    },
  };
}

export interface ApprovalHold extends Denial {
  /** Who decides: cli unless every rule that holds the call says client. */
  via: 'cli' | 'client';
}

export interface CompiledApprovalRules {
  readonly size: number;
  /** Why a tools/call must wait for a person, or undefined when no rule holds it. */
  check(toolName: unknown, args: unknown): ApprovalHold | undefined;
}

/**
 * Approval rules: the conditions of argument rules, where a call a rule would refuse is held
 * instead. Every matching rule is read, so that one `via: cli` rule keeps the decision with a person.
 */
export function compileApprovalRules(rules: readonly ApprovalRule[] | undefined, label = 'approval', first = 0): CompiledApprovalRules {
  const m = compileMatcher(rules, label, first);
  return {
    size: m.size,
    check(toolName: unknown, args: unknown): ApprovalHold | undefined {
      let hold: ApprovalHold | undefined;
      m.each(toolName, args, (d, rule) => {
        const via = rule?.via === 'client' ? 'client' : 'cli';
        if (!hold) hold = { ...d, via };
        else if (via === 'cli') hold.via = 'cli';
        return hold.via === 'client';
      });
      return hold;
    },
  };
}

/** The rules of one list, and a walk over those a call breaks (`visit` returns false to stop). `first`: the index of rules[0] in its list. */
function compileMatcher(rules: readonly ApprovalRule[] | undefined, label: string, first: number) {
  const compiled = (rules ?? []).map((r, i) => compileRule(r, `${label}[${first + i}]`));
  const n = compiled.length;
  // Every rule's tool in one set: a call of a tool no rule names costs one look-up, not one per rule.
  const anyTool = n ? compilePatterns(compiled.map((c) => c.rule.tool), { kind: 'name', caseInsensitive: true, label: `${label}.tool` }) : undefined;
  return {
    size: n,
    each(toolName: unknown, args: unknown, visit: (d: Denial, rule?: ApprovalRule) => boolean): void {
      if (n === 0) return;
      const name = normalizeName(toolName, 'tool');
      // A name that cannot be read is caught by every rule (fail closed).
      if (!name.ok) {
        visit({ rule: label, reason: name.reason });
        return;
      }
      let named = false;
      for (const f of name.forDeny) if (anyTool!.matchIndex(f) >= 0) named = true;
      if (!named) return;
      for (let i = 0; i < n; i++) {
        const c = compiled[i]!;
        let applies = false;
        for (const f of name.forDeny) if (c.tools.matchIndex(f) >= 0) applies = true;
        if (!applies) continue;
        const d = evaluate(c, String(toolName), args);
        if (d && !visit(d, c.rule)) return;
      }
    },
  };
}
