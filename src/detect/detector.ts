// A detector is the compiled form of one `pii` config: built-in rules plus custom types, their RE2
// programs, the prefilter (a few RE2.Sets run once over all the text of a message to pick which rules
// can match anywhere in it), resolved actions, allowlists and a memo of costly validator verdicts.
// Compiled once per config (in each worker); pure afterwards (the memo only caches pure functions).
//
// The prefilter holds one necessary condition per rule (or family of rules): the `gate` when there is
// one (short patterns written for this), else the pattern without assertions; for a rule that needs
// a keyword, the keyword (its values are looked for once the keyword is seen). The conditions are
// split into a few RE2.Sets: rules whose values have a shape (numbers, tokens), literal-led rules and
// custom rules. The full patterns of 83 rules in one set make a DFA whose states do not fit its cache
// on random text (base64, hashes), which then runs at ~300 ns a byte instead of ~2; measured on the
// legitimate corpus, two sets cost less than one or three.
import { createHmac } from 'node:crypto';
import RE2 from 're2';
import type { Action, PiiConfig } from '../config/pii-schema.js';
import { FAMILY_GATES, RULES, type DirectionActions, type Rule } from './rules.js';
import { CATALOGUE } from './catalogue/index.js';

const VENDOR_IDS = new Set(CATALOGUE.map((r) => r.id));
import { VALIDATORS, entropy } from './validators.js';
import { stripAssertions } from './assertions.js';
import { literalPrefixes } from './literals.js';

export type ScanDirection = 'request' | 'response';

export interface Prefilter {
  set: InstanceType<typeof RE2.Set>;
  entries: readonly (readonly number[])[];
}

/** A rule's necessary condition (see `Rule.gate`); case-insensitive only when the rule is. */
export function ruleGate(rule: Rule): string | undefined {
  if (rule.gate === undefined) return undefined;
  return rule.flags === 'i' ? `(?i:${rule.gate})` : rule.gate;
}

/** The keyword condition of a context rule, over raw JSON or text. */
export function keywordGate(keywords: readonly string[]): string {
  // Not inside a longer word; in raw JSON the character before may end a \n, \r or \t escape.
  const alt = keywords.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return `(?:^|[^A-Za-z]|\\\\[nrt])(?i:${alt})(?:$|[^A-Za-z])`;
}

export interface CompiledRule {
  rule: Rule;
  /** Index in `Detector.rules`. */
  index: number;
  /** The rule's pattern, global; with the `d` flag when the value's offset needs it. */
  re: RE2;
  validate?: (s: string) => boolean;
  keywords?: string[];
  /** Also applied to `key=value` of a field. */
  assignment: boolean;
  /**
   * Applied to values split in two (joins.ts): its joined form can be told from chance, by a checksum
   * (cards, IBANs, national ids with check digits, JWTs) or by a known prefix (`keywords` of a token).
   */
  joinable: boolean;
}

/** Validators strong enough that a joined value passing them is not a coincidence. */
const CHECKSUM_VALIDATORS = new Set(['card', 'luhn', 'iban', 'mod97', 'nhs', 'sin', 'aadhaar', 'de_tax_id', 'bsn', 'tfn', 'aba']);

/**
 * Whether a rule applies to values split in two (`CompiledRule.joinable`): a checksum validator, or a
 * token that is its whole match and starts with a literal prefix (literals.ts; not an assignment or
 * a URL, which start with ordinary words).
 */
export function joinable(rule: Rule): boolean {
  if (rule.validator !== undefined && CHECKSUM_VALIDATORS.has(rule.validator)) return true;
  return !rule.context && !rule.assignment && (rule.group === undefined || rule.boundaryGroup === true) && joinPrefixes(rule) !== undefined;
}

const prefixMemo = new WeakMap<Rule, string[] | undefined>();
/**
 * The literal prefixes that start every match of a token rule, as the rule matches them (lower case
 * when it ignores case), when each is distinctive: five characters, three with a digit or
 * punctuation (`ghp_`, `sk-`, `A3T`), or four with a capital in a rule that keeps case (`AKIA`,
 * `AIza`); not `pat` or `ey`, which start ordinary words. Memoised; undefined for numbers, whose
 * splits the gate watches otherwise.
 */
