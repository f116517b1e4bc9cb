// The attack and control cases of the detection suite, as data. Each case says what the client
// sends, what the recording upstream answers (for leaks in responses), which value is planted, and
// what must happen to it. Scenario categories (auth, config override, rate limits) are driven by
// their own runners but are still listed here so that they are reported like every other case.

export type Category =
  | 'pii-response-leak'
  | 'pii-request-leak'
  | 'pii-evasion'
  | 'auth-bypass'
  | 'sampling-injection'
  | 'config-override'
  | 'permission-bypass'
  | 'capability-probe'
  | 'resource-traversal'
  | 'rate-limit-evasion';

export const CATEGORIES: Category[] = [
  'pii-response-leak',
  'pii-request-leak',
  'pii-evasion',
  'auth-bypass',
  'sampling-injection',
  'config-override',
  'permission-bypass',
  'capability-probe',
  'resource-traversal',
  'rate-limit-evasion',
];

export type CaseKind = 'must-block' | 'must-redact' | 'must-pass';

/** How a case is scored: which way the secret travels and what counts as a result. */
export type Check =
  /** Client → upstream: the secret must not reach the upstream recording. */
  | 'request'
  /** Upstream → client in a response: the secret must not reach the client. */
  | 'response'
  /** Server → client sampling request; the upstream must get a refusal when blocked. */
  | 'sampling'
  /** Client's answer to a sampling request → upstream. */
  | 'sampling-answer'
  /** A list reply must not name `forbidden` and must name `required`. */
  | 'list'
  /** Scored by a scenario runner. */
  | 'scenario';

export interface DetectionCase {
  id: string;
  category: Category;
  kind: CaseKind;
  check: Check;
  description: string;
  /** Server profile of the suite config (see suite.ts); default `guarded`. */
  profile?: string;
  /** What the client sends (the runner adds jsonrpc and id). */
  request?: { method: string; params?: unknown };
  /** A raw request line instead of `request`, with `__ID__` where the id goes (JSON escapes). */
  raw?: string;
  /** What the recording upstream answers (leak: text content; sample: the sampling prompt). */
  upstreamReply?: string;
  /** What the client answers to a sampling request (sampling-answer cases). */
  clientAnswer?: string;
  /** The planted value to look for; for must-pass, a value that must arrive unchanged. */
  secret: string;
  /** More forms of the secret that must not arrive either (e.g. the decoded form). */
  alsoLookFor?: string[];
  forbidden?: string[];
  required?: string[];
  /** Scenario runner name and its parameters. */
  scenario?: { run: string; [k: string]: unknown };
  /** For a generated PII or secret case: the README family of the planted value's type. */
  family?: string;
}

// ---- planted values (valid formats and checksums; none is a real credential) ---------------

export const S = {
  visa: '4111111111111111',
  visaSpaced: '4111 1111 1111 1111',
  mastercard: '5555555555554444',
  amex: '378282246310005',
  ssn: '536-22-8451',
  iban: 'GB82WEST12345698765432',
  email: 'jane.doe@acme-widgets.io',
  phone: '+1 650-253-0000',
  aws: 'AKIAZ3MXQ7RTWY4PLK2N',
  github: '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',
  stripe: 'sk_live_51HxQ2kL9mN3pR7sT0vW4yZ8a',
  slack: 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFc\n-----END RSA PRIVATE KEY-----',
  dburl: 'postgres://admin:Xk9vQ2mPz7LwR4tY@db.internal.acme.io:5432/prod',
  openai: 'sk-proj-Tq3Zr8Lm2Xv7Nc5Bw1Ks9Hd4Fg6Jp0Qa2Ws8Ed5Rf3Ty7Uh1Ij9Ok',
};

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
const ent = (s: string) => [...s].map((c) => `&#${c.codePointAt(0)};`).join('');
const uesc = (s: string) => [...s].map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('');
const fullwidth = (s: string) => s.replace(/[0-9A-Za-z]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));
const mathDigits = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCodePoint(0x1d7ce + Number(d))); // 𝟎..𝟗, NFKC → 0..9
const zw = (s: string) => [...s].join('\u200b');

