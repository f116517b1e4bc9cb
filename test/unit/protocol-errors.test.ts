// Every refusal kind has its own class, code and data.kind, all inside -32003..-32019 and clear of
// what the MCP spec and the SDKs define; one renderer produces the wire form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as errors from '../../src/protocol/errors.js';
import { GuardError, renderError } from '../../src/protocol/errors.js';

const samples: GuardError[] = [
  new errors.PolicyDenied('tool', 'write_file is denied'),
  new errors.ContentBlocked(['email'], 'request'),
  new errors.RateLimited(1500, '10/min'),
  new errors.NotAuthenticated('no key'),
  new errors.UpstreamUnavailable('fs', 'crashed'),
  new errors.MessageTooLarge('too big', 10),
  new errors.ApprovalDenied('a1', 'no'),
  new errors.ApprovalExpired('a1', 'timed out'),
  new errors.InternalError(),
  new errors.SessionNotFound(),
  new errors.DuplicateId(7),
  new errors.UnknownServer('x'),
  new errors.BadTransport(405, 'use POST'),
];

test('each refusal kind has one distinct code in -32003..-32019, never an SDK or spec code', () => {
  const codes = new Set<number>();
  const kinds = new Set<string>();
  for (const e of samples) {
    assert.ok(e.code <= -32003 && e.code >= -32019, `${e.name} ${e.code}`);
    assert.ok(![-32000, -32001, -32002].includes(e.code));
    codes.add(e.code);
    kinds.add(e.kind);
  }
  assert.equal(codes.size, samples.length, 'codes are distinct per kind');
  assert.equal(kinds.size, samples.length, 'kinds are distinct');
  // InspectionFailed is an internal refusal (fail closed), with the internal code.
  assert.equal(new errors.InspectionFailed('pii').code, errors.ErrorCode.Internal);
  assert.equal(new errors.ParseError().code, -32700);
  assert.equal(new errors.InvalidRequest('x').code, -32600);
});

test('the renderer puts the kind first in data, on the request id, and never drops details', () => {
  const out = JSON.parse(renderError(42, new errors.ContentBlocked(['credit_card'], 'response')).toString());
  assert.deepEqual(out, {
    jsonrpc: '2.0',
    id: 42,
    error: {
      code: -32008,
      message: out.error.message,
      data: { kind: 'blocked', types: ['credit_card'], direction: 'response' },
    },
  });
  // A blocked response is not the caller's to fix: the message does not tell them to remove anything.
  assert.doesNotMatch(out.error.message, /Remove it/);
  assert.match(JSON.parse(renderError(1, new errors.ContentBlocked(['email'], 'request')).toString()).error.message, /Remove it and try again/);
  assert.deepEqual(JSON.parse(renderError(null, new errors.RateLimited(2500, '10/min')).toString()).error.data, { kind: 'rate_limited', retryAfterMs: 2500, limit: '10/min' });
});

test('HTTP status and headers come from the class', () => {
  assert.equal(new errors.NotAuthenticated('x').status, 401);
  assert.equal(new errors.NotAuthenticated('x', { forbidden: true }).status, 403);
  assert.equal(new errors.RateLimited(2500, 'x').headers?.['Retry-After'], '3');
  assert.equal(new errors.UpstreamUnavailable('s', 'x').status, 503);
  assert.equal(new errors.MessageTooLarge('x', 1).status, 413);
  assert.equal(new errors.SessionNotFound().status, 404);
  assert.deepEqual(new errors.BadTransport(405, 'x', { Allow: 'POST' }).headers, { Allow: 'POST' });
});
