// Full inspection of one parsed JSON-RPC message: every string value, every object key and every
// number (as its decimal string, and as written in the raw line when parsing lost digits), at full
// length, in each normalised form. Produces findings with JSON paths and, when the strictest action
// is a rewrite, the rewritten message (copy on write).
//
// How it stays cheap:
// - The message is walked once into fields; paths, context strings and copies are built only for
//   fields with findings. A field that is ASCII without escape characters or long base64/hex runs
//   (`classify`, one pass) has no other form to compute.
// - Every form of every field (a segment) goes into one buffer, newline-separated, and the
//   detector's prefilter (two or three RE2.Sets of short necessary conditions, see detector.ts)
//   runs over it once: for most inspected messages nothing matches and inspection ends there.
// - Otherwise the buffer is halved (by bytes) while a set still matches in a half, down to the
//   segments that can match and the rules that can match in each; rules that need a keyword find
//   their segments with their own pattern once the keyword is seen.
// - Only those rules run their real pattern on only those segments, over the bytes (a JS string
//   would be converted to UTF-8 again by every regex), then keywords, validators, allowlists.
// `inspectMessageExhaustive` skips the prefilter; a property test holds the two to the same result.
import type RE2 from 're2';
import type { Action } from '../config/pii-schema.js';
import type { Finding } from '../protocol/stage.js';
import type { JsonRpcMessage } from '../protocol/message.js';
import { actionRank, joinPrefixes, type CompiledRule, type Detector, type ScanDirection } from './detector.js';
import { classify, HAS_SHORT_BASE64, IS_NON_ASCII, NEEDS_VARIANTS, namesSensitive, shortBase64Form, variants, type ShortBase64Options } from './normalize.js';
import { SHORT_BASE64_NAMES } from './rules.js';
import { inHexRun, inLongerRun } from './boundaries.js';
import { isIdentifier } from './identifiers.js';
import { crossJoin, hasInnerBreak, lineJoins, numberSplit, oneSeparatorKind, wholeJoinedRun, worthJoining, type JoinWindow } from './joins.js';

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
// Under `result` or `params`: a 2026 requestState is opaque and signed by the server, so it passes
// byte for byte or the message is refused (a rewriting action on it blocks instead).
const PROTECTED_STATE = 'requestState';
// Under `result`: the inputRequests of a 2026 input_required result are the server's requests to
// the client, scanned with the `request` actions as their 2025 form (sampling/createMessage) is.
const EMBEDDED_REQUESTS = 'inputRequests';
/** No rule matches fewer than 7 characters of digits. */
const MIN_NUMBER_CHARS = 7;
/** `key=value` forms are built for values up to this length. */
const MAX_ASSIGNMENT_VALUE = 4096;

const VALUE = 0;
const KEY = 1;
const NUMBER = 2;

/** Form kinds of a segment: the field's text itself, another form of it, `key=value`, a join. */
const EXACT = 0;
const OTHER = 1;
const ASSIGN = 2;
const JOIN = 3;

/** A join segment (joins.ts): the fields its parts came from, and whether offsets map into their texts. */
interface Join {
  w: JoinWindow;
  fields: Field[];
  exact: boolean;
}
const EVERYWHERE: ShortBase64Options = { everywhere: true, valueNamed: false, names: SHORT_BASE64_NAMES };
/** Joins are built for at most this many characters of a message. */
const MAX_JOIN_CHARS = 1 << 20;

/** An object or array of the message. */
class Node {
  /** Context of an object node: lower-cased keys and short string values, its ancestors' first. */
  ctx: string | undefined = undefined;
  raw: string | undefined = undefined;
  safe: string | undefined = undefined;
  copy: any = undefined;
  renames: Map<string, string> | undefined = undefined;
  /** Inside a requestState: nothing here may be rewritten. */
  prot = false;
  /** Inside a result's inputRequests: the request actions apply. */
  asRequest = false;
  /** The nearest object node at or above this one (the one whose context applies). */
  readonly ctxNode: Node | undefined;
  constructor(
    readonly parent: Node | undefined,
    readonly prop: string | number,
    readonly value: object,
    readonly isArray: boolean,
    readonly depth: number,
    /** The field of the key naming this node in its parent object. */
    readonly keyField: Field | undefined,
  ) {
    this.ctxNode = isArray ? parent?.ctxNode : this;
    if (parent) {
      this.prot = parent.prot || (depth === 2 && prop === PROTECTED_STATE && (parent.prop === 'result' || parent.prop === 'params'));
      this.asRequest = parent.asRequest || (depth === 2 && prop === EMBEDDED_REQUESTS && parent.prop === 'result');
    }
  }
}

