// The policy layer as pipeline stages (src/session/stage.ts). All synchronous and pure apart
// from the rate limiter's bucket state and the open rounds of 2026 calls. The effective policy of a
// caller is the server policy narrowed by each of its roles, compiled once per role set. Both
// protocol eras pass the same stages, and each 2026 form is checked as its 2025 form is (ERAS.md). Order:
//   rate_limit   c2s requests (a refused call is still a call, so it counts first); a 2026 retry
//                that continues a round this proxy handed out is the same call and is not charged again
//   permissions  c2s tools/call, resources/read|subscribe|unsubscribe, prompts/get, completion/complete,
//                subscriptions/listen (its resource subscriptions)
//   arguments    c2s tools/call argument rules
//   approval     c2s tools/call approval rules: a call that matches one is marked to be held (the
//                session holds it after every other stage has passed it, so nothing a later stage
//                refuses reaches a person; src/daemon/approvals.ts keeps the decisions)
//   capabilities s2c list/initialize/server-discover responses filtered and cache hints made private;
//                c2s initialize and each 2026 request's _meta stripped of sampling/elicitation;
//                2026 requests of a revision mcp-guard does not know refused
//   sampling     s2c sampling/createMessage and elicitation/create, and their 2026 form: the
//                inputRequests of an input_required result
import type { Policy, Role } from '../config/policy-schema.js';
import type { Identity } from '../protocol/identity.js';
import { PolicyDenied, RateLimited, UnsupportedProtocolVersion } from '../protocol/errors.js';
import { MODERN_VERSIONS, declaredVersion, isInputRequired, isRetry } from '../protocol/era.js';
import type { MessageContext, Stage, Verdict } from '../protocol/stage.js';
import {
  filterDiscoverResult,
  filterInitializeRequest,
  filterInitializeResult,
  filterListResult,
  filterRequestCapabilities,
  isFilteredListMethod,
  privateCacheScope,
} from './capabilities.js';
import { compilePolicy, type CompiledPolicy } from './compiled.js';
import { guardInputRequests } from './inputs.js';
import type { Denial } from './permissions.js';
import { limitSpecs, RATE_EXEMPT_METHODS, type RateLimiter } from './ratelimit.js';
import { narrow } from './roles.js';
import { RoundTracker, callTarget } from './rounds.js';
import { guardServerRequest } from './sampling.js';

export interface PolicyStageOptions {
  server: string;
  policy: Policy;
  roles: Record<string, Role>;
  limiter: RateLimiter;
  /** Open rounds of 2026 calls; shared by every session (and kept across reloads) like the limiter. */
  rounds?: RoundTracker;
}

const MAX_CACHED_ROLE_SETS = 1024;

/**
 * Returns the compiled effective policy for an identity. An unknown role, or a role whose
 * patterns do not compile, gives a policy that refuses everything (fail closed).
 * Throws PatternCompileError if the server policy itself does not compile.
 */
export function effectivePolicyResolver(policy: Policy, roles: Record<string, Role>): (identity: Identity) => CompiledPolicy {
  const base = compilePolicy(policy);
  const cache = new Map<string, CompiledPolicy>();
  cache.set('', base);
  return (identity: Identity): CompiledPolicy => {
    const r = identity.roles;
    const key = r.length === 0 ? '' : r.length === 1 ? r[0]! : r.join('\u0000');
    const hit = cache.get(key);
    if (hit) return hit;
    let compiled: CompiledPolicy;
    const missing = r.find((name) => !Object.prototype.hasOwnProperty.call(roles, name));
    if (missing !== undefined) {
      compiled = compilePolicy(policy, {
        rule: 'roles',
        reason: `role ${JSON.stringify(missing.slice(0, 80))} is not defined in the auth.roles config, so this caller may use nothing`,
      });
    } else {
      try {
        compiled = compilePolicy(narrow(policy, ...r.map((name) => roles[name]!)));
      } catch (e) {
        compiled = compilePolicy(policy, { rule: 'roles', reason: `a role of this caller has an invalid pattern: ${(e as Error).message}` });
      }
    }
    if (cache.size >= MAX_CACHED_ROLE_SETS) {
      cache.clear();
      cache.set('', base);
    }
    cache.set(key, compiled);
    return compiled;
  };
}

function refuse(ctx: MessageContext, stage: string, d: Denial): Verdict {
  ctx.audit.decision = 'block';
  ctx.audit.stage = stage;
  ctx.audit.reason = `${d.rule}: ${d.reason}`;
  return { block: new PolicyDenied(d.rule, d.reason) };
}

