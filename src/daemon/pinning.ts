// The `pinning` stage and what it keeps between messages: the pins of each server (read from the
// pin store, reloaded when `mcp-guard pins` commits), what each live session's upstream listed,
// and its open 2026 listen streams, so that an approval reaches live sessions as a list-changed
// notification. Decisions are the pure functions of src/policy/pinning.ts.
//   s2c tools/list, prompts/list, resources/templates/list (every page): quarantined items hidden
//   c2s tools/call, prompts/get, resources/read, completion/complete: refused when quarantined
//   s2c initialize / server/discover: listChanged advertised, since mcp-guard may send it
import type RE2 from 're2';
import { PolicyDenied } from '../protocol/errors.js';
import { SUBSCRIPTION_ID_KEY, declaredVersion } from '../protocol/era.js';
import type { Logger } from '../protocol/log.js';
import { idKey, type JsonRpcMessage } from '../protocol/message.js';
import type { MessageContext, SessionInfo, Stage, Verdict } from '../protocol/stage.js';
import { findHiddenText } from '../detect/hidden.js';
import {
  LISTS,
  LIST_CHANGED,
  PIN_KINDS,
  canonicalJson,
  decideCall,
  decideListed,
  definitionOf,
  keyOf,
  pinId,
  sha256Hex,
  templateMatcher,
  uriMatchesTemplate,
  type PinKind,
  type PinMode,
  type SeenDefinition,
} from '../policy/pinning.js';
import type { Denial } from '../policy/permissions.js';
import { quote } from '../policy/pattern.js';
import { recordOf, type PinStore, type StoredPin } from './pins.js';

export const STAGE = 'pinning';

/** What the stage needs of a server's config. */
export interface PinSettings {
  mode: PinMode;
  /** `servers.<name>.pins`: pin id → SHA-256 (strict mode). */
  pins?: Readonly<Record<string, string>>;
}

/** A live session, as the pinning needs it: to tell its client that a list changed. */
export interface NotifiableSession {
  readonly info: SessionInfo;
  notifyClient(method: string, params: Record<string, unknown> | undefined, stage: string): void;
}

interface HiddenItem {
  hash: string;
  hiddenText: boolean;
}

/** What one session's upstream listed, and its client's open listen streams. */
interface View {
  /** The client speaks 2026-07-28 (requests carry a `_meta` protocol version). */
  modern: boolean;
  seen: Record<PinKind, Map<string, string>>;
  hidden: Record<PinKind, Map<string, HiddenItem>>;
  /** Open `subscriptions/listen` requests: id key → [id, filter]. */
  listens: Map<string, [string | number, Record<string, unknown>]>;
}

interface ServerPins {
  items: Map<string, StoredPin>;
  listed: Set<PinKind>;
}

const MAX_CURSORS = 64;
const MAX_MATCHERS = 1024;
const MAX_MEMO = 16384;
const MAX_REASON_ITEMS = 8;

const kindKey = (kind: PinKind, key: string) => `${kind}\u0000${key}`;

export class Pinning {
  private readonly cache = new Map<string, ServerPins>();
  private version: number;
  private readonly views = new WeakMap<SessionInfo, View>();
  /** nextCursor values handed out by pages of a first listing: the pages that continue it. */
  private readonly firstCursors = new Map<string, Set<string>>();
  private readonly matchers = new Map<string, RE2 | undefined>();
  /** The last definition listed under each server, kind and key: its JSON text and what it gave. */
  private readonly memo = new Map<string, { raw: string; seen: SeenDefinition }>();

  constructor(
    private readonly store: PinStore,
    private readonly log: Logger,
    /** Cleans names before they reach the daemon log. */
    private readonly scrub: (s: string) => string = (s) => s,
  ) {
    this.version = store.version();
  }

  /** The stage of one server, or undefined when its pinning is off. */
  stage(server: string, settings: PinSettings): Stage | undefined {
    if (settings.mode === 'off') return undefined;
    return { name: STAGE, handle: (ctx) => this.handle(server, settings, ctx) };
  }

  /** Pins of a server as the store has them now (re-read after another connection committed). */
  private pinsOf(server: string): ServerPins {
    const v = this.store.version();
    if (v !== this.version) {
      this.version = v;
      this.cache.clear();
    }
    let sp = this.cache.get(server);
    if (!sp) {
      sp = { items: new Map(this.store.items(server).map((p) => [kindKey(p.kind, p.key), p])), listed: this.store.listedKinds(server) };
      this.cache.set(server, sp);
    }
    return sp;
  }