/** One scanned text: a string value, an object key or a number. */
class Field {
  hits: Hit[] | undefined = undefined;
  /** More forms to scan (the raw digits of a number that parsing changed). */
  extra: string[] | undefined = undefined;
  seen: Set<string> | undefined = undefined;
  constructor(
    readonly node: Node,
    readonly prop: string | number,
    readonly kind: number,
    readonly text: string,
    /** The object key this value sits under (through arrays), for `key=value`. */
    readonly key: string | undefined,
    /** A rewrite here would break the protocol: rewriting actions block instead. */
    readonly prot: boolean,
    readonly keyField: Field | undefined,
  ) {}
}

class Inspection {
  readonly fields: Field[] = [];
  /** String values of each container, in order (for joins across two strings). */
  readonly strings = new Map<Node, Field[]>();
  /** Object elements of each array, by index. */
  readonly elements = new Map<Node, Map<number, Node>>();
  /** Number fields, including those too short to scan (for raw digit matching). */
  numbers: Field[] | undefined = undefined;
  root!: Node;
  findings: Finding[] = [];
  worst: Action = 'allow';
  blocked = new Set<string>();

  constructor(
    readonly det: Detector,
    readonly direction: ScanDirection,
    readonly tool: string | undefined,
    /** Every rule on every segment, no prefilter (the reference the fast path must agree with). */
    readonly exhaustive = false,
    /** Decode short base64 runs everywhere (the gate fired), or only where a name introduces them. */
    readonly shortEverywhere = true,
  ) {}

  /** How `shortBase64Form` applies to field `f`. */
  shortOptions(f: Field): ShortBase64Options {
    if (this.shortEverywhere) return EVERYWHERE;
    const valueNamed = f.kind === VALUE && !f.node.isArray && f.key !== undefined && namesSensitive(f.key, SHORT_BASE64_NAMES);
    return { everywhere: false, valueNamed, names: SHORT_BASE64_NAMES };
  }

  // ------------------------------------------------------------------ walk

  walkRoot(msg: object): void {
    this.root = new Node(undefined, '', msg, Array.isArray(msg), 0, undefined);
    this.walkContainer(this.root, undefined);
  }

  walkContainer(node: Node, key: string | undefined): void {
    const v = node.value as any;
    if (node.isArray) {
      // Array elements keep the key of the array (for `key=value`).
      for (let i = 0; i < v.length; i++) this.visit(v[i], node, i, key, undefined);
      return;
    }
    const top = node.depth === 0;
    for (const k of Object.keys(v)) {
      const kf = new Field(node, k, KEY, k, undefined, top || node.prot, undefined);
      this.fields.push(kf);
      this.visit(v[k], node, k, k, kf);
    }
  }