const isClientRequest = (ctx: MessageContext) => ctx.direction === 'c2s' && ctx.kind === 'request';

/** The permission check of one client request, or undefined when nothing is refused. */
export function checkRequestPermissions(method: string, params: any, c: CompiledPolicy): Denial | undefined {
  switch (method) {
    case 'tools/call':
      return c.denyAll ?? c.permissions.checkTool(params?.name);
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return c.denyAll ?? c.permissions.checkResource(params?.uri);
    case 'prompts/get':
      return c.denyAll ?? c.permissions.checkPrompt(params?.name);
    case 'subscriptions/listen': {
      // The 2026 form of resources/subscribe: every subscribed URI must be readable.
      const uris = params?.notifications?.resourceSubscriptions;
      if (uris === undefined) return c.denyAll;
      if (!Array.isArray(uris)) return c.denyAll ?? c.permissions.checkResource(uris);
      for (const uri of uris) {
        const d = c.denyAll ?? c.permissions.checkResource(uri);
        if (d) return d;
      }
      return undefined;
    }
    case 'completion/complete': {
      // Completions of a prompt's or resource template's arguments reveal what they are.
      const ref = params?.ref;
      if (ref?.type === 'ref/prompt') return c.denyAll ?? c.permissions.checkPrompt(ref.name);
      if (ref?.type === 'ref/resource') return c.denyAll ?? c.permissions.checkResourceTemplate(ref.uri);
      return c.denyAll;
    }
    default:
      return undefined;
  }
}

/** Items in a list result (tools, resources, resourceTemplates or prompts). */
function listLength(result: unknown): number {
  if (!result || typeof result !== 'object') return 0;
  for (const v of Object.values(result)) if (Array.isArray(v)) return v.length;
  return 0;
}

