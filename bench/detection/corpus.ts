// The legitimate-traffic corpus: realistic tool calls generated from a seed, rich in values that
// look like PII or secrets and are not (UUIDs, git SHAs, timestamps, versions, order numbers,
// 16-digit ids that fail Luhn, phone-like numbers that are not valid phones, base64 images, code,
// logs, SQL, paths, URLs without credentials, hashes), and the identifiers that are numbers but not
// PII (issue #18): cloud account ids in resource names, chat-platform object ids and timestamps,
// payment-provider objects, image digests and integrity hashes, ISBNs and barcodes, masked cards,
// grouped numbers that fail their checksum, tracking numbers, IMEIs, CSV exports, multi-part tool
// results, arrays of numeric ids, coordinates, colours, MACs, IPv6. Every call must pass unchanged.
import { prng } from '../../src/bench/stats.js';

export interface CorpusCall {
  n: number;
  kind: string;
  name: string;
  arguments: Record<string, unknown>;
}

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: R, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const hexs = (r: R, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');
const digits = (r: R, n: number) => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');

function luhnOk(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let x = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
  }
  return sum % 10 === 0;
}

export const gen = {
  uuid: (r: R) => `${hexs(r, 8)}-${hexs(r, 4)}-4${hexs(r, 3)}-${pick(r, ['8', '9', 'a', 'b'])}${hexs(r, 3)}-${hexs(r, 12)}`,
  sha: (r: R) => hexs(r, 40),
  sha256: (r: R) => hexs(r, 64),
  shortSha: (r: R) => hexs(r, 7),
  epochMs: (r: R) => String(1_600_000_000_000 + Math.floor(r() * 150_000_000_000)),
  epochS: (r: R) => String(1_600_000_000 + Math.floor(r() * 150_000_000)),
  iso: (r: R) => new Date(Date.UTC(2019 + int(r, 0, 6), int(r, 0, 11), int(r, 1, 28), int(r, 0, 23), int(r, 0, 59), int(r, 0, 59), int(r, 0, 999))).toISOString(),
  date: (r: R) => `${2019 + int(r, 0, 6)}-${String(int(r, 1, 12)).padStart(2, '0')}-${String(int(r, 1, 28)).padStart(2, '0')}`,
  version: (r: R) => `${pick(r, ['', 'v'])}${int(r, 0, 20)}.${int(r, 0, 40)}.${int(r, 0, 99)}${pick(r, ['', '', '-beta.' + int(r, 1, 9), '-rc.' + int(r, 1, 5), '+build.' + int(r, 100, 999)])}`,
  order: (r: R) => `${pick(r, ['ORD', 'INV', 'PO', 'SO', 'RMA'])}-${2019 + int(r, 0, 6)}-${digits(r, 6)}`,
  /** 16 digits with a card-like prefix whose Luhn check fails. */
  notCard: (r: R) => {
    for (;;) {
      const d = pick(r, ['4', '51', '37', '6011']) + digits(r, 16);
      const s = d.slice(0, 16);
      if (!luhnOk(s)) return s;
    }
  },
  /** Phone-shaped numbers that are not valid phone numbers (NANP area/exchange codes 0/1). */
  notPhone: (r: R) => pick(r, [`(0${digits(r, 2)}) ${int(r, 0, 1)}${digits(r, 2)}-${digits(r, 4)}`, `1${digits(r, 2)}-0${digits(r, 2)}-${digits(r, 4)}`, `000-${digits(r, 3)}-${digits(r, 4)}`]),
  ip: (r: R) => `${int(r, 1, 223)}.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`,
  port: (r: R) => int(r, 1024, 65535),
  amount: (r: R) => Math.round(r() * 1_000_000) / 100,
  path: (r: R) => `/${pick(r, ['home/dev', 'srv/app', 'var/log', 'opt/tools', 'workspace'])}/${pick(r, ['src', 'lib', 'config', 'data', 'test'])}/${pick(r, ['index', 'main', 'util', 'handler', 'schema', 'report'])}.${pick(r, ['ts', 'py', 'go', 'json', 'yaml', 'md', 'log'])}`,
  url: (r: R) => `https://${pick(r, ['api.github.com', 'docs.python.org', 'registry.npmjs.org', 'example.org', 'status.acme.dev'])}/${pick(r, ['repos', 'v1/items', 'search', 'docs/3/library'])}/${hexs(r, 6)}?page=${int(r, 1, 50)}&per_page=${int(r, 10, 100)}`,
  b64image: (r: R) => Buffer.from(Array.from({ length: int(r, 300, 1500) }, () => Math.floor(r() * 256))).toString('base64'),
  handle: (r: R) => `${pick(r, ['alice', 'bob', 'carol', 'dmitri', 'eun-ji', 'farid'])}_${int(r, 1, 999)}`,
  isbn: (r: R) => `978-${int(r, 0, 9)}-${digits(r, 3)}-${digits(r, 5)}-${int(r, 0, 9)}`,
  sku: (r: R) => `SKU-${digits(r, 4)}-${pick(r, ['RED', 'BLK', 'WHT'])}-${pick(r, ['S', 'M', 'L', 'XL'])}`,
};