  visit(v: unknown, parent: Node, prop: string | number, key: string | undefined, keyField: Field | undefined): void {
    const depth = parent.depth + 1;
    const prot =
      parent.prot ||
      (depth === 1 && key !== undefined && PROTECTED_TOP.has(key)) ||
      (depth === 2 && prop === PROTECTED_STATE && (parent.prop === 'result' || parent.prop === 'params'));
    if (typeof v === 'string') {
      const f = new Field(parent, prop, VALUE, v, key, prot, keyField);
      this.fields.push(f);
      const list = this.strings.get(parent);
      if (list) list.push(f);
      else this.strings.set(parent, [f]);
      return;
    }
    if (typeof v === 'number' || typeof v === 'bigint') {
      const f = new Field(parent, prop, NUMBER, String(v), key, prot, keyField);
      this.fields.push(f);
      (this.numbers ??= []).push(f);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const node = new Node(parent, prop, v, Array.isArray(v), depth, keyField);
    if (parent.isArray && !node.isArray) {
      const m = this.elements.get(parent);
      if (m) m.set(prop as number, node);
      else this.elements.set(parent, new Map([[prop as number, node]]));
    }
    this.walkContainer(node, key);
  }

  /**
   * Pairs of strings a value may be split across: neighbours in an object or an array, and the values
   * of one key in two neighbouring objects of an array whose other values are short scalars (the text
   * of two content parts); what lies between them in raw JSON is what the gate's split triggers allow
   * (gate.ts GAP). An object with integer-like keys is skipped (its keys are not walked in document order).
   */
  stringPairs(): [Field, Field][] {
    const out: [Field, Field][] = [];
    const keysMemo = new Map<Node, string[] | undefined>();
    // The keys of an object in document order, or undefined when integer-like keys reorder them.
    const keysOf = (node: Node): string[] | undefined => {
      if (keysMemo.has(node)) return keysMemo.get(node);
      const keys = Object.keys(node.value);
      const k = keys.some((x) => x.charCodeAt(0) <= 57 && /^[0-9]+$/.test(x)) ? undefined : keys;
      keysMemo.set(node, k);
      return k;
    };
    for (const [node, list] of this.strings) {
      if (list.length < 2) continue;
      if (node.isArray) {
        for (let i = 0; i + 1 < list.length; i++) if ((list[i + 1]!.prop as number) === (list[i]!.prop as number) + 1) out.push([list[i]!, list[i + 1]!]);
        continue;
      }
      const keys = keysOf(node);
      if (!keys) continue;
      // String values are walked in key order: neighbours in the list are neighbours in the object
      // when no other value lies between them.
      let k = 0;
      for (let i = 0; i + 1 < list.length; i++) {
        while (k < keys.length && keys[k] !== list[i]!.prop) k++;
        if (keys[k + 1] === list[i + 1]!.prop) out.push([list[i]!, list[i + 1]!]);
      }
    }
    const shortScalar = (v: unknown): boolean =>
      v === null || typeof v === 'boolean' || (typeof v === 'number' && String(v).length <= 24) || (typeof v === 'string' && v.length <= 64);
    for (const kids of this.elements.values()) {
      for (const [i, e] of kids) {
        const next = kids.get(i + 1);
        if (!next) continue;
        const mine = this.strings.get(e);
        const theirs = this.strings.get(next);
        if (!mine || !theirs) continue;
        const ek = keysOf(e);
        const nk = keysOf(next);
        if (!ek || !nk || ek.length + nk.length > 8) continue;
        const ev = e.value as Record<string, unknown>;
        const nv = next.value as Record<string, unknown>;
        for (const a of mine) {
          const b = theirs.find((f) => f.prop === a.prop);
          if (!b) continue;
          const after = ek.slice(ek.indexOf(a.prop as string) + 1);
          const before = nk.slice(0, nk.indexOf(b.prop as string));
          if (after.every((x) => shortScalar(ev[x])) && before.every((x) => shortScalar(nv[x]))) out.push([a, b]);
        }
      }
    }
    return out;
  }

  /**
   * Numbers whose raw text parsing changed (more digits than a double keeps: a 19-digit card sent
   * as a JSON number): the raw token is scanned as another form of the number's field. A token that
   * matches no parsed number (a duplicate key the parser dropped) is scanned on its own, unrewritable.
   */
  attachRawNumbers(raw: Buffer): void {
    const tokens = lossyNumberTokens(raw);
    if (!tokens.length) return;
    const claimed = new Set<Field>();
    for (const tok of tokens) {
      const canon = String(Number(tok));
      const f = this.numbers?.find((n) => !claimed.has(n) && n.text === canon);
      if (f) {
        claimed.add(f);
        (f.extra ??= []).push(tok);
      } else {
        this.fields.push(new Field(this.root, '<number>', NUMBER, tok, undefined, true, undefined));
      }
    }
  }

  // ------------------------------------------------------------------ scan

  scanAll(): void {
    const det = this.det;
    const segText: string[] = [];
    const segField: Field[] = [];
    const segForm: number[] = [];
    // UTF-8 length of each segment (its length when ASCII, -1 when to be measured).
    const segBytes: number[] = [];
    const segJoin: (Join | undefined)[] = [];
    const add = (f: Field, text: string, form: number, ascii = false, join?: Join): void => {
      segText.push(text);
      segField.push(f);
      segForm.push(form);
      segBytes.push(ascii ? text.length : -1);
      segJoin.push(join);
    };
    for (const f of this.fields) {
      if (f.kind === NUMBER && f.text.length < MIN_NUMBER_CHARS && f.extra === undefined) continue;
      const cls = classify(f.text);
      add(f, f.text, EXACT, (cls & IS_NON_ASCII) === 0);
      if (cls & NEEDS_VARIANTS) {
        const forms = variants(f.text, f.kind === NUMBER ? undefined : this.shortOptions(f));
        for (let i = 1; i < forms.length; i++) add(f, forms[i]!, OTHER);
      } else if (cls & HAS_SHORT_BASE64 && f.kind !== NUMBER) {
        const short = shortBase64Form(f.text, this.shortOptions(f));
        if (short !== undefined) add(f, short, OTHER);
      }
      if (f.extra) for (const x of f.extra) add(f, x, OTHER);
      if (f.kind !== KEY && f.key !== undefined && det.hasAssignmentRules && f.text.length <= MAX_ASSIGNMENT_VALUE && det.assignmentKey(f.key)) {
        add(f, `${f.key}=${f.text}`, ASSIGN);
      }
    }
    // Joins: at line breaks inside each form of a text, and across neighbouring strings, where the
    // run before the split can start a joinable match.
    const worth = worthJoining(det.joinPrefix);
    let joinChars = 0;
    const base = segText.length;
    for (let s = 0; s < base && joinChars < MAX_JOIN_CHARS; s++) {
      const f = segField[s]!;
      if (segForm[s] === ASSIGN || f.kind === NUMBER || !hasInnerBreak(segText[s]!)) continue;
      for (const w of lineJoins(segText[s]!, worth)) {
        joinChars += w.text.length;
        add(f, w.text, JOIN, false, { w, fields: [f], exact: segForm[s] === EXACT });
      }
    }
    for (const [a, b] of this.stringPairs()) {
      if (joinChars >= MAX_JOIN_CHARS) break;
      const w = crossJoin(a.text, b.text, worth);
      if (!w) continue;
      joinChars += w.text.length;
      add(a, w.text, JOIN, false, { w, fields: [a, b], exact: true });
    }
    if (segText.length === 0) return;
    if (this.exhaustive) {
      const all = det.rules.map((c) => c.index);
      for (let s = 0; s < segText.length; s++) this.scanSegment(segField[s]!, segText[s]!, Buffer.from(segText[s]!, 'utf8'), segForm[s]!, all, segJoin[s]);
      return;
    }
    // The segments joined by newlines, as UTF-8 (one copy; ASCII segments copied as bytes).
    // ends[s]: byte offset just past segment s, where its separator is.
    const n = segText.length;
    const ends = new Array<number>(n);
    let total = n - 1;
    for (let s = 0; s < n; s++) {
      if (segBytes[s]! < 0) segBytes[s] = Buffer.byteLength(segText[s]!, 'utf8');
      total += segBytes[s]!;
    }
    const buf = Buffer.allocUnsafe(total);
    let off = 0;
    for (let s = 0; s < n; s++) {
      off += buf.write(segText[s]!, off, segBytes[s] === segText[s]!.length ? 'latin1' : 'utf8');
      ends[s] = off;
      if (off < total) buf[off++] = 10;
    }
    // Rules without keywords that may match somewhere (per prefilter set), and rules whose keyword
    // occurs somewhere.
    const prefilters = det.prefilters;
    const rootHits: (number[] | undefined)[] = new Array(prefilters.length);
    const plain = new Set<number>();
    const keyed: number[] = [];
    for (let p = 0; p < prefilters.length; p++) {
      const pf = prefilters[p]!;
      const idx = pf.set.match(buf);
      for (const j of idx) {
        for (const i of pf.entries[j]!) {
          if (det.rules[i]!.keywords) keyed.push(i);
          else {
            plain.add(i);
            rootHits[p] = idx;
          }
        }
      }
    }
    if (plain.size === 0 && keyed.length === 0) return;
    if (keyed.length > 1) keyed.sort((x, y) => x - y);

    const startOf = (s: number): number => (s === 0 ? 0 : ends[s - 1]! + 1);
    const segRules: (number[] | undefined)[] = new Array(n);
    const addRule = (s: number, i: number): void => {
      (segRules[s] ??= []).push(i);
    };

    // Rules without keywords: halve the joined text (by bytes, so a big segment is soon alone)
    // while a prefilter set still matches in a half; at one segment, its matches are its candidates.
    const locate = (a: number, b: number, hits: (number[] | undefined)[]): void => {
      if (a === b) {
        for (let p = 0; p < hits.length; p++) {
          const idx = hits[p];
          if (!idx) continue;
          for (const j of idx) for (const i of prefilters[p]!.entries[j]!) if (plain.has(i)) addRule(a, i);
        }
        return;
      }
      const mid = (startOf(a) + ends[b]!) / 2;
      let lo = a;
      let hi = b - 1;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (ends[m]! < mid) lo = m + 1;
        else hi = m;
      }
      // Scan the smaller half first: when a set finds nothing there, the other half keeps the
      // parent's matches for that set without a scan (a superset: its own are among them).
      let sx = a;
      let sy = lo;
      let bx = lo + 1;
      let by = b;
      if (ends[lo]! - startOf(a) > ends[b]! - startOf(lo + 1)) [sx, sy, bx, by] = [bx, by, sx, sy];
      const scan = (x: number, y: number, p: number): number[] | undefined => {
        const idx = prefilters[p]!.set.match(buf.subarray(startOf(x), ends[y]!));
        return idx.some((j) => prefilters[p]!.entries[j]!.some((i) => plain.has(i))) ? idx : undefined;
      };
      const small: (number[] | undefined)[] = new Array(hits.length);
      const big: (number[] | undefined)[] = new Array(hits.length);
      let anySmall = false;
      let anyBig = false;
      for (let p = 0; p < hits.length; p++) {
        if (!hits[p]) continue;
        small[p] = scan(sx, sy, p);
        big[p] = small[p] ? scan(bx, by, p) : hits[p];
        if (small[p]) anySmall = true;
        if (big[p]) anyBig = true;
      }
      if (anySmall) locate(sx, sy, small);
      if (anyBig) locate(bx, by, big);
    };
    if (plain.size) locate(0, n - 1, rootHits);

    // Rules with keywords: their values' pattern finds the segments (each match's segment, then on
    // from the next segment); the keyword itself is checked per field when scanning.
    for (const i of keyed) {
      const loc = det.locator(i);
      loc.lastIndex = 0;
      for (;;) {
        const m = loc.exec(buf);
        if (m === null) break;
        // A match starting on a separator belongs to the next segment (its boundary character).
        let s = segOf(ends, m.index);
        if (m.index === ends[s] && s + 1 < n) s++;
        addRule(s, i);
        if (s + 1 >= n) break;
        loc.lastIndex = startOf(s + 1);
      }
    }
    // Candidates in ascending rule order (findings come out in rule order within a form).
    for (const rs of segRules) if (rs && rs.length > 1) rs.sort((x, y) => x - y);
    for (let s = 0; s < n; s++) {
      const rs = segRules[s];
      if (rs) this.scanSegment(segField[s]!, segText[s]!, buf.subarray(startOf(s), ends[s]!), segForm[s]!, rs, segJoin[s]);
    }
  }

