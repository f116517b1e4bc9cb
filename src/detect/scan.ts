// Full inspection of one parsed JSON-RPC message: every string value, every object key and every
// number (as its decimal string), at full length, in each normalised form. Produces findings with
// JSON paths and, when the strictest action is a rewrite, the rewritten message (copy on write).
import type { Action } from '../config/pii-schema.js';
import type { Finding, JsonRpcMessage } from '../session/stage.js';
import { accepts, actionRank, type CompiledRule, type Detector, type ScanDirection } from './detector.js';
import { variants } from './normalize.js';

export interface InspectResult {
  action: 'allow' | 'warn' | 'modify' | 'block';
  findings: Finding[];
  /** The rewritten message when action is 'modify'. */
  message?: object;
  /** Types that caused a block. */
  blockedTypes?: string[];
  /** Why the message was blocked without a finding (e.g. inspection failed). */
  reason?: string;
}

interface Hit {
  c: CompiledRule;
  value: string;
  /** Offsets into the original text, when the match was found there. */
  start: number;
  end: number;
  action: Action;
  hash: string;
}

// Top-level envelope fields that cannot be rewritten without breaking the protocol.
const PROTECTED_TOP = new Set(['jsonrpc', 'id', 'method']);

class Walk {
  findings: Finding[] = [];
  worst: Action = 'allow';
  blocked = new Set<string>();
  constructor(
    readonly det: Detector,
    readonly direction: ScanDirection,
    readonly tool: string | undefined,
  ) {}

  /** Scan one text; returns the hits that survive validators and allowlists. */
  scan(text: string, rawPath: string, ctx: string, key: string | undefined): Hit[] {
    const det = this.det;
    const hits: Hit[] = [];
    const seen = new Set<string>();
    const forms = variants(text);
    let lowerForms: (string | undefined)[] | undefined;
    const keywordOk = (c: CompiledRule, fi: number, form: string): boolean => {
      if (!c.keywords) return true;
      for (const k of c.keywords) if (hasWord(ctx, k)) return true;
      lowerForms ??= [];
      const low = (lowerForms[fi] ??= form.toLowerCase());
      for (const k of c.keywords) if (hasWord(low, k)) return true;
      return false;
    };
    const take = (c: CompiledRule, form: string, exactIn: boolean, m: RegExpExecArray): void => {
      const g = c.rule.group ?? 0;
      const value = m[g];
      if (value === undefined || value.length === 0) return;
      const k = c.rule.id + '\0' + value;
      if (seen.has(k)) return;
      if (!accepts(c, value)) return;
      seen.add(k);
      if (det.allowed(c.rule, value, rawPath, this.tool)) return;
      let start = -1;
      if (exactIn) start = g === 0 ? m.index : m.index + m[0].indexOf(value);
      else if (form !== text) start = -1;
      hits.push({ c, value, start, end: start < 0 ? -1 : start + value.length, action: det.action(c.rule, this.direction), hash: det.hash(hashForm(value)) });
    };
    forms.forEach((form, fi) => {
      const idx = det.set.match(form);
      for (const i of idx) {
        const c = det.rules[i]!;
        if (!keywordOk(c, fi, form)) continue;
        const re = c.re;
        re.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = re.exec(form)) !== null) {
          take(c, form, fi === 0, m);
          if (m[0].length === 0) re.lastIndex++;
        }
      }
    });
    // Assignment-style secrets split between a key and its value: `{"password": "..."}`.
    if (key !== undefined && det.assignmentSet && text.length <= 4096) {
      const joined = `${key}=${text}`;
      for (const j of det.assignmentSet.match(joined)) {
        const c = det.rules[det.assignmentRules[j]!]!;
        c.re.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = c.re.exec(joined)) !== null) {
          take(c, joined, false, m);
          if (m[0].length === 0) c.re.lastIndex++;
        }
      }
    }
    return hits;
  }

  /** Record hits as findings; returns the rewritten text, or undefined when unchanged. */
  apply(text: string, hits: Hit[], safePath: string, isProtected: boolean): string | undefined {
    let rewrite = false;
    for (const h of hits) {
      let a = h.action;
      if (isProtected && (a === 'redact' || a === 'mask' || a === 'hash')) a = 'block';
      h.action = a;
      this.findings.push({ type: h.c.rule.type, rule: h.c.rule.id, path: safePath, hash: h.hash, action: a });
      if (actionRank(a) > actionRank(this.worst)) this.worst = a;
      if (a === 'block') this.blocked.add(h.c.rule.type);
      if (a === 'redact' || a === 'mask' || a === 'hash') rewrite = true;
    }
    if (!rewrite || this.worst === 'block') return undefined;
    return rewriteText(text, hits.filter((h) => h.action === 'redact' || h.action === 'mask' || h.action === 'hash'));
  }

  walk(v: unknown, rawPath: string, safePath: string, ctx: string, key: string | undefined, depth: number): unknown {
    const top = depth === 1;
    if (typeof v === 'string') {
      const hits = this.scan(v, rawPath, ctx, key);
      if (hits.length === 0) return v;
      const out = this.apply(v, hits, safePath, top && key !== undefined && PROTECTED_TOP.has(key));
      return out ?? v;
    }
    if (typeof v === 'number' || typeof v === 'bigint') {
      const s = String(v);
      if (s.length < 7) return v; // no rule matches fewer than 7 characters of digits
      const hits = this.scan(s, rawPath, ctx, key);
      if (hits.length === 0) return v;
      const out = this.apply(s, hits, safePath, top && key !== undefined && PROTECTED_TOP.has(key));
      return out ?? v;
    }
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const nv = this.walk(v[i], `${rawPath}[${i}]`, `${safePath}[${i}]`, ctx, key, depth + 1);
        if (nv !== v[i]) (copy ??= v.slice())[i] = nv;
      }
      return copy ?? v;
    }
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    // Context for keyword rules: ancestor keys, sibling keys and short sibling values.
    let objCtx = ctx;
    for (const k of keys) {
      objCtx += ' ' + k.toLowerCase();
      const sv = obj[k];
      if (typeof sv === 'string' && sv.length <= 64) objCtx += ' ' + sv.toLowerCase();
    }
    let changed = false;
    const entries: [string, unknown][] = [];
    for (const k of keys) {
      const kp = rawPath ? `${rawPath}.${k}` : k;
      // The key itself.
      let newKey = k;
      let safeKey = k;
      const khits = this.scan(k, kp, objCtx, undefined);
      if (khits.length) {
        safeKey = '<key>';
        const ksafe = safePath ? `${safePath}.<key>` : '<key>';
        const out = this.apply(k, khits, ksafe, depth === 0);
        if (out !== undefined) {
          newKey = out;
          let n = 2;
          while (newKey in obj || entries.some(([e]) => e === newKey)) newKey = `${out}#${n++}`;
          changed = true;
        }
      }
      const sp = safePath ? `${safePath}.${safeKey}` : safeKey;
      const nv = this.walk(obj[k], kp, sp, objCtx, k, depth + 1);
      if (nv !== obj[k]) changed = true;
      entries.push([newKey, nv]);
    }
    if (!changed) return v;
    const out: Record<string, unknown> = {};
    for (const [k, val] of entries) out[k] = val;
    return out;
  }
}

