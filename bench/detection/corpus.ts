// The legitimate-traffic corpus: realistic tool calls generated from a seed, rich in values that
// look like PII or secrets and are not (UUIDs, git SHAs, timestamps, versions, order numbers,
// 16-digit ids that fail Luhn, phone-like numbers that are not valid phones, base64 images, code,
// logs, SQL, paths, URLs without credentials, hashes). Every call must pass through unchanged.
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