  /**
   * Run candidate rules over one segment. The regexes run over `bytes` (the segment's UTF-8, a view
   * of the joined buffer): node-re2 converts a JS string to UTF-8 on every first use of a regex on
   * it, which for a new 10 KB string costs each rule ~50 µs; a Buffer is read in place. Offsets are
   * bytes there and UTF-16 units in `text`; they are equal for ASCII text.
   */
  scanSegment(f: Field, text: string, bytes: Buffer, form: number, ruleIdx: number[], join?: Join): void {
    const det = this.det;
    const ascii = bytes.length === text.length;
    const u16 = (b: number): number => (ascii ? b : bytes.toString('utf8', 0, b).length);
    let lowerText: string | undefined;
    // Rules of a family start where the family's condition first matches in this text (it matches
    // at the start of each of their matches): eight card brands need not each scan it all.
    let hints: Map<RE2, number> | undefined;
    for (const i of ruleIdx) {
      const c = det.rules[i]!;
      if (form === ASSIGN && !c.assignment) continue;
      if (form === JOIN && !c.joinable) continue;
      let from = 0;
      const fam = det.familyLocator(i);
      if (fam) {
        hints ??= new Map();
        let h = hints.get(fam);
        if (h === undefined) {
          fam.lastIndex = 0;
          h = fam.exec(bytes)?.index ?? -1;
          hints.set(fam, h);
        }
        if (h < 0) continue;
        from = h;
      }
      if (c.keywords) {
        const ctx = this.ctxOf(f);
        let ok = false;
        for (const k of c.keywords) if (hasWord(ctx, k)) ok = true;
        if (!ok) {
          // In a join, the texts it joins (a keyword split across them is not one).
          lowerText ??= join ? join.fields.map((x) => x.text).join('\n').toLowerCase() : text.toLowerCase();
          for (const k of c.keywords) if (hasWord(lowerText, k)) ok = true;
        }
        if (!ok) continue;
      }
      const re = c.re;
      const g = c.rule.group ?? 0;
      re.lastIndex = from;
      let m: RegExpExecArray | null;
      while ((m = re.exec(bytes as unknown as string)) !== null) {
        const whole = m[0] as unknown as Buffer;
        const val = m[g] as unknown as Buffer | undefined;
        if (val !== undefined && val.length > 0) {
          // A boundary group follows at most one character (the boundary, never equal to the value's
          // first character), so the first occurrence is the value; other groups have indices.
          const atB = g === 0 ? m.index : ((m as any).indices?.[g]?.[0] ?? m.index + whole.indexOf(val));
          const endB = atB + val.length;
          const at = u16(atB);
          const end = ascii ? endB : at + val.toString('utf8').length;
          const value = text.slice(at, end);
          const piece = (c.rule.notInHexRun && inHexRun(text, at, end)) || (c.rule.wholeRun && inLongerRun(text, at, end));
          // A card-shaped number that an identifier shape places or names (identifiers.ts) is an id
          // (the shapes are about the digit counts of cards; a phone after `ref` is still a phone).
          // (Luhn first: most card-shaped runs fail it, and the shapes cost a few pattern runs.)
          const id = !piece && c.rule.validator === 'card' && det.accepts(c, value) && isIdentifier(text, at, end, f.kind === KEY ? undefined : f.key);
          if (piece || id) {
            // not a value
          } else if (join) {
            this.takeJoined(join, c, value, at, end);
          } else {
            this.take(f, c, value, form === EXACT ? at : -1);
          }
          // Resume right after the value: a boundary character consumed after it may be the
          // boundary before the next value.
          if (g > 0 && endB < m.index + whole.length) re.lastIndex = endB;
        }
        if (whole.length === 0) re.lastIndex++;
      }
    }
  }