export function policyStages(opts: PolicyStageOptions): Stage[] {
  const { server, limiter } = opts;
  const rounds = opts.rounds ?? new RoundTracker();
  const effective = effectivePolicyResolver(opts.policy, opts.roles);
  const caller = (ctx: MessageContext) => `${ctx.session.identity.id}\u0000${server}`;

  const rateLimit: Stage = {
    name: 'rate_limit',
    handle(ctx) {
      if (!isClientRequest(ctx)) return undefined;
      if (isRetry(ctx.msg.params)) {
        const link = rounds.take(caller(ctx), ctx.method, callTarget(ctx.method, ctx.msg.params), ctx.msg.params, ctx.now);
        if (link) {
          // The next round of a call already charged.
          ctx.audit.call = link;
          return undefined;
        }
      }
      if (RATE_EXEMPT_METHODS.has(ctx.method)) return undefined;
      const c = effective(ctx.session.identity);
      const r = c.rate;
      if (r.rpm === undefined && r.rph === undefined && r.tools.size === 0) return undefined;
      const tool = ctx.method === 'tools/call' ? ctx.msg.params?.name : undefined;
      const specs = limitSpecs(server, ctx.session.identity.id, r, tool);
      if (specs.length === 0) return undefined;
      const out = limiter.take(specs, ctx.now);
      if (out.ok) return undefined;
      ctx.audit.decision = 'block';
      ctx.audit.stage = 'rate_limit';
      ctx.audit.reason = `${out.limit}: retry after ${out.retryAfterMs} ms`;
      return { block: new RateLimited(out.retryAfterMs, out.limit) };
    },
  };

  const permissions: Stage = {
    name: 'permissions',
    handle(ctx) {
      if (!isClientRequest(ctx)) return undefined;
      const d = checkRequestPermissions(ctx.method, ctx.msg.params, effective(ctx.session.identity));
      return d ? refuse(ctx, 'permissions', d) : undefined;
    },
  };

  const args: Stage = {
    name: 'arguments',
    handle(ctx) {
      if (!isClientRequest(ctx) || ctx.method !== 'tools/call') return undefined;
      const c = effective(ctx.session.identity);
      if (c.args.size === 0) return undefined;
      const p = ctx.msg.params;
      const d = c.args.check(p?.name, p?.arguments);
      return d ? refuse(ctx, 'arguments', d) : undefined;
    },
  };

  const approval: Stage = {
    name: 'approval',
    handle(ctx) {
      if (!isClientRequest(ctx) || ctx.method !== 'tools/call') return undefined;
      const c = effective(ctx.session.identity);
      if (c.approval.size === 0) return undefined;
      const p = ctx.msg.params;
      const h = c.approval.check(p?.name, p?.arguments);
      if (h) ctx.hold = { rule: h.rule, reason: h.reason, via: h.via, timeoutMs: c.approval.timeoutMs };
      return undefined;
    },
  };

  const capabilities: Stage = {
    name: 'capabilities',
    handle(ctx) {
      if (ctx.direction === 's2c' && ctx.kind === 'notification' && ctx.method === 'notifications/resources/updated') {
        // An update about a resource the caller may not read would tell it that the resource exists.
        const c = effective(ctx.session.identity);
        const d = c.denyAll ?? c.permissions.checkResource(ctx.msg.params?.uri);
        return d ? refuse(ctx, 'capabilities', d) : undefined;
      }
      if (ctx.direction === 's2c' && ctx.kind === 'response') {
        const result = ctx.msg.result;
        if (result === undefined) return undefined; // error responses pass unchanged
        if (ctx.method === 'initialize') {
          const next = filterInitializeResult(result, effective(ctx.session.identity));
          return next ? { replace: { ...ctx.msg, result: next } } : undefined;
        }
        let next: Record<string, unknown> | undefined;
        if (ctx.method === 'server/discover') next = filterDiscoverResult(result, effective(ctx.session.identity));
        if (isFilteredListMethod(ctx.method)) {
          next = filterListResult(ctx.method, result, effective(ctx.session.identity));
          // The audit row says that the caller saw less than the server offered.
          const hidden = next ? listLength(result) - listLength(next) : 0;
          if (hidden > 0 && ctx.audit.decision === 'allow') {
            ctx.audit.decision = 'redact';
            ctx.audit.stage = 'capabilities';
            ctx.audit.reason = `${hidden} item${hidden === 1 ? '' : 's'} hidden by policy`;
          }
        }
        next = privateCacheScope(ctx.method, next ?? result) ?? next;
        return next ? { replace: { ...ctx.msg, result: next } } : undefined;
      }
      if (isClientRequest(ctx) && ctx.method === 'initialize') {
        const next = filterInitializeRequest(ctx.msg.params, effective(ctx.session.identity));
        return next ? { replace: { ...ctx.msg, params: next } } : undefined;
      }
      if (ctx.direction === 'c2s' && ctx.kind !== 'response') {
        const version = declaredVersion(ctx.msg.params);
        if (version === undefined) return undefined;
        if (!MODERN_VERSIONS.includes(version)) {
          // A revision whose rules mcp-guard does not know could carry what no stage checks.
          ctx.audit.decision = 'block';
          ctx.audit.stage = 'capabilities';
          ctx.audit.reason = 'unknown protocol revision';
          return { block: new UnsupportedProtocolVersion(version.slice(0, 32), MODERN_VERSIONS) };
        }
        const next = filterRequestCapabilities(ctx.msg.params, effective(ctx.session.identity));
        return next ? { replace: { ...ctx.msg, params: next } } : undefined;
      }
      return undefined;
    },
  };

  const sampling: Stage = {
    name: 'sampling',
    handle(ctx) {
      if (ctx.direction === 's2c' && ctx.kind === 'response' && isInputRequired(ctx.msg.result)) {
        // The 2026 form: the server's requests come back inside the result.
        const result = ctx.msg.result as Record<string, unknown>;
        const call = ctx.requestNote?.call ?? { id: String(ctx.id), round: 1 };
        ctx.audit.call = call;
        const d = guardInputRequests(result, effective(ctx.session.identity));
        if (d.notes.length) ctx.audit.embedded = d.notes;
        if ('deny' in d) return refuse(ctx, 'sampling', d.deny);
        rounds.offer(caller(ctx), ctx.method, callTarget(ctx.method, ctx.requestParams), result, call, ctx.now);
        return d.result ? { replace: { ...ctx.msg, result: d.result } } : undefined;
      }
      if (ctx.direction !== 's2c' || ctx.kind !== 'request') return undefined;
      const d = guardServerRequest(ctx.method, ctx.msg.params, effective(ctx.session.identity));
      if (!d) return undefined;
      if ('deny' in d) return refuse(ctx, 'sampling', d.deny);
      return { replace: { ...ctx.msg, params: d.params } };
    },
  };

  return [rateLimit, permissions, args, approval, capabilities, sampling];
}