  private view(info: SessionInfo): View {
    let v = this.views.get(info);
    if (!v) {
      v = {
        modern: false,
        seen: { tool: new Map(), prompt: new Map(), template: new Map() },
        hidden: { tool: new Map(), prompt: new Map(), template: new Map() },
        listens: new Map(),
      };
      this.views.set(info, v);
    }
    return v;
  }

  private handle(server: string, settings: PinSettings, ctx: MessageContext): Verdict {
    const { direction, kind, method } = ctx;
    if (direction === 'c2s') {
      if (kind === 'request') {
        const p = ctx.msg.params;
        const v = this.view(ctx.session);
        if (!v.modern && (ctx.era === '2026' || declaredVersion(p) !== undefined)) v.modern = true;
        switch (method) {
          case 'tools/call':
            return this.call(server, settings, ctx, 'tool', p?.name);
          case 'prompts/get':
            return this.call(server, settings, ctx, 'prompt', p?.name);
          case 'resources/read':
            return this.read(server, settings, ctx, p?.uri);
          case 'completion/complete':
            if (p?.ref?.type === 'ref/prompt') return this.call(server, settings, ctx, 'prompt', p.ref.name);
            if (p?.ref?.type === 'ref/resource') return this.call(server, settings, ctx, 'template', p.ref.uri);
            return undefined;
          case 'subscriptions/listen':
            if (ctx.id !== undefined && ctx.id !== null) v.listens.set(idKey(ctx.id), [ctx.id, p?.notifications ?? {}]);
            return undefined;
        }
        return undefined;
      }
      if (kind === 'notification' && method === 'notifications/cancelled') {
        const rid = ctx.msg.params?.requestId;
        if (typeof rid === 'string' || typeof rid === 'number') this.views.get(ctx.session)?.listens.delete(idKey(rid));
      }
      return undefined;
    }
    if (kind !== 'response') return undefined;
    if (method === 'subscriptions/listen') {
      if (ctx.id !== undefined && ctx.id !== null) this.views.get(ctx.session)?.listens.delete(idKey(ctx.id));
      return undefined;
    }
    const result = ctx.msg.result;
    if (result === null || typeof result !== 'object') return undefined;
    if (method === 'initialize' || method === 'server/discover') return advertiseListChanged(ctx.msg, result);
    const spec = LISTS[method];
    if (!spec) return undefined;
    return this.list(server, settings, ctx, spec.kind, spec.array, result);
  }

  // ---- lists --------------------------------------------------------------------------------