  /**
   * A match in a join counts when it crosses a split (else the text it lies in has it), and a joined
   * number is grouped with one kind of separator (`4111 1111` and `1111 1111`, not a version and a
   * date on two lines, nor two bare ids), a whole run, with three digits on each side. Each field
   * gets the hit over its part.
   */
  takeJoined(j: Join, c: CompiledRule, value: string, at: number, end: number): void {
    if (!j.w.seams.some((s) => s > at && s < end)) return;
    // A joined number is grouped (an array of bare numeric ids would join into card-shaped numbers).
    if (c.rule.shape === 'number' && (!/[^0-9A-Za-z]/.test(value) || !oneSeparatorKind(value) || !numberSplit(j.w, at, end) || !wholeJoinedRun(j.w.text, at, end))) return;
    // A token is joined when its known prefix is whole before the split (the gate sees that prefix).
    const prefixes = c.rule.shape === 'number' ? undefined : joinPrefixes(c.rule);
    if (prefixes) {
      const v = c.rule.flags === 'i' ? value.toLowerCase() : value;
      const p = prefixes.find((x) => v.startsWith(x));
      if (p === undefined || !j.w.seams.some((s) => s >= at + p.length && s < end)) return;
    }
    for (let p = 0; p < j.fields.length; p++) {
      let lo = -1;
      let hi = -1;
      for (let k = at; k < end; k++) {
        if (j.w.part[k] !== p) continue;
        const o = j.w.offset[k]!;
        if (lo < 0 || o < lo) lo = o;
        if (o > hi) hi = o;
      }
      if (hi < 0) continue;
      if (j.exact) this.take(j.fields[p]!, c, value, lo, hi + 1);
      else this.take(j.fields[p]!, c, value, -1);
    }
  }