export function joinPrefixes(rule: Rule): string[] | undefined {
  if (!prefixMemo.has(rule)) {
    const ci = rule.flags === 'i';
    const raw = rule.context || rule.shape === 'number' ? undefined : literalPrefixes(rule.pattern, 3, true);
    const p = raw && (ci ? raw.map((x) => x.toLowerCase()) : raw);
    const distinctive = (x: string): boolean => x.length >= 5 || /[^A-Za-z]/.test(x) || (!ci && x.length >= 4 && /[A-Z]/.test(x));
    prefixMemo.set(rule, p && p.every(distinctive) ? p : undefined);
  }
  return prefixMemo.get(rule);
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
  /**
   * Necessary conditions, for one pass over the strings of a message joined with newlines. Entry `j`
   * of a set is about the rules `entries[j]`: for rules without keywords it matches within any text
   * in which one of them matches; for a rule that needs a keyword it is the keyword (the rule's
   * values are then looked for with `locator`).
   */
  readonly prefilters: readonly Prefilter[];
  /** Context rule `i`'s pattern without assertions, global, compiled on first use: where its values can be. */
  locator(i: number): RE2;
  /** For a rule of a family (`Rule.family`), the family's condition, global: shared by its members. */
  familyLocator(i: number): RE2 | undefined;
  /** Whether a field's key can start a match of an assignment rule in `key=value` (memoised). */
  assignmentKey(key: string): boolean;
  readonly hasAssignmentRules: boolean;
  /** The known prefixes of the joinable tokens (case-insensitive), for joins.ts `worthJoining`. */
  readonly joinPrefix: RegExp | undefined;
  readonly hasAllowlist: boolean;
  readonly pii: PiiConfig;
  action(rule: Rule, direction: ScanDirection): Action;
  allowed(rule: Rule, value: string, path: string, tool: string | undefined): boolean;
  /** `accepts` of rule `c` for `value`; memoised for the costly validators (phone numbers). */
  accepts(c: CompiledRule, value: string): boolean;
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

/** Every built-in type and rule id: the names `pii.actions`, `disabled_types` and allowlists accept. */
export const BUILTIN_TYPES: ReadonlySet<string> = new Set(RULES.flatMap((r) => [r.type, r.id]));

/** Problems in a `pii` section, with their path inside it, for the config loader to report. */
export function validatePiiConfig(pii: Partial<PiiConfig>): PiiProblem[] {
  const problems: PiiProblem[] = [];
  // A misspelt type would configure nothing, silently: name it.
  const known = (t: string) => BUILTIN_TYPES.has(t) || Object.hasOwn(pii.custom_types ?? {}, t);
  const unknown = (t: string) => `unknown type '${t}': not a built-in type or rule id (the README's Detection section lists them) nor a key of pii.custom_types`;
  for (const t of Object.keys(pii.actions ?? {})) if (!known(t)) problems.push({ path: ['actions', t], message: unknown(t) });
  (pii.disabled_types ?? []).forEach((t, i) => {
    if (!known(t)) problems.push({ path: ['disabled_types', i], message: unknown(t) });
  });
  (pii.allowlist ?? []).forEach((a, i) => {
    if (a.type !== undefined && !known(a.type)) problems.push({ path: ['allowlist', i, 'type'], message: unknown(a.type) });
  });
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

/** Validators worth a memo (each call costs tens of microseconds). */
const COSTLY_VALIDATORS = new Set(['phone', 'phone_us']);

const RANK: Record<Action, number> = { allow: 0, warn: 1, mask: 2, hash: 3, redact: 4, block: 5 };
export const actionRank = (a: Action): number => RANK[a];
export const stricter = (a: Action, b: Action): Action => (RANK[a] >= RANK[b] ? a : b);

export function compileDetector(pii: PiiConfig, hashKey: Buffer): Detector {
  const disabled = new Set(pii.disabled_types ?? []);
  const all = [...RULES, ...customRules(pii)].filter((r) => !disabled.has(r.id) && !disabled.has(r.type));
  const rules: CompiledRule[] = all.map((rule, index) => {
    // Indices (the `d` flag, costly) only where the value's offset cannot be found from the match.
    const flags = 'gu' + (rule.group && !rule.boundaryGroup ? 'd' : '') + (rule.flags ?? '');
    // Compiled on first use: most of 400 rules never run on a given worker's traffic, and compiling
    // them all up front kept the first batch of a worker waiting (custom patterns are checked above).
    let re: RE2 | undefined;
    const c: CompiledRule = {
      rule,
      index,
      get re() {
        return (re ??= new RE2(rule.pattern, flags));
      },
      assignment: rule.assignment === true,
      joinable: joinable(rule),
    };
    if (rule.validator) {
      const v = VALIDATORS[rule.validator];
      if (!v) throw new Error(`rule ${rule.id}: unknown validator ${rule.validator}`);
      c.validate = v;
    }
    if (rule.context && rule.keywords?.length) c.keywords = rule.keywords;
    return c;
  });
  const loose = rules.map((c) => {
    const src = stripAssertions(c.rule.pattern);
    return c.rule.flags === 'i' ? `(?i:${src})` : src;
  });
  // Entries grouped into sets: source -> rule indices, per set.
  const groups = new Map<string, Map<string, number[]>>();
  for (const c of rules) {
    const r = c.rule;
    let src: string;
    let group: string;
    if (c.keywords) {
      src = keywordGate(c.keywords);
      group = r.id.startsWith('custom_') ? 'custom' : 'literal';
    } else if (r.id.startsWith('custom_')) {
      src = loose[c.index]!;
      group = 'custom';
    } else {
      src = (r.family !== undefined ? FAMILY_GATES[r.family] : undefined) ?? ruleGate(r) ?? loose[c.index]!;
      // The vendor catalogue (catalogue/) gets a set of its own: in one set with the rest, the DFA
      // states outgrew the cache on random text and a fresh base64 image was scanned ten times slower
      // (a fourth set, for its family conditions, halves that again but costs prose a pass more).
      group = r.shape !== undefined ? 'shaped' : VENDOR_IDS.has(r.id) ? 'vendor' : 'literal';
    }
    const g = groups.get(group) ?? new Map<string, number[]>();
    groups.set(group, g);
    const list = g.get(src) ?? [];
    g.set(src, list);
    list.push(c.index);
  }
  const prefilters: Prefilter[] = [...groups.values()].map((g) => ({ set: new RE2.Set([...g.keys()], 'u'), entries: [...g.values()] }));
  const locators: (RE2 | undefined)[] = [];
  const familyRe = new Map<string, RE2>();
  const familyOf = rules.map((c) => {
    const fam = c.rule.family;
    const src = fam !== undefined && !c.rule.id.startsWith('custom_') ? FAMILY_GATES[fam] : undefined;
    if (src === undefined) return undefined;
    let re = familyRe.get(fam!);
    if (!re) familyRe.set(fam!, (re = new RE2(src, 'gu')));
    return re;
  });
  // `key=value` adds matches only when one starts in the key: assignment rules start with their
  // keyword, which their `gate` matches and which contains no `=`, so the key must match a gate.
  const assignment = rules.filter((c) => c.assignment);
  for (const c of assignment) if (c.rule.gate === undefined) throw new Error(`rule ${c.rule.id}: an assignment rule needs a gate`);
  const keyGate = assignment.length ? new RE2(assignment.map((c) => `(?i:${c.rule.gate})`).join('|'), 'u') : undefined;
  const keyMemo = new Map<string, boolean>();
  const prefixes = [...new Set(rules.filter((c) => c.joinable).flatMap((c) => joinPrefixes(c.rule) ?? []))];
  const joinPrefix = prefixes.length ? new RegExp(prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i') : undefined;
  // Verdicts of the costly validators (libphonenumber: 30-110 µs a number), bounded (cleared when
  // full) and keyed by the keyed hash of the value, so that no matched value stays in memory.
  const acceptMemo = new Map<string, boolean>();
  const MEMO_MAX = 4096;
  const keyed = (value: string): string => createHmac('sha256', hashKey).update(value).digest('hex').slice(0, 32);

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
    prefilters,
    locator(i) {
      return (locators[i] ??= new RE2(loose[i]!, 'gu'));
    },
    familyLocator(i) {
      return familyOf[i];
    },
    assignmentKey(key) {
      if (!keyGate) return false;
      let ok = keyMemo.get(key);
      if (ok === undefined) {
        ok = keyGate.test(key);
        if (keyMemo.size >= MEMO_MAX) keyMemo.clear();
        keyMemo.set(key, ok);
      }
      return ok;
    },
    hasAssignmentRules: keyGate !== undefined,
    joinPrefix,
    hasAllowlist: allow.length > 0,
    accepts(c, value) {
      if (c.rule.validator === undefined || !COSTLY_VALIDATORS.has(c.rule.validator)) return accepts(c, value);
      const k = `${c.index}:${keyed(value)}`;
      let ok = acceptMemo.get(k);
      if (ok === undefined) {
        ok = accepts(c, value);
        if (acceptMemo.size >= MEMO_MAX) acceptMemo.clear();
        acceptMemo.set(k, ok);
      }
      return ok;
    },
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