  private list(server: string, settings: PinSettings, ctx: MessageContext, kind: PinKind, array: string, result: Record<string, unknown>): Verdict {
    const items = result[array];
    if (!Array.isArray(items)) return undefined; // the capabilities stage answers that with []
    ctx.inspected = true;
    const sp = this.pinsOf(server);
    const cursor = ctx.requestParams?.cursor;
    const firstKey = kindKey(kind, server);
    const tofu = settings.mode === 'tofu';
    let first = false;
    if (tofu) {
      if (cursor === undefined || cursor === null) first = !sp.listed.has(kind);
      else first = typeof cursor === 'string' && (this.firstCursors.get(firstKey)?.delete(cursor) ?? false);
    }
    const view = this.view(ctx.session);
    if (cursor === undefined || cursor === null) {
      view.seen[kind].clear();
      view.hidden[kind].clear();
    }
    const kept: unknown[] = [];
    const toTrust: SeenDefinition[] = [];
    const toRecord: SeenDefinition[] = [];
    const quarantined: string[] = [];
    let unnamed = 0;
    for (const item of items) {
      const key = keyOf(kind, item);
      if (key === undefined) {
        unnamed++;
        continue;
      }
      const seen = this.seenOf(server, kind, key, item as Record<string, unknown>);
      const stored = sp.items.get(kindKey(kind, key));
      const verdict = decideListed(settings.mode, settings.pins, recordOf(stored), seen, first);
      view.seen[kind].set(key, seen.hash);
      if (verdict.show) {
        kept.push(item);
        if (verdict.pin) toTrust.push(seen);
        // Strict mode keeps what it saw, so that `pins list` prints the hashes to pin.
        else if (!tofu && stored?.seenHash !== seen.hash) toRecord.push(seen);
        continue;
      }
      view.hidden[kind].set(key, { hash: seen.hash, hiddenText: seen.hidden.length > 0 });
      if (stored?.seenHash !== seen.hash) toRecord.push(seen);
      if (quarantined.length < MAX_REASON_ITEMS) quarantined.push(describe(kind, key, verdict.why, verdict.trusted, seen));
      else if (quarantined.length === MAX_REASON_ITEMS) quarantined.push('…');
    }
    const now = Date.now();
    if (first) {
      this.store.firstListing(server, kind, toTrust, toRecord, now);
      const next = result.nextCursor;
      if (typeof next === 'string') {
        let set = this.firstCursors.get(firstKey);
        if (!set) this.firstCursors.set(firstKey, (set = new Set()));
        if (set.size >= MAX_CURSORS) set.clear();
        set.add(next);
      }
      this.log.info('definitions pinned on first listing', { server, kind, pinned: toTrust.length, quarantined: toRecord.length });
    } else if (toRecord.length) {
      this.store.markSeen(server, toRecord, now);
    }
    if (first || toRecord.length) this.cache.delete(server);
    // Logged once per definition: a quarantined one is recorded once, and listed again unchanged.
    for (const s of toRecord) {
      if (!view.hidden[kind].has(s.key)) continue;
      this.log.warn('definition quarantined', { server, item: this.scrub(pinId(kind, s.key)), old: sp.items.get(kindKey(kind, s.key))?.trustedHash ?? null, new: s.hash, hiddenText: s.hidden.length > 0 });
    }
    const hidden = items.length - kept.length;
    if (hidden === 0) return undefined;
    if (ctx.audit.decision === 'allow') {
      ctx.audit.decision = 'redact';
      ctx.audit.stage = STAGE;
      const parts = unnamed ? [...quarantined, `${unnamed} item${unnamed === 1 ? '' : 's'} without a ${kind === 'template' ? 'uriTemplate' : 'name'}`] : quarantined;
      ctx.audit.reason = `${hidden} quarantined by pinning: ${parts.join('; ')}`;
    }
    const next: Record<string, unknown> = { ...result, [array]: kept };
    // A shortened list must not be served from a client's cache once a person approves the rest.
    if (typeof result.ttlMs === 'number' || declaredVersion(ctx.requestParams) !== undefined) next.ttlMs = 0;
    return { replace: { ...ctx.msg, result: next } };
  }

  /**
   * The definition of a listed item, hashed. A server lists the same definitions in the same key
   * order again and again: its plain JSON text, the same as last time, gives the same canonical
   * form, hash and hidden-text findings without computing them again.
   */
  private seenOf(server: string, kind: PinKind, key: string, item: Record<string, unknown>): SeenDefinition {
    const def = definitionOf(kind, item);
    const raw = JSON.stringify(def);
    const memoKey = `${server}\u0000${kind}\u0000${key}`;
    const hit = this.memo.get(memoKey);
    if (hit?.raw === raw) return hit.seen;
    const canonical = canonicalJson(def);
    const seen: SeenDefinition = { kind, key, canonical, hash: sha256Hex(canonical), hidden: findHiddenText(def) };
    if (this.memo.size >= MAX_MEMO) this.memo.clear();
    this.memo.set(memoKey, { raw, seen });
    return seen;
  }

  // ---- calls --------------------------------------------------------------------------------

  private call(server: string, settings: PinSettings, ctx: MessageContext, kind: PinKind, key: unknown): Verdict {
    if (typeof key !== 'string') return undefined; // the permissions stage refuses a missing name
    const d = this.callDenial(server, settings, ctx.session, kind, key);
    return d ? refuse(ctx, d) : undefined;
  }

  private callDenial(server: string, settings: PinSettings, info: SessionInfo, kind: PinKind, key: string): Denial | undefined {
    const sp = this.pinsOf(server);
    const sessionHash = this.views.get(info)?.seen[kind].get(key);
    return decideCall(settings.mode, settings.pins, server, kind, key, recordOf(sp.items.get(kindKey(kind, key))), sessionHash, sp.listed.has(kind));
  }