const luhnDigit = (partial: string): string => {
  for (let d = 0; d < 10; d++) if (luhnOk(partial + d)) return String(d);
  return '0';
};
/** GS1 check digit (EAN, UPC, GTIN). */
const gs1Digit = (partial: string): string => {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) sum += Number(partial[partial.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
};
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const alnum = (r: R, n: number) => Array.from({ length: n }, () => ALNUM[Math.floor(r() * ALNUM.length)]).join('');
const upperNum = (r: R, n: number) => Array.from({ length: n }, () => ALNUM[Math.floor(r() * 36)]!.toUpperCase()).join('').replace(/[a-z]/g, (c) => c.toUpperCase());
const group = (d: string, sep: string, size = 4) => d.replace(new RegExp(`(\\d{${size}})(?=\\d)`, 'g'), `$1${sep}`);
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];

/** A 12-digit AWS account id, half of them Luhn-valid with a Maestro prefix (the shape that was blocked). */
const awsAccount = (r: R): string => (r() < 0.5 ? ((p: string) => p + luhnDigit(p))(pick(r, ['50', '56', '57', '58', '60', '63', '67']) + digits(r, 9)) : digits(r, 12));

/** Numbers that are identifiers, not PII (issue #18): their generators. */
export const ids = {
  awsAccount,
  arn: (r: R, acct = awsAccount(r)) =>
    pick(r, [
      `arn:aws:iam::${acct}:role/${pick(r, words)}-deploy`,
      `arn:aws:lambda:${pick(r, REGIONS)}:${acct}:function:${pick(r, words)}-handler`,
      `arn:aws:sns:${pick(r, REGIONS)}:${acct}:${pick(r, words)}-alerts`,
      `arn:aws:sts::${acct}:assumed-role/ci/${alnum(r, 10)}`,
      `arn:aws:sqs:${pick(r, REGIONS)}:${acct}:${pick(r, words)}.fifo`,
      `arn:aws:kms:${pick(r, REGIONS)}:${acct}:key/${gen.uuid(r)}`,
    ]),
  ecr: (r: R) => `${awsAccount(r)}.dkr.ecr.${pick(r, REGIONS)}.amazonaws.com/${pick(r, words)}:${gen.version(r)}`,
  gcpProject: (r: R) => `projects/${pick(r, ['5', '6', '4', '3'])}${digits(r, 11)}/locations/${pick(r, ['us-central1', 'europe-west1'])}/functions/${pick(r, words)}`,
  /** A Discord or Twitter snowflake: milliseconds since the platform's epoch, shifted 22 bits, plus worker and sequence bits. */
  snowflake: (r: R, epoch = 1420070400000n) => String(((BigInt(1_450_000_000_000 + Math.floor(r() * 280_000_000_000)) - epoch) << 22n) | BigInt(Math.floor(r() * 4_194_304))),
  slackTs: (r: R) => `${1_600_000_000 + Math.floor(r() * 150_000_000)}.${digits(r, 6)}`,
  stripe: (r: R, prefix: string) => `${prefix}_${r() < 0.5 ? digits(r, 1) : ''}${alnum(r, 24)}`,
  ean13: (r: R) => ((p) => p + gs1Digit(p))(pick(r, ['40', '50', '54', '57', '60', '64', '69', '76', '80', '87', '93']) + digits(r, 10)),
  upc: (r: R) => ((p) => p + gs1Digit(p))(pick(r, ['0', '5', '6', '7']) + digits(r, 10)),
  isbn13: (r: R) => {
    const p = pick(r, ['978', '979']) + digits(r, 9);
    return `${p.slice(0, 3)}-${p[3]}-${p.slice(4, 8)}-${p.slice(8, 12)}-${gs1Digit(p)}`;
  },
  imei: (r: R) => ((p) => p + luhnDigit(p))(pick(r, ['35', '86', '01', '99', '44', '45', '49', '51']) + digits(r, 12)),
  /** 16 digits grouped 4-4-4-4 that fail Luhn; a third of them hide a Luhn-valid 12-digit Maestro piece. */
  groupedNotCard: (r: R) => {
    for (;;) {
      let d = digits(r, 16);
      if (r() < 0.33) d = digits(r, 4) + ((p) => p + luhnDigit(p))(pick(r, ['50', '56', '57', '58', '6']) .padEnd(2, String(int(r, 0, 9))) + digits(r, 9));
      if (!luhnOk(d)) return group(d, pick(r, [' ', '-', '.']));
    }
  },
  /** 19 digits grouped 4-4-4-4-3 that fail Luhn; half of them start with a Luhn-valid 16-digit card shape. */
  grouped19: (r: R) => {
    for (;;) {
      const head = r() < 0.5 ? ((p) => p + luhnDigit(p))(pick(r, ['4', '51', '52', '53', '54', '55']) + digits(r, 14).slice(0, 15 - 1)) : digits(r, 16);
      const d = (head + digits(r, 19)).slice(0, 19);
      if (!luhnOk(d)) return group(d, pick(r, [' ', '-']));
    }
  },
  /** An IBAN-shaped string whose mod-97 check fails. */
  badIban: (r: R) => {
    const c = pick(r, ['DE', 'FR', 'GB', 'NL', 'ES', 'IT']);
    const body = c === 'GB' || c === 'NL' ? upperNum(r, 4).replace(/[0-9]/g, 'X') + digits(r, c === 'GB' ? 14 : 10) : digits(r, c === 'FR' || c === 'IT' ? 23 : c === 'ES' ? 20 : 18);
    for (;;) {
      const s = `${c}${digits(r, 2)}${body}`;
      if (!ibanOk(s)) return r() < 0.5 ? s : s.replace(/(.{4})(?=.)/g, '$1 ');
    }
  },
};

