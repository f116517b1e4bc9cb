// Generated auth-bypass attempts: forged, tampered, expired, misdirected, revoked and stolen
// credentials in api_key and oauth mode, each sent in a raw hello on the daemon's socket (what any
// local process can do, bridge or not) and followed by a tools/call. A JWKS server on 127.0.0.1
// serves the issuer's real public key, so a forged token fails for the reason its variant names
// and not because the issuer is unreachable; the valid credential of each mode must still work.
import { createHash, createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchHome } from '../../src/bench/guard-env.js';
import { WIRE_VERSION } from '../../src/protocol/hello.js';
import type { CaseKind } from './cases.js';
import type { Verdict } from './score.js';

export interface AuthVariantResult {
  id: string;
  category: 'auth-bypass';
  kind: CaseKind;
  description: string;
  verdict: Verdict;
}

interface Outcome {
  /** The daemon's answer to the hello. */
  hello?: { ok: boolean; code?: number; error?: string };
  /** The answer to the tools/call sent after an accepted hello. */
  call?: any;
  failed?: string;
}

/** One raw connection: hello (a line as given), then a tools/call carrying `marker` if the hello was accepted. */
function attempt(socketPath: string, helloLine: string, marker: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const out: Outcome = {};
    const done = (failed?: string) => {
      clearTimeout(timer);
      if (failed && !out.hello) out.failed = failed;
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => done('no answer within 15 s'), 15_000);
    sock.on('error', (e) => done(e.message));
    sock.on('close', () => done('connection closed'));
    sock.on('data', (c) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let m: any;
        try {
          m = JSON.parse(line);
        } catch {
          return done(`unparsable line from the daemon: ${line.slice(0, 80)}`);
        }
        if (!out.hello) {
          out.hello = { ok: m.ok === true, code: m.code, error: m.error };
          if (!out.hello.ok) return done();
          sock.write(JSON.stringify({ jsonrpc: '2.0', id: 'auth-call', method: 'tools/call', params: { name: 'echo', arguments: { marker } } }) + '\n');
        } else if (m.id === 'auth-call') {
          out.call = m;
          return done();
        }
      }
    });
    sock.write(helloLine.endsWith('\n') ? helloLine : helloLine + '\n');
  });
}

const hello = (credentials: unknown) => JSON.stringify({ mcpGuard: WIRE_VERSION, type: 'connect', server: 's', credentials, client: { pid: process.pid } });

