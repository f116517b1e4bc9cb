// Scoring of detection cases, pure: from what the client got back and what the recording upstream
// received during the case, decide pass or fail with a reason a person can act on.
import type { CaseKind, DetectionCase } from './cases.js';

export interface MessageOutcome {
  /** The response the client got to the case's request; undefined when none came. */
  reply?: any;
  /** Every message the upstream recorded while the case ran. */
  upstreamDelta: any[];
  /** Server-to-client requests the client received while the case ran. */
  serverRequests: any[];
}

export interface Verdict {
  pass: boolean;
  reason: string;
  notRun?: boolean;
}

export const isRefusal = (reply: any): boolean => {
  const code = reply?.error?.code;
  return typeof code === 'number' && code <= -32003 && code >= -32019;
};
export const isSuccess = (reply: any): boolean => reply !== undefined && reply.error === undefined && reply.result !== undefined;

/** Every string, object key and number inside v, as strings. */
export function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  }
  return out;
}

/** True when any needle occurs in any string of v or in its JSON text (escaped forms). */
export function contains(v: unknown, needles: string[]): boolean {
  const ns = needles.filter((n) => n.length > 0);
  if (!ns.length || v === undefined) return false;
  const all = strings(v);
  const json = JSON.stringify(v) ?? '';
  return ns.some((n) => json.includes(n) || all.some((s) => s.includes(n)));
}

const describe = (reply: any): string =>
  reply === undefined ? 'no reply' : reply.error ? `error ${reply.error.code} ${String(reply.error.message ?? '').slice(0, 120)}` : 'success';

function requestParams(c: DetectionCase): { method: string; params?: unknown } | undefined {
  if (c.request) return c.request;
  if (c.raw) {
    const m = JSON.parse(c.raw.replace('__ID__', '0'));
    return { method: m.method, params: m.params };
  }
  return undefined;
}

function replyText(reply: any): string | undefined {
  const r = reply?.result;
  return r?.content?.[0]?.text ?? r?.contents?.[0]?.text;
}

export function scoreMessageCase(c: DetectionCase, o: MessageOutcome): Verdict {
  const needles = [c.secret, ...(c.alsoLookFor ?? [])];
  const kind: CaseKind = c.kind;
  const fail = (reason: string): Verdict => ({ pass: false, reason });
  const ok = (reason: string): Verdict => ({ pass: true, reason });
  switch (c.check) {
    case 'request': {
      const leaked = contains(o.upstreamDelta, needles);
      const sent = requestParams(c)!;
      if (kind === 'must-block') {
        if (leaked) return fail(`the planted value reached the upstream (client got ${describe(o.reply)})`);
        if (!isRefusal(o.reply)) return fail(`expected a -3200x refusal, client got ${describe(o.reply)}`);
        return ok(`refused with ${o.reply.error.code}; upstream never saw it`);
      }
      if (kind === 'must-redact') {
        if (leaked) return fail(`the planted value reached the upstream (client got ${describe(o.reply)})`);
        if (!isSuccess(o.reply)) return fail(`expected success with the value redacted, client got ${describe(o.reply)}`);
        if (!o.upstreamDelta.some((m) => m.method === sent.method)) return fail('the call never reached the upstream');
        return ok('forwarded with the value redacted');
      }
      if (!isSuccess(o.reply)) return fail(`legitimate call failed: ${describe(o.reply)}`);
      if (o.reply.result?.isError) return fail('legitimate call returned isError');
      const want = JSON.stringify(sent.params);
      if (!o.upstreamDelta.some((m) => m.method === sent.method && JSON.stringify(m.params) === want)) return fail('the upstream did not receive the payload unchanged');
      return ok('reached the upstream unchanged');
    }
    case 'response': {
      const leaked = contains(o.reply, needles);
      if (kind === 'must-block') {
        if (leaked) return fail(`the planted value reached the client (${describe(o.reply)})`);
        if (!isRefusal(o.reply)) return fail(`expected a -3200x refusal, client got ${describe(o.reply)}`);
        return ok(`refused with ${o.reply.error.code}`);
      }
      if (kind === 'must-redact') {
        if (leaked) return fail(`the planted value reached the client (${describe(o.reply)})`);
        if (!isSuccess(o.reply)) return fail(`expected success with the value redacted, client got ${describe(o.reply)}`);
        return ok('delivered with the value redacted');
      }
      if (!isSuccess(o.reply)) return fail(`legitimate call failed: ${describe(o.reply)}`);
      if (replyText(o.reply) !== c.upstreamReply) return fail('the client did not receive the upstream text unchanged');
      return ok('delivered unchanged');
    }
    case 'sampling': {
      if (o.reply === undefined) return fail('the tool call never completed');
      const sampled = o.serverRequests.filter((m) => m.method === 'sampling/createMessage');
      const leaked = contains(sampled, needles);
      const upstreamGot = o.upstreamDelta.filter((m) => m.method === undefined && m.id !== undefined && (m.result !== undefined || m.error !== undefined));
      if (kind === 'must-block') {
        if (leaked) return fail('the client received the sampling request with the planted value');
        if (!upstreamGot.some(isRefusal)) return fail(`the upstream did not get a -3200x refusal for its sampling request (got ${upstreamGot.map(describe).join(', ') || 'nothing'})`);
        return ok('sampling request refused; the client never saw it');
      }
      if (kind === 'must-redact') {
        if (!sampled.length) return fail('the sampling request never reached the client');
        if (leaked) return fail('the client received the planted value');
        return ok('sampling request delivered with the value redacted');
      }
      if (!sampled.length || !contains(sampled, [c.upstreamReply ?? ''])) return fail('the sampling request did not reach the client unchanged');
      if (!upstreamGot.some(isSuccess)) return fail(`the upstream did not receive the client's answer (got ${upstreamGot.map(describe).join(', ') || 'nothing'})`);
      return ok('sampling round trip worked');
    }
    case 'sampling-answer': {
      if (o.reply === undefined) return fail('the tool call never completed');
      if (contains(o.upstreamDelta, needles)) return fail("the client's answer with the planted value reached the upstream");
      const upstreamGot = o.upstreamDelta.filter((m) => m.method === undefined && m.id !== undefined);
      if (kind === 'must-block' && !upstreamGot.some(isRefusal)) return fail(`the upstream did not get a -3200x refusal (got ${upstreamGot.map(describe).join(', ') || 'nothing'})`);
      return ok("the client's answer was stopped");
    }
    case 'list': {
      if (!isSuccess(o.reply)) return fail(`list call failed: ${describe(o.reply)}`);
      const present = (c.forbidden ?? []).filter((f) => contains(o.reply.result, [f]));
      if (present.length) return fail(`the list reveals ${present.join(', ')}`);
      const missing = (c.required ?? []).filter((f) => !contains(o.reply.result, [f]));
      if (missing.length) return fail(`the list no longer shows allowed ${missing.join(', ')}`);
      return ok(kind === 'must-pass' ? 'allowed items listed' : 'denied items hidden');
    }
    case 'scenario':
      return fail('scenario cases are scored by their runner');
  }
}