  take(f: Field, c: CompiledRule, value: string, start: number, end?: number): void {
    const det = this.det;
    const k = c.rule.id + '\0' + value;
    const seen = (f.seen ??= new Set());
    if (seen.has(k)) return;
    if (!det.accepts(c, value)) return;
    seen.add(k);
    if (det.hasAllowlist && det.allowed(c.rule, value, this.rawPath(f), this.tool)) return;
    (f.hits ??= []).push({
      c,
      value,
      start,
      end: start < 0 ? -1 : (end ?? start + value.length),
      action: det.action(c.rule, f.node.asRequest ? 'request' : this.direction),
      hash: det.hash(hashForm(value)),
    });
  }

  // ------------------------------------------------------------------ context and paths

  ctxOf(f: Field): string {
    const node = f.node.ctxNode;
    return node ? this.nodeCtx(node) : '';
  }

  nodeCtx(node: Node): string {
    if (node.ctx !== undefined) return node.ctx;
    const up = node.parent?.ctxNode;
    let ctx = up ? this.nodeCtx(up) : '';
    const obj = node.value as Record<string, unknown>;
    // Newline-separated: a keyword matches inside one key or value, never across two (the gate,
    // which sees the raw bytes, could not see such a match).
    for (const k of Object.keys(obj)) {
      ctx += '\n' + k.toLowerCase();
      const sv = obj[k];
      if (typeof sv === 'string' && sv.length <= 64) ctx += '\n' + sv.toLowerCase();
    }
    return (node.ctx = ctx);
  }