function recorded(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function score(kind: CaseKind, o: Outcome, marker: string, secrets: string[], recording: string): Verdict {
  const leaked = secrets.filter((s) => s.length >= 8 && recording.includes(s));
  if (leaked.length) return { pass: false, reason: 'the credential reached the upstream' };
  const reached = recording.includes(marker);
  if (kind === 'must-pass') {
    if (!o.hello?.ok) return { pass: false, reason: `valid credential refused at the hello: ${o.hello?.code ?? ''} ${o.hello?.error ?? o.failed ?? ''}`.trim() };
    if (o.call?.result === undefined) return { pass: false, reason: `the call failed: ${JSON.stringify(o.call?.error ?? o.failed ?? 'no answer')}` };
    if (!reached) return { pass: false, reason: 'the call never reached the upstream' };
    return { pass: true, reason: 'accepted; the credential never reached the upstream' };
  }
  if (reached) return { pass: false, reason: `a call reached the upstream (hello ${o.hello?.ok ? 'accepted' : 'refused'})` };
  if (o.hello && !o.hello.ok) return { pass: true, reason: `hello refused with ${o.hello.code}` };
  const code = o.call?.error?.code;
  if (typeof code === 'number' && code <= -32003 && code >= -32019) return { pass: true, reason: `call refused with ${code}` };
  return { pass: false, reason: `expected a refusal, got ${o.failed ?? (o.call ? JSON.stringify(o.call).slice(0, 120) : 'nothing')}` };
}

const b64u = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hs = (header: object, payload: object, secret: string | Buffer) => {
  const h = `${b64u(header)}.${b64u(payload)}`;
  return `${h}.${createHmac('sha256', secret).update(h).digest('base64url')}`;
};

function server(dir: string, leakServer: string) {
  return { command: process.execPath, args: [leakServer], env: { RECORD_FILE: join(dir, 's.jsonl') } };
}

async function withDaemon(
  auth: Record<string, unknown>,
  leakServer: string,
  prepare: (h: BenchHome) => Promise<void> | void,
  run: (h: BenchHome, socketPath: string) => Promise<void>,
): Promise<void> {
  const h = new BenchHome('mgv-');
  try {
    h.writeConfig(JSON.stringify({ servers: { s: server(h.dir, leakServer) }, daemon: { home: h.home, log_level: 'warn', shutdown_timeout: 1 }, auth, audit: { enabled: false } }));
    await prepare(h);
    const started = h.cli(['start', '--detach', '--config', h.configPath]);
    if (started.code !== 0) throw new Error(`the daemon did not start: ${(started.stderr || started.stdout).trim()}`);
    await run(h, join(h.home, 'daemon.sock'));
  } finally {
    await h.close();
  }
}

/** Every auth variant, scored; `leakServer` is the recording upstream's script. */
export async function runAuthVariants(leakServer: string, say: (m: string) => void = () => {}, every = 1): Promise<AuthVariantResult[]> {
  const results: AuthVariantResult[] = [];
  let n = 0;
  const check = async (socketPath: string, recording: string, kind: CaseKind, description: string, line: string, secrets: string[]) => {
    const id = `g-auth-${++n}`;
    // A sample (quick mode) keeps every k-th attempt, and always the valid credentials.
    if (kind !== 'must-pass' && n % every !== 0) return;
    say(`auth variant ${n} ${description}`);
    const o = await attempt(socketPath, line, id);
    // The upstream writes a line before answering it; a refused call that was forwarded all the same needs a moment.
    if (!o.call) await new Promise((r) => setTimeout(r, 20));
    results.push({ id, category: 'auth-bypass', kind, description, verdict: score(kind, o, id, secrets, recorded(recording)) });
  };

  // ---- api_key --------------------------------------------------------------------------------
  let key = '';
  let revoked = '';
  let foreign = '';
  const keyOf = (h: BenchHome, name: string, cfg = h.configPath) => {
    const r = h.cli(['keys', 'create', '--name', name, '--role', 'dev', '--config', cfg]);
    if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr || r.stdout}`);
    return (r.stdout.match(/[A-Za-z0-9_\-.]{24,}/g) ?? []).sort((a, b) => b.length - a.length)[0]!;
  };
  await withDaemon(
    { mode: 'api_key', roles: { dev: {} } },
    leakServer,
    async (h) => {
      key = keyOf(h, 'bench');
      revoked = keyOf(h, 'gone');
      const rv = h.cli(['keys', 'revoke', 'gone', '--config', h.configPath]);
      if (rv.code !== 0) throw new Error(`keys revoke failed: ${rv.stderr || rv.stdout}`);
      // A key of another deployment (its own home and key store), as if stolen from there.
      const other = new BenchHome('mgw-');
      try {
        other.writeConfig(JSON.stringify({ servers: {}, daemon: { home: other.home }, auth: { mode: 'api_key', roles: { dev: {} } } }));
        foreign = keyOf(other, 'bench');
      } finally {
        await other.close();
      }
    },
    async (h, sock) => {
      const rec = join(h.dir, 's.jsonl');
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const all = [key, revoked, foreign];
      await check(sock, rec, 'must-pass', 'api_key: the valid key', hello({ apiKey: key }), all);
      const forged: [string, unknown][] = [
        ['no credentials', undefined],
        ['an empty key', { apiKey: '' }],
        ['a key of the right shape, made up', { apiKey: key.slice(0, 8) + createHash('sha256').update('forged').digest('base64url').slice(0, key.length - 8) }],
        ['the valid key with its first character changed', { apiKey: flip(key, 0) }],
        ['the valid key with a middle character changed', { apiKey: flip(key, key.length >> 1) }],
        ['the valid key with its last character changed', { apiKey: flip(key, key.length - 1) }],
        ['the valid key cut short by one character', { apiKey: key.slice(0, -1) }],
        ['the valid key with a character appended', { apiKey: key + 'x' }],
        ['the valid key in upper case', { apiKey: key.toUpperCase() }],
        ['the valid key with a NUL appended', { apiKey: key + '\u0000' }],
        ['a revoked key replayed', { apiKey: revoked }],
        ['a key of another deployment (stolen elsewhere)', { apiKey: foreign }],
        ['the key as a number', { apiKey: 12345678901234567890 }],
        ['the key as an array', { apiKey: [key] }],
        ['the key as an object', { apiKey: { $ne: '' } }],
        ['a 64 KB key', { apiKey: 'k'.repeat(60_000) }],
        ['a bearer token instead of a key', { token: key }],
      ];
      for (const [d, cred] of forged) await check(sock, rec, 'must-block', `api_key: ${d}`, hello(cred), all);
      await check(sock, rec, 'must-block', 'api_key: credentials that are a string', JSON.stringify({ mcpGuard: WIRE_VERSION, type: 'connect', server: 's', credentials: key }), all);
      await check(sock, rec, 'must-block', 'api_key: the hello for another server name', JSON.stringify({ mcpGuard: WIRE_VERSION, type: 'connect', server: 'S', credentials: { apiKey: key } }), all);
      await check(sock, rec, 'must-block', 'api_key: not a hello at all, straight to JSON-RPC', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { apiKey: key } } }), all);
    },
  );

  // ---- oauth ----------------------------------------------------------------------------------
  const issuerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwkA = { ...issuerKey.publicKey.export({ format: 'jwk' }), kid: 'issuer-1', alg: 'RS256', use: 'sig' };
  const jwkB = { ...attackerKey.publicKey.export({ format: 'jwk' }), kid: 'issuer-1', alg: 'RS256', use: 'sig' };
  const jwks: Server = createServer((req, res) => {
    const body = req.url === '/jwks' ? { keys: [jwkA] } : req.url === '/attacker' ? { keys: [jwkB] } : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const port = (jwks.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}/`;
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer, aud: 'mcp-guard', sub: 'alice', roles: ['dev'], iat: now, exp: now + 3600 };
  // Signed by hand (RS256 or ES256), so that a header no library would write (crit, jku, jwk) can be sent.
  const sign = (payload: Record<string, unknown>, key: KeyObject = issuerKey.privateKey, header: Record<string, unknown> = { alg: 'RS256', kid: 'issuer-1' }): string => {
    const h = `${b64u({ typ: 'JWT', ...header })}.${b64u(payload)}`;
    const sig = cryptoSign('sha256', Buffer.from(h), header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
    return `${h}.${sig.toString('base64url')}`;
  };
  try {
    await withDaemon(
      { mode: 'oauth', roles: { dev: {} }, oauth: { issuer, audience: 'mcp-guard', jwks_uri: `${issuer}jwks`, role_mapping: { dev: ['dev'] }, clock_tolerance_s: 30 } },
      leakServer,
      () => {},
      async (h, sock) => {
        const rec = join(h.dir, 's.jsonl');
        const valid = sign(claims);
        const [vh, vp, vs] = valid.split('.') as [string, string, string];
        const pem = issuerKey.publicKey.export({ type: 'spki', format: 'pem' }) as string;
        const tokens: [string, string][] = [
          ['alg none, no signature', `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(claims)}.`],
          ['alg None (capitalised)', `${b64u({ alg: 'None', typ: 'JWT' })}.${b64u(claims)}.`],
          ['alg none with the valid signature kept', `${b64u({ alg: 'none', typ: 'JWT' })}.${vp}.${vs}`],
          ['no alg in the header', `${b64u({ typ: 'JWT' })}.${vp}.${vs}`],
          ['HS256 signed with the issuer public key as the secret (algorithm confusion)', hs({ alg: 'HS256', typ: 'JWT', kid: 'issuer-1' }, claims, pem)],
          ['HS256 signed with a guessed secret', hs({ alg: 'HS256', typ: 'JWT' }, claims, 'secret')],
          ['HS256 signed with an empty secret', hs({ alg: 'HS256', typ: 'JWT' }, claims, '')],
          ['signed by another key under the issuer key id', sign(claims, attackerKey.privateKey)],
          ['signed by another key, no key id', sign(claims, attackerKey.privateKey, { alg: 'RS256' })],
          ['signed by another key with a jku header to that key', sign(claims, attackerKey.privateKey, { alg: 'RS256', kid: 'issuer-1', jku: `${issuer}attacker` })],
          ['signed by another key with that key embedded (jwk header)', sign(claims, attackerKey.privateKey, { alg: 'RS256', jwk: jwkB })],
          ['signed by an unknown EC key (ES256)', sign(claims, ecKey.privateKey, { alg: 'ES256', kid: 'issuer-ec' })],
          ['a key id with path traversal', sign(claims, attackerKey.privateKey, { alg: 'RS256', kid: '../../../../dev/null' })],
          ['expired an hour ago', sign({ ...claims, iat: now - 7200, exp: now - 3600 })],
          ['not valid for another hour (nbf)', sign({ ...claims, nbf: now + 3600 })],
          ['for another audience', sign({ ...claims, aud: 'other-api' })],
          ['for several audiences, none ours', sign({ ...claims, aud: ['billing', 'mcp-guard-admin'] })],
          ['from another issuer', sign({ ...claims, iss: 'https://evil.example/' })],
          ['without a subject', sign({ iss: issuer, aud: 'mcp-guard', roles: ['dev'], exp: now + 3600 })],
          ['without an expiry', sign({ iss: issuer, aud: 'mcp-guard', sub: 'alice', roles: ['dev'] })],
          ['with a role the mapping does not know', sign({ ...claims, roles: ['admin'] })],
          ['without the role claim', sign({ iss: issuer, aud: 'mcp-guard', sub: 'alice', exp: now + 3600 })],
          ['an unknown critical header', sign(claims, issuerKey.privateKey, { alg: 'RS256', kid: 'issuer-1', crit: ['x-bench'], 'x-bench': 1 })],
          ['the valid token with its payload changed (roles admin)', `${vh}.${b64u({ ...claims, roles: ['admin', 'dev'] })}.${vs}`],
          ['the valid token with its payload changed (another subject)', `${vh}.${b64u({ ...claims, sub: 'root' })}.${vs}`],
          ['the valid token without its signature', `${vh}.${vp}.`],
          ['the valid token with its signature cut short', `${vh}.${vp}.${vs.slice(0, -6)}`],
          ['the valid token with a fourth part', `${valid}.AAAA`],
          ['five parts, like an encrypted token', `${vh}.${vp}.AAAA.BBBB.${vs}`],
          ['a 60 KB token signed by another key', sign({ ...claims, pad: 'x'.repeat(60_000) }, attackerKey.privateKey)],
          ['not a JWT at all', 'Bearer definitely-not-a-token'],
        ];
        await check(sock, rec, 'must-pass', 'oauth: the valid token', hello({ token: valid }), [valid]);
        for (const [d, t] of tokens) {
          await check(sock, rec, 'must-block', `oauth: ${d}`, hello({ token: t }), [t, valid]);
        }
        const odd: [string, unknown][] = [
          ['no credentials', undefined],
          ['the token as a number', { token: 1 }],
          ['the token as an object', { token: { alg: 'none' } }],
          ['an API key instead of a token', { apiKey: valid }],
        ];
        for (const [d, cred] of odd) await check(sock, rec, 'must-block', `oauth: ${d}`, hello(cred), [valid]);
      },
    );
  } finally {
    await new Promise((r) => jwks.close(r));
  }
  return results;
}