const call = (name: string, args: Record<string, unknown>) => ({ method: 'tools/call', params: { name, arguments: args } });

function requestLeaks(): DetectionCase[] {
  const out: DetectionCase[] = [];
  const block: [string, string, string][] = [
    ['visa', S.visa, 'Visa card number'],
    ['visa-spaced', S.visaSpaced, 'Visa card with spaces'],
    ['mastercard', S.mastercard, 'Mastercard number'],
    ['amex', S.amex, 'Amex number'],
    ['ssn', S.ssn, 'US SSN'],
    ['iban', S.iban, 'IBAN'],
    ['aws', S.aws, 'AWS access key id'],
    ['github', S.github, 'GitHub token'],
    ['stripe', S.stripe, 'Stripe live key'],
    ['slack', S.slack, 'Slack bot token'],
    ['jwt', S.jwt, 'JWT'],
    ['pem', S.pem, 'PEM private key'],
    ['dburl', S.dburl, 'database URL with password'],
    ['openai', S.openai, 'OpenAI project key'],
  ];
  for (const [id, v, d] of block) {
    out.push({ id: `req-${id}`, category: 'pii-request-leak', kind: 'must-block', check: 'request', description: `${d} in a tool argument`, request: call('echo', { note: `please use ${v} for this` }), secret: v });
  }
  out.push({ id: 'req-aws-nested', category: 'pii-request-leak', kind: 'must-block', check: 'request', description: 'AWS key deep in nested arrays', request: call('echo', { a: [{ b: [{ c: { d: [`key=${S.aws}`] } }] }] }), secret: S.aws });
  out.push({ id: 'req-card-prompt-arg', category: 'pii-request-leak', kind: 'must-block', check: 'request', description: 'card in prompts/get arguments', request: { method: 'prompts/get', params: { name: 'greet', arguments: { who: `card ${S.mastercard}` } } }, secret: S.mastercard });
  out.push({ id: 'req-card-in-tool-name', category: 'pii-request-leak', kind: 'must-block', check: 'request', description: 'card number inside the tool name', request: call(`lookup_${S.visa}`, {}), secret: S.visa });
  out.push({ id: 'req-email', category: 'pii-request-leak', kind: 'must-redact', check: 'request', description: 'email in a tool argument (redact)', request: call('echo', { to: S.email, body: 'hello' }), secret: S.email });
  out.push({ id: 'req-phone', category: 'pii-request-leak', kind: 'must-redact', check: 'request', description: 'phone number in a tool argument (redact)', request: call('echo', { call: `ring ${S.phone} tomorrow` }), secret: S.phone });
  // Controls
  out.push({ id: 'req-pass-order', category: 'pii-request-leak', kind: 'must-pass', check: 'request', description: 'order number and a Luhn-failing 16-digit id', request: call('echo', { order: 'ORD-2024-000187', ref: '4111111111111112' }), secret: '4111111111111112' });
  out.push({ id: 'req-pass-uuid', category: 'pii-request-leak', kind: 'must-pass', check: 'request', description: 'UUID and git SHA', request: call('echo', { id: '3f2b8c1e-9d4a-4b7e-8f21-6c0d5a9e3b12', sha: '9fceb02d0ae598e95dc970b74767f19372d61af8' }), secret: '9fceb02d0ae598e95dc970b74767f19372d61af8' });
  out.push({ id: 'req-pass-aws-example-doc', category: 'pii-request-leak', kind: 'must-pass', check: 'request', description: 'prose that mentions an access key without one', request: call('echo', { text: 'Rotate the AWS access key every 90 days; see the IAM console.' }), secret: 'IAM console' });
  return out;
}