  nodeRaw(node: Node): string {
    if (node.raw !== undefined) return node.raw;
    return (node.raw = node.parent ? join(this.nodeRaw(node.parent), node.prop) : '');
  }

  nodeSafe(node: Node): string {
    if (node.safe !== undefined) return node.safe;
    if (!node.parent) return (node.safe = '');
    const prop = node.keyField?.hits?.length ? '<key>' : node.prop;
    return (node.safe = join(this.nodeSafe(node.parent), prop));
  }

  rawPath(f: Field): string {
    return join(this.nodeRaw(f.node), f.prop);
  }

  safePath(f: Field): string {
    const base = this.nodeSafe(f.node);
    if (f.kind === KEY || f.keyField?.hits?.length) return join(base, '<key>');
    return join(base, f.prop);
  }

  // ------------------------------------------------------------------ actions and rewriting

  /** Record findings in message order; returns the fields to rewrite. */
  applyAll(): Field[] {
    const rewrite: Field[] = [];
    for (const f of this.fields) {
      const hits = f.hits;
      if (!hits) continue;
      const path = this.safePath(f);
      let rw = false;
      for (const h of hits) {
        let a = h.action;
        if (f.prot && (a === 'redact' || a === 'mask' || a === 'hash')) a = 'block';
        h.action = a;
        this.findings.push({ type: h.c.rule.type, rule: h.c.rule.id, path, hash: h.hash, action: a });
        if (actionRank(a) > actionRank(this.worst)) this.worst = a;
        if (a === 'block') this.blocked.add(h.c.rule.type);
        if (a === 'redact' || a === 'mask' || a === 'hash') rw = true;
      }
      if (rw) rewrite.push(f);
    }
    return rewrite;
  }

  copyOf(node: Node): any {
    if (node.copy !== undefined) return node.copy;
    const v = node.value as any;
    const copy = node.isArray ? v.slice() : { ...v };
    node.copy = copy;
    if (node.parent) setOwn(this.copyOf(node.parent), node.prop, copy);
    return copy;
  }

  rewrite(fields: Field[]): object {
    const renamed: Node[] = [];
    for (const f of fields) {
      const out = rewriteText(
        f.text,
        f.hits!.filter((h) => h.action === 'redact' || h.action === 'mask' || h.action === 'hash'),
      );
      if (f.kind === KEY) {
        this.copyOf(f.node);
        if (!f.node.renames) renamed.push(f.node);
        (f.node.renames ??= new Map()).set(f.text, out);
      } else {
        setOwn(this.copyOf(f.node), f.prop, out);
      }
    }
    // Renamed keys: rebuild those objects in key order, deepest first (a parent reads its children
    // from its copy under their original keys).
    renamed.sort((a, b) => b.depth - a.depth);
    for (const node of renamed) {
      const orig = node.value as Record<string, unknown>;
      const cp = node.copy as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const used = new Set<string>();
      for (const k of Object.keys(orig)) {
        const base = node.renames!.get(k);
        let name = k;
        if (base !== undefined) {
          name = base;
          let i = 2;
          while (name in orig || used.has(name)) name = `${base}#${i++}`;
        }
        used.add(name);
        setOwn(out, name, cp[k]);
      }
      node.copy = out;
      if (node.parent) setOwn(this.copyOf(node.parent), node.prop, out);
    }
    return this.root.copy ?? this.root.value;
  }
}