  /** A read of a URI that a quarantined resource template expands to is refused. */
  private read(server: string, settings: PinSettings, ctx: MessageContext, uri: unknown): Verdict {
    if (typeof uri !== 'string') return undefined;
    const sp = this.pinsOf(server);
    const view = this.views.get(ctx.session);
    const templates = new Set<string>();
    for (const p of sp.items.values()) if (p.kind === 'template') templates.add(p.key);
    for (const k of view?.seen.template.keys() ?? []) templates.add(k);
    for (const t of templates) {
      const d = this.callDenial(server, settings, ctx.session, 'template', t);
      if (!d) continue;
      const m = this.matcher(t);
      // A template that cannot be read as one cannot be matched: it refuses nothing it does not name.
      if (m ? uriMatchesTemplate(m, uri) : uri === t) return refuse(ctx, { rule: d.rule, reason: `the resource ${quote(uri)} comes from a quarantined template: ${d.reason}` });
    }
    return undefined;
  }

  private matcher(template: string): RE2 | undefined {
    if (this.matchers.has(template)) return this.matchers.get(template);
    if (this.matchers.size >= MAX_MATCHERS) this.matchers.clear();
    const m = templateMatcher(template);
    this.matchers.set(template, m);
    return m;
  }

  // ---- a person's decisions reach live sessions ---------------------------------------------

  /**
   * The store changed (`mcp-guard pins approve | reset`): re-read it, and tell every live session
   * whose client was shown less than it would be shown now that the list changed. Returns how
   * many notifications were sent.
   */
  refresh(sessions: Iterable<NotifiableSession>, settingsOf: (server: string) => PinSettings | undefined): number {
    this.cache.clear();
    this.version = this.store.version();
    let sent = 0;
    for (const s of sessions) {
      const view = this.views.get(s.info);
      const settings = settingsOf(s.info.server);
      if (!view || !settings || settings.mode === 'off') continue;
      const sp = this.pinsOf(s.info.server);
      for (const kind of PIN_KINDS) {
        const hidden = view.hidden[kind];
        if (hidden.size === 0) continue;
        const first = settings.mode === 'tofu' && !sp.listed.has(kind);
        let changed = false;
        for (const [key, h] of hidden) {
          const seen: SeenDefinition = { kind, key, canonical: '', hash: h.hash, hidden: h.hiddenText ? [{ path: '', what: 'hidden text' }] : [] };
          if (decideListed(settings.mode, settings.pins, recordOf(sp.items.get(kindKey(kind, key))), seen, first).show) {
            changed = true;
            break;
          }
        }
        if (changed) sent += this.notify(s, view, kind);
      }
    }
    return sent;
  }

  private notify(s: NotifiableSession, view: View, kind: PinKind): number {
    const { method, filter } = LIST_CHANGED[kind];
    if (!view.modern) {
      s.notifyClient(method, undefined, STAGE);
      return 1;
    }
    // 2026-07-28: only on a listen stream that asked for this kind of change.
    let n = 0;
    for (const [id, f] of view.listens.values()) {
      if (f[filter] !== true) continue;
      s.notifyClient(method, { _meta: { [SUBSCRIPTION_ID_KEY]: id } }, STAGE);
      n++;
    }
    return n;
  }
}

function refuse(ctx: MessageContext, d: Denial): Verdict {
  ctx.audit.decision = 'block';
  ctx.audit.stage = STAGE;
  ctx.audit.reason = `${d.rule}: ${d.reason}`;
  return { block: new PolicyDenied(d.rule, d.reason) };
}

/** One quarantined item in an audit reason: what, why, and the old and new hashes. */
function describe(kind: PinKind, key: string, why: string, trusted: string | undefined, seen: SeenDefinition): string {
  const id = quote(pinId(kind, key));
  const hidden = seen.hidden.length ? ` (${seen.hidden.slice(0, 2).map((h) => `${h.what} in ${h.path}`).join(', ')})` : '';
  return `${id} ${why.replace('_', ' ')}${hidden}, old ${trusted ?? 'none'}, new ${seen.hash}`;
}

/** The initialize (or server/discover) result with listChanged on for tools, prompts and resources. */
function advertiseListChanged(msg: JsonRpcMessage, result: Record<string, unknown>): Verdict {
  const caps = result.capabilities;
  if (caps === null || typeof caps !== 'object') return undefined;
  let next: Record<string, unknown> | undefined;
  for (const k of ['tools', 'prompts', 'resources']) {
    const c = (caps as Record<string, unknown>)[k];
    if (c === null || typeof c !== 'object' || (c as { listChanged?: unknown }).listChanged === true) continue;
    next ??= { ...(caps as Record<string, unknown>) };
    next[k] = { ...(c as Record<string, unknown>), listChanged: true };
  }
  return next ? { replace: { ...msg, result: { ...result, capabilities: next } } } : undefined;
}