function responseLeaks(): DetectionCase[] {
  const out: DetectionCase[] = [];
  const leak = (id: string, kind: CaseKind, text: string, secret: string, d: string, also?: string[]): DetectionCase => ({
    id: `resp-${id}`, category: 'pii-response-leak', kind, check: 'response', description: d, request: call('leak', { key: `resp-${id}` }), upstreamReply: text, secret, alsoLookFor: also,
  });
  out.push(leak('visa', 'must-redact', `Customer card on file: ${S.visa}, exp 12/29`, S.visa, 'card in a tool result (redact)'));
  out.push(leak('visa-dashed', 'must-redact', `card 4111-1111-1111-1111 charged`, '4111-1111-1111-1111', 'dashed card in a tool result'));
  out.push(leak('ssn', 'must-redact', `SSN: ${S.ssn}`, S.ssn, 'SSN in a tool result'));
  out.push(leak('iban', 'must-redact', `Pay to ${S.iban}`, S.iban, 'IBAN in a tool result'));
  out.push(leak('email', 'must-redact', `Contact: ${S.email}`, S.email, 'email in a tool result'));
  out.push(leak('phone', 'must-redact', `Call ${S.phone}`, S.phone, 'phone in a tool result'));
  out.push(leak('aws', 'must-block', `AWS_ACCESS_KEY_ID=${S.aws}`, S.aws, 'AWS key in a tool result'));
  out.push(leak('github', 'must-block', `token: ${S.github}`, S.github, 'GitHub token in a tool result'));
  out.push(leak('pem', 'must-block', `here is the key\n${S.pem}\n`, 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw', 'PEM key in a tool result'));
  out.push(leak('dburl', 'must-block', `DATABASE_URL=${S.dburl}`, 'Xk9vQ2mPz7LwR4tY', 'database password in a tool result'));
  out.push(leak('jwt', 'must-block', `Authorization: Bearer ${S.jwt}`, S.jwt, 'JWT in a tool result'));
  out.push(leak('card-big', 'must-redact', `${'log line ok\n'.repeat(9000)}card=${S.mastercard}\n`, S.mastercard, 'card after 100 KB of output'));
  out.push({ id: 'resp-resource', category: 'pii-response-leak', kind: 'must-redact', check: 'response', description: 'email inside resources/read contents', request: { method: 'resources/read', params: { uri: 'file:///data/report.txt' } }, upstreamReply: `owner ${S.email}`, secret: S.email });
  out.push(leak('pass-logs', 'must-pass', '2024-05-01T12:00:03Z INFO order ORD-88123 shipped, sha 9fceb02d, v1.4.2', '2024-05-01T12:00:03Z INFO order ORD-88123 shipped, sha 9fceb02d, v1.4.2', 'log lines with near misses'));
  out.push(leak('pass-luhn-fail', 'must-pass', 'invoice id 4111111111111112 (not a card)', 'invoice id 4111111111111112 (not a card)', '16-digit id failing Luhn'));
  return out;
}

function evasions(): DetectionCase[] {
  const out: DetectionCase[] = [];
  const card = S.visa;
  const e = (id: string, d: string, args: Record<string, unknown>, secret: string, also: string[] = [card]): DetectionCase => ({
    id: `ev-${id}`, category: 'pii-evasion', kind: 'must-block', check: 'request', description: d, request: call('echo', args), secret, alsoLookFor: also,
  });
  out.push(e('base64', 'card in base64', { blob: b64(`card ${card}`) }, b64(`card ${card}`)));
  out.push(e('base64-aws', 'AWS key in base64', { blob: b64(`aws_access_key_id=${S.aws}`) }, b64(`aws_access_key_id=${S.aws}`), [S.aws]));
  out.push(e('hex', 'card in hex', { blob: hex(`card ${card}`) }, hex(`card ${card}`)));
  out.push(e('percent', 'card percent-encoded', { q: pct(card) }, pct(card)));
  out.push(e('percent-github', 'GitHub token percent-encoded', { q: pct(S.github) }, pct(S.github), [S.github]));
  out.push(e('html-entities', 'card as HTML entities', { html: ent(card) }, ent(card)));
  out.push({ id: 'ev-json-unicode', category: 'pii-evasion', kind: 'must-block', check: 'request', description: 'card as JSON \\u escapes (decodes to digits)', raw: `{"jsonrpc":"2.0","id":__ID__,"method":"tools/call","params":{"name":"echo","arguments":{"n":"${uesc(card)}"}}}`, secret: card });
  out.push(e('literal-u-escapes', 'card as literal \\u text inside a string', { n: uesc(card) }, uesc(card)));
  out.push(e('dashes', 'card with dashes', { n: '4111-1111-1111-1111' }, '4111-1111-1111-1111'));
  out.push(e('dots', 'card with dots', { n: '4111.1111.1111.1111' }, '4111.1111.1111.1111'));
  out.push(e('unicode-dash', 'card with Unicode dashes', { n: '4111\u20131111\u20131111\u20131111' }, '4111\u20131111\u20131111\u20131111'));
  out.push(e('zero-width', 'card with zero-width spaces', { n: zw(card) }, zw(card)));
  out.push(e('soft-hyphen', 'AWS key with soft hyphens', { k: S.aws.slice(0, 10) + '\u00ad' + S.aws.slice(10) }, S.aws.slice(0, 10) + '\u00ad' + S.aws.slice(10), [S.aws]));
  out.push(e('fullwidth', 'card in fullwidth digits', { n: fullwidth(card) }, fullwidth(card)));
  out.push(e('fullwidth-aws', 'AWS key in fullwidth letters', { k: fullwidth(S.aws) }, fullwidth(S.aws), [S.aws]));
  out.push(e('math-digits', 'card in mathematical bold digits (homoglyphs)', { n: mathDigits(card) }, mathDigits(card)));
  out.push(e('key-aws', 'AWS key as an object key', { [S.aws]: 'x' }, S.aws, [S.aws]));
  out.push(e('key-card', 'card as an object key', { [card]: true }, card));
  out.push(e('number-card', 'card as a JSON number', { amount: 12, n: Number(card) }, card));
  out.push(e('number-in-array', 'card as a number in an array', { ns: [1, 2, Number(S.mastercard)] }, S.mastercard, [S.mastercard]));
  out.push(e('padding-70k', 'card after 70 KB of padding', { text: 'a'.repeat(70 * 1024) + ` ${card}` }, card));
  out.push(e('padding-300k', 'AWS key after 300 KB of prose', { text: 'lorem ipsum dolor sit amet '.repeat(11500) + ` ${S.aws}` }, S.aws, [S.aws]));
  out.push(e('double-b64', 'AWS key base64 inside base64', { blob: b64(b64(`key ${S.aws}`)) }, b64(b64(`key ${S.aws}`)), [S.aws]));
  out.push(e('mixed-case-ssn', 'SSN written with spaces', { s: '536 22 8451 is my ssn' }, '536 22 8451', []));
  out.push({ id: 'ev-resp-base64', category: 'pii-evasion', kind: 'must-redact', check: 'response', description: 'card in base64 in a tool result', request: call('leak', { key: 'ev-resp-base64' }), upstreamReply: `blob: ${b64('card ' + card)}`, secret: b64('card ' + card), alsoLookFor: [card] });
  out.push({ id: 'ev-resp-fullwidth', category: 'pii-evasion', kind: 'must-redact', check: 'response', description: 'card in fullwidth digits in a tool result', request: call('leak', { key: 'ev-resp-fullwidth' }), upstreamReply: `card ${fullwidth(card)}`, secret: fullwidth(card), alsoLookFor: [card] });
  out.push({ id: 'ev-resp-structured-key', category: 'pii-evasion', kind: 'must-block', check: 'response', description: 'AWS key as a key of structuredContent', request: call('leak_structured', { key: 'ev-resp-structured-key' }), upstreamReply: JSON.stringify({ [S.aws]: 'creds' }), secret: S.aws });
  // Controls that look like evasions.
  out.push({ id: 'ev-pass-image', category: 'pii-evasion', kind: 'must-pass', check: 'request', description: 'base64 PNG data (no secret inside)', request: call('echo', { image: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==' }), secret: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==' });
  out.push({ id: 'ev-pass-hexhash', category: 'pii-evasion', kind: 'must-pass', check: 'request', description: 'sha256 hex digest', request: call('echo', { sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }), secret: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  out.push({ id: 'ev-pass-fullwidth-text', category: 'pii-evasion', kind: 'must-pass', check: 'request', description: 'fullwidth Japanese text with a date', request: call('echo', { text: '会議は２０２４年５月１日です' }), secret: '会議は２０２４年５月１日です' });
  out.push({ id: 'ev-pass-percent-url', category: 'pii-evasion', kind: 'must-pass', check: 'request', description: 'percent-encoded search URL', request: call('echo', { url: 'https://example.org/search?q=hello%20world%21&lang=en' }), secret: 'https://example.org/search?q=hello%20world%21&lang=en' });
  return out;
}

function sampling(): DetectionCase[] {
  const s = (id: string, kind: CaseKind, profile: string, prompt: string, secret: string, d: string): DetectionCase => ({
    id: `samp-${id}`, category: 'sampling-injection', kind, check: 'sampling', profile, description: d, request: call('sample', { key: `samp-${id}` }), upstreamReply: prompt, secret,
  });
  return [
    s('aws', 'must-block', 'guarded', `Summarise: the key is ${S.aws}`, S.aws, 'sampling request carrying an AWS key'),
    s('card-b64', 'must-block', 'guarded', `decode ${b64('card ' + S.visa)}`, b64('card ' + S.visa), 'sampling request carrying a base64 card'),
    s('email', 'must-redact', 'guarded', `Write to ${S.email} about the invoice`, S.email, 'sampling request carrying an email (redact)'),
    s('disabled', 'must-block', 'nosampling', 'marker-7f3a9 benign prompt while sampling is disabled', 'marker-7f3a9', 'sampling on a server whose policy disables it'),
    s('pass', 'must-pass', 'guarded', 'Summarise the release notes for v2.3.1 in two sentences.', 'Summarise the release notes for v2.3.1 in two sentences.', 'benign sampling where enabled'),
    {
      id: 'samp-answer-secret', category: 'sampling-injection', kind: 'must-block', check: 'sampling-answer', profile: 'guarded', description: 'the client answers a sampling request with a GitHub token',
      request: call('sample', { key: 'samp-answer-secret' }), upstreamReply: 'ask-for-token', clientAnswer: `sure: ${S.github}`, secret: S.github,
    },
  ];
}

function permissions(): DetectionCase[] {
  const p = (id: string, kind: CaseKind, profile: string, name: string, d: string, args: Record<string, unknown> = {}): DetectionCase => ({
    id: `perm-${id}`, category: 'permission-bypass', kind, check: 'request', profile, description: d, request: call(name, { ...args, marker: `perm-${id}` }), secret: `perm-${id}`,
  });
  return [
    p('exact', 'must-block', 'denyonly', 'write_file', 'denied tool, exact name'),
    p('upper', 'must-block', 'denyonly', 'WRITE_FILE', 'denied tool in upper case'),
    p('mixed', 'must-block', 'denyonly', 'Write_File', 'denied tool in mixed case'),
    p('fullwidth', 'must-block', 'denyonly', 'ｗｒｉｔｅ_ｆｉｌｅ', 'denied tool in fullwidth letters (NFKC)'),
    p('zero-width', 'must-block', 'denyonly', 'write\u200b_file', 'denied tool with a zero-width space'),
    p('trailing-space', 'must-block', 'denyonly', 'write_file ', 'denied tool with a trailing space'),
    p('leading-space', 'must-block', 'denyonly', ' write_file', 'denied tool with a leading space'),
    p('nul', 'must-block', 'denyonly', 'write_file\u0000', 'denied tool with a NUL suffix'),
    p('glob', 'must-block', 'denyonly', 'DELETE_everything', 'glob-denied tool (delete_*) in upper case'),
    p('allow-missing', 'must-block', 'guarded', 'exec_shell', 'tool outside the allow list'),
    p('allow-prefix', 'must-block', 'guarded', 'read_file_and_exec', 'allowed name as a prefix of another'),
    p('allow-suffix', 'must-block', 'guarded', 'x_read_file', 'allowed name as a suffix of another'),
    p('arg-etc', 'must-block', 'guarded', 'read_file', 'argument rule: path under /etc', { path: '/etc/passwd' }),
    p('arg-dotdot', 'must-block', 'guarded', 'read_file', 'argument rule: path traversal with ..', { path: '/data/../etc/passwd' }),
    p('arg-dot', 'must-block', 'guarded', 'read_file', 'argument rule: /etc/./passwd', { path: '/etc/./passwd' }),
    p('arg-double-slash', 'must-block', 'guarded', 'read_file', 'argument rule: //etc//passwd', { path: '//etc//passwd' }),
    p('pass-read', 'must-pass', 'guarded', 'read_file', 'allowed tool with a good path', { path: '/data/report.txt' }),
    p('pass-deny-other', 'must-pass', 'denyonly', 'read_file', 'a tool a deny list does not name'),
  ];
}

function capabilities(): DetectionCase[] {
  const l = (id: string, kind: CaseKind, method: string, forbidden: string[], required: string[], d: string): DetectionCase => ({
    id: `cap-${id}`, category: 'capability-probe', kind, check: 'list', description: d, request: { method, params: {} }, secret: forbidden[0] ?? required[0] ?? '', forbidden, required,
  });
  return [
    l('tools', 'must-redact', 'tools/list', ['write_file', 'delete_file', 'admin_reset', 'exec_shell'], [], 'tools/list hides denied tools'),
    l('resources', 'must-redact', 'resources/list', ['file:///etc/passwd', 'file:///etc/shadow', 'file:///data/app/.env', 'file:///secret/keys.pem'], [], 'resources/list hides denied resources'),
    l('templates', 'must-redact', 'resources/templates/list', ['file:///etc/{name}'], [], 'resource templates under a denied prefix are hidden'),
    l('prompts', 'must-redact', 'prompts/list', ['secret_prompt', 'admin_prompt'], [], 'prompts/list hides denied prompts'),
    l('pass-tools', 'must-pass', 'tools/list', [], ['echo', 'leak', 'read_file', 'list_directory'], 'allowed tools are still listed'),
    l('pass-resources', 'must-pass', 'resources/list', [], ['file:///data/report.txt', 'file:///data/notes.md'], 'allowed resources are still listed'),
    l('pass-prompts', 'must-pass', 'prompts/list', [], ['greet', 'summarize'], 'allowed prompts are still listed'),
  ];
}

function traversal(): DetectionCase[] {
  const r = (id: string, kind: CaseKind, uri: string, d: string): DetectionCase => ({
    id: `trav-${id}`, category: 'resource-traversal', kind, check: 'request', description: d, request: { method: 'resources/read', params: { uri } }, secret: uri,
  });
  return [
    r('plain', 'must-block', 'file:///etc/passwd', 'denied resource, plain'),
    r('dotdot', 'must-block', 'file:///data/../etc/passwd', '.. out of an allowed prefix'),
    r('dotdot-deep', 'must-block', 'file:///data/a/b/../../../etc/shadow', 'nested .. segments'),
    r('pct-dots', 'must-block', 'file:///data/%2e%2e/etc/passwd', 'percent-encoded dots'),
    r('pct-slash', 'must-block', 'file:///data/..%2fetc/passwd', 'percent-encoded slash'),
    r('pct-upper', 'must-block', 'file:///data/%2E%2E/%2E%2E/etc/passwd', 'upper-case percent-encoding'),
    r('double-enc', 'must-block', 'file:///data/%252e%252e/etc/passwd', 'double percent-encoding'),
    r('backslash', 'must-block', 'file:///data\\..\\etc\\passwd', 'backslash separators'),
    r('scheme-case', 'must-block', 'FILE:///etc/passwd', 'upper-case scheme'),
    r('localhost', 'must-block', 'file://localhost/etc/passwd', 'explicit localhost host'),
    r('dotenv', 'must-block', 'file:///data/app/.env', 'denied **/.env under an allowed prefix'),
    r('dotenv-pct', 'must-block', 'file:///data/app/%2eenv', 'percent-encoded .env'),
    r('extra-slashes', 'must-block', 'file:////etc//passwd', 'extra slashes'),
    r('dot-seg', 'must-block', 'file:///./etc/passwd', 'a ./ segment'),
    r('outside', 'must-block', 'file:///home/user/.ssh/id_rsa', 'outside the allowed prefix'),
    r('prefix-sibling', 'must-block', 'file:///data-private/x.txt', 'sibling directory sharing the allowed prefix'),
    r('pass-report', 'must-pass', 'file:///data/report.txt', 'allowed resource'),
    r('pass-nested', 'must-pass', 'file:///data/sub/dir/notes.md', 'allowed nested resource'),
  ];
}

function scenarios(): DetectionCase[] {
  const sc = (id: string, category: Category, kind: CaseKind, d: string, scenario: DetectionCase['scenario']): DetectionCase => ({ id, category, kind, check: 'scenario', description: d, secret: '', scenario });
  return [
    // auth
    sc('auth-os-not-allowed', 'auth-bypass', 'must-block', 'os mode: a user not in allowed_users connects', { run: 'auth-os-not-allowed' }),
    sc('auth-os-pass', 'auth-bypass', 'must-pass', 'os mode: the daemon owner connects', { run: 'auth-os-pass' }),
    sc('auth-key-valid', 'auth-bypass', 'must-pass', 'api_key: a valid key works and never reaches the upstream', { run: 'auth-key', variant: 'valid' }),
    sc('auth-key-none', 'auth-bypass', 'must-block', 'api_key: no key', { run: 'auth-key', variant: 'none' }),
    sc('auth-key-forged', 'auth-bypass', 'must-block', 'api_key: a forged key of the right shape', { run: 'auth-key', variant: 'forged' }),
    sc('auth-key-revoked', 'auth-bypass', 'must-block', 'api_key: a revoked key replayed', { run: 'auth-key', variant: 'revoked' }),
    sc('auth-key-in-params', 'auth-bypass', 'must-block', 'api_key: the key placed in JSON-RPC params instead of the hello', { run: 'auth-key', variant: 'params' }),
    sc('auth-oauth-none-alg', 'auth-bypass', 'must-block', 'oauth: an unsigned (alg none) token', { run: 'auth-oauth', variant: 'none-alg' }),
    sc('auth-oauth-garbage', 'auth-bypass', 'must-block', 'oauth: a malformed token', { run: 'auth-oauth', variant: 'garbage' }),
    sc('auth-oauth-hs256', 'auth-bypass', 'must-block', 'oauth: a token signed with a guessed HMAC key', { run: 'auth-oauth', variant: 'hs256' }),
    // config override
    sc('cfg-allow-all', 'config-override', 'must-block', 'personal config sets allowed_tools [*] and empties denied_tools', { run: 'config', tool: 'write_file', server: 'shared', relax: 'allow-all' }),
    sc('cfg-pii-off', 'config-override', 'must-block', 'personal config turns pii off', { run: 'config', tool: 'echo', server: 'shared', leak: S.visa, relax: 'pii-off' }),
    sc('cfg-pii-allow', 'config-override', 'must-block', 'personal config sets the AWS key action to allow', { run: 'config', tool: 'echo', server: 'shared', leak: S.aws, relax: 'pii-allow' }),
    sc('cfg-sampling-on', 'config-override', 'must-block', 'personal config enables sampling the base disabled', { run: 'config', tool: 'sample', server: 'shared', sample: true, relax: 'sampling-on' }),
    sc('cfg-new-server', 'config-override', 'must-block', 'a server the personal config adds gets the base defaults floor', { run: 'config', tool: 'write_file', server: 'mine', relax: 'new-server' }),
    sc('cfg-locked', 'config-override', 'must-block', 'personal config relaxes a locked server', { run: 'config-locked', tool: 'write_file', server: 'vault' }),
    sc('cfg-pass', 'config-override', 'must-pass', 'an allowed call works under the merged config', { run: 'config', tool: 'echo', server: 'shared', relax: 'none' }),
    // rate limits
    sc('rl-hammer', 'rate-limit-evasion', 'must-block', 'one session sends 300 calls as fast as it can at 60/min', { run: 'rate', sessions: 1, perSession: 300, limit: 60 }),
    sc('rl-split', 'rate-limit-evasion', 'must-block', 'the same identity splits 300 calls over 4 sessions at 60/min', { run: 'rate', sessions: 4, perSession: 75, limit: 60 }),
    sc('rl-pass', 'rate-limit-evasion', 'must-pass', '10 calls under a 60/min limit all succeed', { run: 'rate', sessions: 1, perSession: 10, limit: 60, fresh: true }),
  ];
}

export function allCases(): DetectionCase[] {
  return [...responseLeaks(), ...requestLeaks(), ...evasions(), ...sampling(), ...permissions(), ...capabilities(), ...traversal(), ...scenarios()];
}