/** The segment whose bytes (or separator) hold byte `pos`: the first s with ends[s] >= pos. */
function segOf(ends: number[], pos: number): number {
  let lo = 0;
  let hi = ends.length - 1;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (ends[m]! < pos) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function join(base: string, prop: string | number): string {
  if (typeof prop === 'number') return `${base}[${prop}]`;
  return base ? `${base}.${prop}` : prop;
}

function setOwn(obj: any, k: string | number, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(obj, k, { value: v, writable: true, enumerable: true, configurable: true });
  else obj[k] = v;
}

const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isAlnum = (c: number): boolean => isLetter(c) || (c >= 48 && c <= 57);
/**
 * `k` occurs in `text` as a word of its own: not inside a longer word (so `sin` does not fire on
 * `using`), nor inside a run of letters and digits (so `fax` does not fire on a random id such as
 * `FAx6mOqcxgGc8uh9`, nor `tel` on `txn_9gdK4tel9…`).
 */
function hasWord(text: string, k: string): boolean {
  let at = text.indexOf(k);
  while (at >= 0) {
    const before = at === 0 ? 32 : text.charCodeAt(at - 1);
    const after = at + k.length >= text.length ? 32 : text.charCodeAt(at + k.length);
    if (!isAlnum(before) && !isAlnum(after)) return true;
    at = text.indexOf(k, at + 1);
  }
  return false;
}

function hashForm(value: string): string {
  // Digits-only for numbers written with separators, so the same card hashes the same way.
  return /^[0-9 .()+-]+$/.test(value) ? value.replace(/[^0-9+]/g, '') : value;
}

/** Shortest number token whose parsing can lose digits (a double keeps 15-17 significant digits). */
const LOSSY_MIN = 16;

/**
 * The number tokens of a raw JSON text (outside strings) that `JSON.parse` does not keep as written
 * and that are long enough to have lost digits: `String(Number(tok)) !== tok`, 16 characters or more.
 */
export function lossyNumberTokens(raw: Buffer): string[] {
  const out: string[] = [];
  const n = raw.length;
  let i = 0;
  while (i < n) {
    const b = raw[i]!;
    if (b === 0x22) {
      // Skip the string: the next quote not escaped by an odd run of backslashes.
      const start = i + 1;
      let q = start;
      for (;;) {
        q = raw.indexOf(0x22, q);
        if (q < 0) return out;
        let bs = 0;
        while (q - 1 - bs >= start && raw[q - 1 - bs] === 0x5c) bs++;
        if ((bs & 1) === 0) break;
        q++;
      }
      i = q + 1;
      continue;
    }
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      let j = i + 1;
      while (j < n) {
        const c = raw[j]!;
        if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) j++;
        else break;
      }
      if (j - i >= LOSSY_MIN) {
        const tok = raw.toString('latin1', i, j);
        if (String(Number(tok)) !== tok) out.push(tok);
      }
      i = j;
      continue;
    }
    i++;
  }
  return out;
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

export interface InspectOptions {
  /**
   * Decode base64 runs of 8-15 characters everywhere (default), or only where a name introduces
   * them (`ssn: …`). Inspection runs once the gate fired, so everywhere means "when something else
   * sent the message to inspection"; the gate's property test uses the named mode, the part of
   * short-base64 decoding that the gate watches for by itself.
   */
  shortBase64?: 'everywhere' | 'named';
}

/**
 * Inspect one parsed message. `toolName` scopes allowlists (taken from tools/call params for
 * requests). `raw`, the message as received, lets numbers be scanned as written when parsing
 * changed them (digits past double precision).
 */
export function inspectMessage(msg: JsonRpcMessage | object, direction: ScanDirection, det: Detector, toolName?: string, raw?: Buffer, opts?: InspectOptions): InspectResult {
  return inspect(msg, direction, det, toolName, raw, false, opts);
}

/** `inspectMessage` without the prefilter: every rule on every form of every field (tests only). */
export function inspectMessageExhaustive(msg: JsonRpcMessage | object, direction: ScanDirection, det: Detector, toolName?: string, raw?: Buffer, opts?: InspectOptions): InspectResult {
  return inspect(msg, direction, det, toolName, raw, true, opts);
}

function inspect(
  msg: JsonRpcMessage | object, direction: ScanDirection, det: Detector, toolName: string | undefined, raw: Buffer | undefined, exhaustive: boolean, opts: InspectOptions | undefined,
): InspectResult {
  const m = msg as JsonRpcMessage;
  const tool = toolName ?? (m.method === 'tools/call' && typeof m.params?.name === 'string' ? (m.params.name as string) : undefined);
  if (msg === null || typeof msg !== 'object') return { action: 'allow', findings: [] };
  const w = new Inspection(det, direction, tool, exhaustive, opts?.shortBase64 !== 'named');
  w.walkRoot(msg);
  if (raw !== undefined && w.numbers !== undefined) w.attachRawNumbers(raw);
  w.scanAll();
  const rewrite = w.applyAll();
  const findings = w.findings;
  if (w.worst === 'block') return { action: 'block', findings, blockedTypes: [...w.blocked] };
  if (rewrite.length) {
    const rewritten = w.rewrite(rewrite);
    if (rewritten !== msg) return { action: 'modify', findings, message: rewritten };
  }
  if (w.worst === 'warn' || (findings.length > 0 && w.worst !== 'allow')) return { action: 'warn', findings };
  return { action: 'allow', findings };
}