function ibanOk(s: string): boolean {
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const part = code >= 65 ? String(code - 55) : ch;
    for (const p of part) rem = (rem * 10 + (p.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

const words = 'the deploy build cache index merge branch request review test flaky retry timeout queue worker metric alert latency error warning release migration schema table column user session token refresh page report chart summary'.split(' ');
const sentence = (r: R, n: number) => Array.from({ length: n }, () => pick(r, words)).join(' ');

function logLine(r: R): string {
  return `${gen.iso(r)} ${pick(r, ['INFO', 'WARN', 'DEBUG', 'ERROR'])} [${pick(r, ['api', 'worker', 'scheduler', 'db'])}] req=${gen.uuid(r)} ${sentence(r, 5)} took=${int(r, 1, 2000)}ms commit=${gen.shortSha(r)} v=${gen.version(r)}`;
}

function sql(r: R): string {
  return pick(r, [
    `SELECT id, created_at, total FROM orders WHERE order_no = '${gen.order(r)}' AND created_at > '${gen.date(r)}' LIMIT ${int(r, 1, 500)};`,
    `UPDATE jobs SET status = 'done', finished_at = ${gen.epochS(r)} WHERE id = '${gen.uuid(r)}';`,
    `INSERT INTO events (ts, kind, ref) VALUES (${gen.epochMs(r)}, '${pick(r, words)}', '${gen.notCard(r)}');`,
    `SELECT count(*) FROM sessions WHERE user_handle = '${gen.handle(r)}' GROUP BY day ORDER BY day DESC;`,
  ]);
}

function code(r: R): string {
  return pick(r, [
    `function ${pick(r, words)}Handler(req, res) {\n  const id = req.params.id; // e.g. ${gen.uuid(r)}\n  if (!id) return res.status(400).json({ error: 'missing id' });\n  return db.find(id).then((row) => res.json(row));\n}`,
    `def load_config(path: str) -> dict:\n    """Read the YAML config at path (default ${gen.path(r)})."""\n    password = os.environ.get("DB_PASSWORD")\n    with open(path) as f:\n        return yaml.safe_load(f)`,
    `const hash = crypto.createHash('sha256').update(buf).digest('hex'); // ${gen.sha256(r)}\nconst version = '${gen.version(r)}';\nconst timeoutMs = ${int(r, 100, 60000)};`,
    `git log --oneline ${gen.shortSha(r)}..${gen.shortSha(r)} -- ${gen.path(r)}\n${gen.shortSha(r)} fix: ${sentence(r, 4)}\n${gen.shortSha(r)} feat: ${sentence(r, 5)}`,
    `SELECT * FROM t WHERE api_key_id = ? AND secret_ref = 'vault:${pick(r, words)}/${pick(r, words)}'`,
  ]);
}

const TEMPLATES: { kind: string; name: string; make: (r: R) => Record<string, unknown> }[] = [
  { kind: 'ids', name: 'get_order', make: (r) => ({ order: gen.order(r), id: gen.uuid(r), ref: gen.notCard(r), placed: gen.iso(r) }) },
  { kind: 'git', name: 'git_show', make: (r) => ({ repo: `acme/${pick(r, words)}`, sha: gen.sha(r), parent: gen.sha(r), tag: gen.version(r), when: gen.epochS(r) }) },
  { kind: 'logs', name: 'analyze_logs', make: (r) => ({ lines: Array.from({ length: int(r, 2, 12) }, () => logLine(r)).join('\n') }) },
  { kind: 'sql', name: 'run_query', make: (r) => ({ sql: sql(r), timeout_ms: int(r, 100, 30000) }) },
  { kind: 'code', name: 'write_note', make: (r) => ({ language: pick(r, ['js', 'py', 'ts', 'sh']), snippet: code(r) }) },
  { kind: 'paths', name: 'read_file', make: (r) => ({ path: gen.path(r), offset: int(r, 0, 10000), length: int(r, 1, 65536) }) },
  { kind: 'urls', name: 'fetch_url', make: (r) => ({ url: gen.url(r), headers: { accept: 'application/json', 'x-request-id': gen.uuid(r) } }) },
  { kind: 'image', name: 'describe_image', make: (r) => ({ mimeType: 'image/png', data: gen.b64image(r) }) },
  { kind: 'numbers', name: 'record_metrics', make: (r) => ({ ts: Number(gen.epochMs(r)), values: Array.from({ length: int(r, 3, 10) }, () => gen.amount(r)), counter: int(r, 0, 2 ** 31), id16: Number(gen.notCard(r)) }) },
  { kind: 'phonelike', name: 'lookup_ticket', make: (r) => ({ ticket: `TCK-${digits(r, 7)}`, ext: gen.notPhone(r), batch: digits(r, 10), isbn: gen.isbn(r) }) },
  { kind: 'hashes', name: 'verify_artifact', make: (r) => ({ sha256: gen.sha256(r), md5: hexs(r, 32), size: int(r, 1, 10 ** 9), version: gen.version(r) }) },
  { kind: 'network', name: 'check_host', make: (r) => ({ host: `${pick(r, words)}.internal.acme.dev`, ip: gen.ip(r), port: gen.port(r) }) },
  { kind: 'prose', name: 'search', make: (r) => ({ query: sentence(r, int(r, 3, 12)), user: gen.handle(r), sku: gen.sku(r), since: gen.date(r) }) },
];

/** Kinds of ordinary traffic (the corpus before issue #18); the kinds after them are near misses built to reach inspection. */
export const ORDINARY_KINDS: readonly string[] = TEMPLATES.map((t) => t.kind);

// Templates of issue #18's identifiers and other near misses a reviewer would try.
const MORE: typeof TEMPLATES = [
  { kind: 'cloud', name: 'describe_resources', make: (r) => ({ arns: Array.from({ length: int(r, 1, 4) }, () => ids.arn(r)), image: ids.ecr(r), AccountId: ids.awsAccount(r), gcp: ids.gcpProject(r), subscription: gen.uuid(r) }) },
  {
    kind: 'chat', name: 'read_channel', make: (r) => {
      const guild = ids.snowflake(r);
      const user = ids.snowflake(r);
      return {
        discord: { id: ids.snowflake(r), channel_id: ids.snowflake(r), guild_id: guild, author: { id: user, username: gen.handle(r) }, content: `hey <@${user}> see <#${ids.snowflake(r)}> and https://discord.com/channels/${guild}/${ids.snowflake(r)}`, timestamp: gen.iso(r) },
        slack: { type: 'message', channel: `C0${upperNum(r, 8)}`, user: `U0${upperNum(r, 8)}`, text: sentence(r, 6), ts: ids.slackTs(r), thread_ts: ids.slackTs(r) },
        telegram: { update_id: Number(digits(r, 9)), message: { message_id: int(r, 1, 99999), chat: { id: -Number('100' + digits(r, 10)) }, date: Number(gen.epochS(r)) } },
        tweet: { id_str: ids.snowflake(r, 1288834974657n), url: `https://x.com/${gen.handle(r)}/status/${ids.snowflake(r, 1288834974657n)}` },
      };
    },
  },
  {
    kind: 'payments', name: 'list_charges', make: (r) => ({
      id: ids.stripe(r, 'ch'), object: 'charge', amount: int(r, 100, 999999), currency: pick(r, ['usd', 'eur', 'gbp']), customer: ids.stripe(r, 'cus'), payment_intent: ids.stripe(r, 'pi'),
      balance_transaction: ids.stripe(r, 'txn'), created: Number(gen.epochS(r)), payment_method_details: { card: { brand: pick(r, ['visa', 'mastercard', 'amex']), last4: digits(r, 4), exp_month: int(r, 1, 12), exp_year: int(r, 2025, 2032), fingerprint: alnum(r, 16) } },
      adyen: { pspReference: pick(r, ['88', '99']) + digits(r, 14), merchantReference: `ORDER-${digits(r, 6)}` },
      shopify: ((oid) => ({ id: Number(oid), admin_graphql_api_id: `gid://shopify/Order/${oid}`, order_number: int(r, 1000, 99999), name: `#${int(r, 1000, 99999)}` }))(pick(r, ['4', '5', '6']) + digits(r, 12)),
      paypal: { id: `PAYID-${upperNum(r, 24)}`, transaction: upperNum(r, 17) },
    }),
  },
  {
    kind: 'artifacts', name: 'inspect_image', make: (r) => ({
      image: `ghcr.io/acme/${pick(r, words)}@sha256:${gen.sha256(r)}`, digest: `sha256:${gen.sha256(r)}`,
      integrity: `sha${pick(r, ['384', '512'])}-${Buffer.from(Array.from({ length: pick(r, [48, 64]) }, () => Math.floor(r() * 256))).toString('base64')}`,
      script: `<script src="https://cdn.example.com/lib-${gen.version(r)}.js" integrity="sha384-${Buffer.from(Array.from({ length: 48 }, () => Math.floor(r() * 256))).toString('base64')}" crossorigin="anonymous"></script>`,
      lock: { resolved: `https://registry.npmjs.org/${pick(r, words)}/-/${pick(r, words)}-${gen.version(r)}.tgz`, integrity: `sha512-${Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256))).toString('base64')}` },
    }),
  },
  {
    kind: 'products', name: 'lookup_product', make: (r) => ({
      isbn: ids.isbn13(r), ean: ids.ean13(r), upc: ids.upc(r), gtin: `0${ids.ean13(r)}`.slice(0, 13) + gs1Digit(`0${ids.ean13(r)}`.slice(0, 13)), sku: gen.sku(r),
      description: `EAN ${ids.ean13(r)}, barcode: ${ids.ean13(r)}; ISBN ${ids.isbn13(r)}`, price: gen.amount(r),
      payment: pick(r, [`Visa ending in ${digits(r, 4)}`, `card **** **** **** ${digits(r, 4)}`, `${pick(r, ['4', '5'])}${digits(r, 5)}******${digits(r, 4)}`, `XXXX-XXXX-XXXX-${digits(r, 4)}`]),
    }),
  },
  {
    kind: 'grouped', name: 'reconcile', make: (r) => ({
      note: `order ${ids.groupedNotCard(r)} and ref ${ids.grouped19(r)}`, reference: ids.groupedNotCard(r), long_ref: ids.grouped19(r),
      invoice: `INV-${digits(r, 4)}-${digits(r, 6)}`, iban_draft: ids.badIban(r), tracking_number: pick(r, [digits(r, 12), `1Z${upperNum(r, 16)}`, group(`9400${digits(r, 18)}`, ' ')]),
      device: { imei: ids.imei(r), serial: upperNum(r, 12) }, ticket: gen.notPhone(r),
    }),
  },
  {
    kind: 'misc-ids', name: 'describe_objects', make: (r) => ({
      ulid: '01' + upperNum(r, 24), ksuid: alnum(r, 27), nanoid: alnum(r, 21), mongo: hexs(r, 24), colour: `#${hexs(r, 6)}`,
      where: `${(r() * 180 - 90).toFixed(6)}, ${(r() * 360 - 180).toFixed(6)}`, mac: Array.from({ length: 6 }, () => hexs(r, 2)).join(':'),
      range: `^${gen.version(r)}`, duration: `PT${int(r, 1, 23)}H${int(r, 1, 59)}M`, micros: Number(gen.epochMs(r)) * 1000, nanos: `${gen.epochMs(r)}${digits(r, 6)}`,
      money: `$${int(r, 1, 999)},${digits(r, 3)},${digits(r, 3)}.${digits(r, 2)}`, ids: Array.from({ length: int(r, 3, 8) }, () => pick(r, ['4', '5', '3', '6']) + digits(r, 7)),
      dates: Array.from({ length: int(r, 2, 5) }, () => gen.date(r)),
    }),
  },
  {
    kind: 'tables', name: 'export_csv', make: (r) => ({
      csv: ['order_id,customer,total,account_ref', ...Array.from({ length: int(r, 3, 12) }, () => `${pick(r, ['4', '5', '3', '6'])}${digits(r, 7)},${gen.handle(r)},${gen.amount(r)},${pick(r, ['4', '5', '6'])}${digits(r, 7)}`)].join('\n'),
      tsv: Array.from({ length: int(r, 2, 6) }, () => [gen.date(r), digits(r, 6), gen.version(r)].join('\t')).join('\n'),
      stack: Array.from({ length: int(r, 2, 6) }, () => `    at ${pick(r, words)}${pick(r, ['Handler', 'Worker', 'Service'])} (${gen.path(r)}:${int(r, 1, 900)}:${int(r, 1, 80)})`).join('\n'),
    }),
  },
  {
    kind: 'parts', name: 'multi_part_result', make: (r) => ({
      content: [
        { type: 'text', text: `Order ${gen.order(r)} placed ${gen.date(r)} for ${gen.amount(r)}` },
        { type: 'text', text: `${gen.date(r)} shipped, tracking ${digits(r, 12)}` },
        { type: 'text', text: `${digits(r, 8)} items in batch ${digits(r, 8)}` },
        { type: 'text', text: `version ${gen.version(r)}` },
      ],
      pair: [`${digits(r, 4)} ${digits(r, 4)}`, `${digits(r, 3)}-${digits(r, 4)}`],
    }),
  },
];
TEMPLATES.push(...MORE);

/** n calls, the same for the same seed. */
export function generateCorpus(n: number, seed = 20240601): CorpusCall[] {
  const r = prng(seed);
  const out: CorpusCall[] = [];
  for (let i = 0; i < n; i++) {
    const t = TEMPLATES[i % TEMPLATES.length]!;
    out.push({ n: i, kind: t.kind, name: t.name, arguments: t.make(r) });
  }
  return out;
}

export const CORPUS_KINDS = TEMPLATES.map((t) => t.kind);