const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
/** `k` occurs in `text` not inside a longer word (so `sin` does not fire on `using`). */
function hasWord(text: string, k: string): boolean {
  let at = text.indexOf(k);
  while (at >= 0) {
    const before = at === 0 ? 32 : text.charCodeAt(at - 1);
    const after = at + k.length >= text.length ? 32 : text.charCodeAt(at + k.length);
    if (!isLetter(before) && !isLetter(after)) return true;
    at = text.indexOf(k, at + 1);
  }
  return false;
}

function hashForm(value: string): string {
  // Digits-only for numbers written with separators, so the same card hashes the same way.
  return /^[0-9 .()+-]+$/.test(value) ? value.replace(/[^0-9+]/g, '') : value;
}

function token(h: Hit, original: string): string {
  if (h.action === 'hash') return `[HASH:${h.c.rule.type}:${h.hash}]`;
  if (h.action === 'mask') return '*'.repeat(Math.max(0, original.length - 4)) + original.slice(-4);
  return `[REDACTED:${h.c.rule.type}]`;
}

/** Replace each hit in `text`: by offset when known, by value where it occurs, else the whole text. */
export function rewriteText(text: string, hits: Hit[]): string {
  const spans: { s: number; e: number; h: Hit }[] = [];
  let whole: Hit | undefined;
  for (const h of hits) {
    if (h.start >= 0) {
      spans.push({ s: h.start, e: h.end, h });
      continue;
    }
    let at = text.indexOf(h.value);
    if (at < 0) {
      if (!whole || actionRank(h.action) > actionRank(whole.action)) whole = h;
      continue;
    }
    while (at >= 0) {
      spans.push({ s: at, e: at + h.value.length, h });
      at = text.indexOf(h.value, at + h.value.length);
    }
  }
  if (whole) return token(whole, whole.value);
  spans.sort((a, b) => a.s - b.s || b.e - a.e);
  let out = '';
  let pos = 0;
  for (let i = 0; i < spans.length; i++) {
    let { s, e, h } = spans[i]!;
    if (s < pos) s = pos;
    // Merge overlapping spans; the stricter action names the token.
    while (i + 1 < spans.length && spans[i + 1]!.s < e) {
      const n = spans[++i]!;
      e = Math.max(e, n.e);
      if (actionRank(n.h.action) > actionRank(h.action)) h = n.h;
    }
    if (e <= s) continue;
    out += text.slice(pos, s) + token(h, text.slice(s, e));
    pos = e;
  }
  return out + text.slice(pos);
}

/** Inspect one parsed message. `toolName` scopes allowlists (taken from tools/call params for requests). */
export function inspectMessage(msg: JsonRpcMessage | object, direction: ScanDirection, det: Detector, toolName?: string): InspectResult {
  const m = msg as JsonRpcMessage;
  const tool = toolName ?? (m.method === 'tools/call' && typeof m.params?.name === 'string' ? (m.params.name as string) : undefined);
  const w = new Walk(det, direction, tool);
  const rewritten = w.walk(msg, '', '', '', undefined, 0);
  const findings = w.findings;
  if (w.worst === 'block') return { action: 'block', findings, blockedTypes: [...w.blocked] };
  if (rewritten !== msg) return { action: 'modify', findings, message: rewritten as object };
  if (w.worst === 'warn' || findings.length > 0 && w.worst !== 'allow') return { action: 'warn', findings };
  return { action: 'allow', findings };
}