/** Rate-limit scenario: successes must stay within limit plus burst allowance; the rest -32009. */
export function scoreRate(kind: CaseKind, r: { sent: number; ok: number; limited: number; other: number; limit: number }): Verdict {
  const allowance = Math.max(10, Math.ceil(r.limit * 0.2));
  if (kind === 'must-pass') {
    return r.ok === r.sent ? { pass: true, reason: `${r.ok}/${r.sent} succeeded` } : { pass: false, reason: `${r.ok}/${r.sent} succeeded, ${r.limited} rate-limited, ${r.other} other errors` };
  }
  if (r.ok > r.limit + allowance) return { pass: false, reason: `${r.ok} of ${r.sent} calls got through a ${r.limit}/min limit (allowed at most ${r.limit + allowance})` };
  if (r.other > 0) return { pass: false, reason: `${r.other} calls failed with something other than -32009` };
  return { pass: true, reason: `${r.ok} of ${r.sent} got through, ${r.limited} got -32009` };
}

export interface CategoryScore {
  category: string;
  kinds: Record<CaseKind, { pass: number; fail: number; notRun: number }>;
}

export function tally(results: { category: string; kind: CaseKind; verdict: Verdict }[], categories: string[]): CategoryScore[] {
  return categories.map((category) => {
    const kinds = { 'must-block': { pass: 0, fail: 0, notRun: 0 }, 'must-redact': { pass: 0, fail: 0, notRun: 0 }, 'must-pass': { pass: 0, fail: 0, notRun: 0 } };
    for (const r of results.filter((x) => x.category === category)) {
      const k = kinds[r.kind];
      if (r.verdict.notRun) k.notRun++;
      else if (r.verdict.pass) k.pass++;
      else k.fail++;
    }
    return { category, kinds };
  });
}

/**
 * A generated sampling case, run alongside others: `secret` is its key, which the leak server puts in
 * the request's `metadata.case`, `alsoLookFor` the planted value's forms. `sampled` holds the
 * sampling requests the client received; `reply` the answer to the tool call that made the server sample, which reports
 * what the server got back (the leak server's `_sampling`).
 */
export function scoreSamplingVariant(c: DetectionCase, reply: any, sampled: any[]): Verdict {
  const mine = sampled.filter((m) => m?.params?.metadata?.case === c.secret);
  const leaked = contains(mine, c.alsoLookFor ?? []);
  const got = reply?.result?._sampling;
  if (reply === undefined) return { pass: false, reason: 'the tool call never completed' };
  if (leaked) return { pass: false, reason: 'the client received the sampling request with the planted value' };
  if (c.kind === 'must-block') {
    if (mine.length) return { pass: false, reason: 'the sampling request reached the client' };
    if (!isRefusal({ error: got?.error })) return { pass: false, reason: `the server did not get a -3200x refusal (got ${JSON.stringify(got ?? reply.error ?? reply.result).slice(0, 100)})` };
    return { pass: true, reason: `sampling request refused with ${got.error.code}; the client never saw it` };
  }
  if (!mine.length) return { pass: false, reason: 'the sampling request never reached the client' };
  if (got?.result === undefined) return { pass: false, reason: `the server did not get the client's answer (got ${JSON.stringify(got ?? reply.error).slice(0, 100)})` };
  return { pass: true, reason: 'sampling request delivered with the value redacted' };
}
