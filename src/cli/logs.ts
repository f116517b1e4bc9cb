// `mcp-guard logs`: query the audit database (filters, table / JSON lines / CSV, --follow),
// `logs stats` and `logs verify`. Read-only, so it runs while the daemon writes. A bad flag value
// is an error with exit code 2; a failed verification exits 1.
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  AuditQueryError,
  openAuditDb,
  parseDecision,
  parseLimit,
  parseTime,
  queryLogs,
  stats,
  type AuditDb,
  type LogFilters,
  type LogStats,
} from '../audit/query.js';
import { verify } from '../audit/verify.js';
import { parseKey } from '../audit/key.js';
import { HASHED_COLUMNS, selectList } from '../audit/schema.js';
import type { AuditRow } from '../audit/record.js';
import Database from 'better-sqlite3';

export const AUDIT_KEY_ENV = 'MCP_GUARD_AUDIT_KEY';

type ResolveDbPath = (opts: { config?: string }) => string | Promise<string>;
/** Optional: the key configured in audit.encryption of the given config. */
type ResolveKey = (opts: { config?: string }, dbPath: string) => Buffer | undefined;

interface CommonOpts {
  db?: string;
  config?: string;
  keyFile?: string;
}
interface FilterOpts extends CommonOpts {
  server?: string;
  user?: string;
  method?: string;
  tool?: string;
  decision?: LogFilters['decision'];
  session?: string;
  finding?: string;
  since?: number;
  until?: number;
  limit?: number;
  json?: boolean;
  csv?: boolean;
  follow?: boolean;
  interval?: number;
}

/** Turn a parse error into commander's InvalidArgumentError (message shown, then exit 2). */
function arg<T>(parse: (s: string) => T): (s: string) => T {
  return (s) => {
    try {
      return parse(s);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

function nonEmpty(name: string) {
  return arg((s: string) => {
    if (s.trim() === '') throw new Error(`${name} must not be empty`);
    return s;
  });
}

function positiveMs(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) < 50) throw new Error(`invalid interval "${s}": expected milliseconds, at least 50`);
  return Number(s);
}

/** Usage errors exit 2 (help and version exit 0), whatever the program's own exit handling. */
function exitCodes(cmd: Command, parent: Command): Command {
  const inherited = (parent as unknown as { _exitCallback?: (e: CommanderError) => void })._exitCallback;
  return cmd.exitOverride((err) => {
    const code = err.exitCode === 0 ? 0 : 2;
    if (inherited) inherited(new CommanderError(code, err.code, err.message));
    process.exit(code);
  });
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'audit database file (default: from the config)', nonEmpty('--db'))
    .option('-c, --config <file>', 'config file used to find the database')
    .option('--key-file <path>', `encryption key file for an encrypted database (or set ${AUDIT_KEY_ENV})`, nonEmpty('--key-file'));
}

function filterOptions(cmd: Command): Command {
  return cmd
    .option('--server <name>', 'only this upstream server', nonEmpty('--server'))
    .option('--user <name>', 'only this user name or identity (uid:1000, key:NAME, oauth:SUB)', nonEmpty('--user'))
    .option('--method <method>', 'only this JSON-RPC method, e.g. tools/call', nonEmpty('--method'))
    .option('--tool <name>', 'only this tool, resource URI or prompt', nonEmpty('--tool'))
    .option('--decision <d>', 'allow | block | redact | warn | error', arg(parseDecision))
    .option('--session <id>', 'only this session', nonEmpty('--session'))
    .option('--finding <type>', 'only rows with a finding of this type, e.g. credit_card', nonEmpty('--finding'))
    .option('--since <when>', 'from this time: 15m, 2h, 7d or ISO 8601', arg((s) => parseTime(s)))
    .option('--until <when>', 'up to this time: 15m, 2h, 7d or ISO 8601', arg((s) => parseTime(s)));
}

function toFilters(o: FilterOpts): LogFilters {
  const f: LogFilters = {};
  for (const k of ['server', 'user', 'method', 'tool', 'decision', 'session', 'finding', 'since', 'until', 'limit'] as const) {
    if (o[k] !== undefined) (f as Record<string, unknown>)[k] = o[k];
  }
  if (f.since !== undefined && f.until !== undefined && f.since > f.until) {
    throw new UsageError('--since is after --until');
  }
  return f;
}

class UsageError extends Error {}

function fail(message: string, code: number): never {
  process.stderr.write(`mcp-guard logs: ${message}\n`);
  process.exit(code);
}

async function dbPathOf(o: CommonOpts, resolveDbPath: ResolveDbPath): Promise<string> {
  const p = o.db ?? (await resolveDbPath({ config: o.config }));
  if (!existsSync(p)) fail(`no audit database at ${p} (the daemon creates it when it first starts)`, 1);
  return p;
}

function keyOf(o: CommonOpts, dbPath: string, resolveKey?: ResolveKey): Buffer | undefined {
  if (o.keyFile) {
    let material: Buffer;
    try {
      material = readFileSync(o.keyFile);
    } catch (e) {
      fail(`cannot read --key-file ${o.keyFile}: ${(e as Error).message}`, 2);
    }
    return parseKey(material, `--key-file ${o.keyFile}`);
  }
  const env = process.env[AUDIT_KEY_ENV];
  if (env) return parseKey(env, AUDIT_KEY_ENV);
  return resolveKey?.({ config: o.config }, dbPath);
}

async function withDb<T>(o: CommonOpts, resolveDbPath: ResolveDbPath, resolveKey: ResolveKey | undefined, fn: (adb: AuditDb) => T): Promise<Awaited<T>> {
  const path = await dbPathOf(o, resolveDbPath);
  let adb: AuditDb;
  try {
    adb = openAuditDb(path, { key: keyOf(o, path, resolveKey) });
  } catch (e) {
    fail((e as Error).message, 1);
  }
  return await fn(adb);
}

// ---- formatting --------------------------------------------------------------------------------

const useColour = () => !!process.stdout.isTTY && !process.env.NO_COLOR;
const COLOURS: Record<string, string> = { allow: '32', block: '31', redact: '33', warn: '33', error: '35' };
const paint = (code: string, s: string) => (useColour() ? `\x1b[${code}m${s}\x1b[0m` : s);

/** Values shown in a terminal must not carry escape sequences or bidi overrides. */
function safeText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const iso = (ts: number) => new Date(ts).toISOString();
/** `request: email×1; response: credit_card×2`: the side each finding was in (rows before 0.2 have none). */
function findingsText(r: AuditRow): string {
  const bySide = new Map<string, string[]>();
  for (const f of r.findings ?? []) {
    const side = f.side ?? '';
    if (!bySide.has(side)) bySide.set(side, []);
    bySide.get(side)!.push(`${f.type}×${f.count}`);
  }
  return [...bySide].map(([side, list]) => (side ? `${side}: ` : '') + list.join(',')).join('; ');
}

interface TableCol {
  head: string;
  max: number;
  /** With --follow, the width the column gets at least (later rows cannot widen it). */
  follow: number;
  get: (r: AuditRow) => string;
}
const TABLE: TableCol[] = [
  { head: 'ID', max: 12, follow: 10, get: (r) => String(r.id) },
  { head: 'TIME', max: 24, follow: 24, get: (r) => iso(r.ts) },
  { head: 'SERVER', max: 20, follow: 12, get: (r) => r.server },
  { head: 'USER', max: 20, follow: 12, get: (r) => r.user ?? r.identity ?? '' },
  { head: 'DIR', max: 3, follow: 3, get: (r) => r.direction },
  { head: 'METHOD', max: 28, follow: 20, get: (r) => r.method },
  { head: 'TARGET', max: 32, follow: 20, get: (r) => r.target ?? '' },
  { head: 'DECISION', max: 8, follow: 8, get: (r) => r.decision },
  { head: 'STAGE', max: 16, follow: 10, get: (r) => r.stage ?? '' },
  { head: 'FINDINGS', max: 56, follow: 24, get: (r) => findingsText(r) },
  { head: 'ERA', max: 4, follow: 4, get: (r) => r.era ?? '' },
  // A 2026 call retried over rounds: the id of its first request and this round.
  { head: 'CALL', max: 20, follow: 10, get: (r) => (r.call !== undefined ? `${r.call}#${r.round ?? '?'}` : '') },
  { head: 'UPSTREAM', max: 10, follow: 8, get: (r) => (r.upstream_ms !== undefined ? `${Math.round(r.upstream_ms * 10) / 10}ms` : '') },
  { head: 'REASON', max: 60, follow: 0, get: (r) => r.reason ?? '' },
];

const DECISION_COLUMN = TABLE.findIndex((c) => c.head === 'DECISION');

function cell(s: string, max: number): string {
  const t = safeText(s);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

class TableWriter {
  private widths: number[] | undefined;
  /**
   * `follow`: rows keep coming after the header, so the widths are fixed with it (from the first
   * rows, at least each column's `follow` width) and a later, wider cell is cut to its column
   * (`--json` has every value whole). Sized to the first rows only, a wider row pushed every column
   * after it out of line with the header.
   */
  constructor(private readonly follow = false) {}
  write(rows: AuditRow[]): void {
    let cells = rows.map((r) => TABLE.map((c) => cell(c.get(r), c.max)));
    if (!this.widths) {
      this.widths = TABLE.map((c, i) => Math.max(c.head.length, this.follow ? c.follow : 0, ...cells.map((row) => row[i]!.length)));
      process.stdout.write(paint('1', this.line(TABLE.map((c) => c.head))) + '\n');
    } else if (this.follow) {
      const w = this.widths;
      // An id is never cut; the last column is not padded, so nothing comes after it to push.
      cells = rows.map((r) => TABLE.map((c, i) => cell(c.get(r), i === 0 || i === TABLE.length - 1 ? c.max : w[i]!)));
    }
    let out = '';
    for (const row of cells) {
      const decisionIdx = DECISION_COLUMN;
      const text = this.line(row, decisionIdx);
      out += text + '\n';
    }
    process.stdout.write(out);
  }
  private line(cells: string[], decisionIdx = -1): string {
    const w = this.widths!;
    return cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(w[i]!);
        return i === decisionIdx ? paint(COLOURS[c] ?? '0', padded) : padded;
      })
      .join('  ')
      .trimEnd();
  }
}

const CSV_COLUMNS = [
  'id', 'time', 'ts', 'session', 'identity', 'user', 'roles', 'server', 'direction', 'kind', 'method', 'target',
  'decision', 'stage', 'reason', 'findings', 'error_code', 'bytes_in', 'bytes_out', 'upstream_ms', 'overhead_us', 'request_id',
  'era', 'call', 'round',
] as const;

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return String(v);
  let s = String(v);
  // Spreadsheet formula injection: a text cell must not start with = + - @ or a control char.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(r: AuditRow): string {
  const v: Record<string, unknown> = {
    ...r,
    time: iso(r.ts),
    roles: r.roles?.join(';'),
    findings: r.findings ? r.findings.map((f) => `${f.side ? `${f.side}/` : ''}${f.type}:${f.count}`).join(';') : undefined,
  };
  return CSV_COLUMNS.map((c) => csvCell(v[c])).join(',');
}

const jsonRow = (r: AuditRow) => {
  const { id, ...rest } = r;
  return JSON.stringify({ id, time: iso(r.ts), ...rest });
};

function printStats(s: LogStats): void {
  const section = (title: string, m: Record<string, number>) => {
    const entries = Object.entries(m);
    process.stdout.write(`${paint('1', title)}\n`);
    if (entries.length === 0) process.stdout.write('  (none)\n');
    const w = Math.max(0, ...entries.map(([k]) => safeText(k).length));
    for (const [k, n] of entries) process.stdout.write(`  ${safeText(k).padEnd(w)}  ${n}\n`);
  };
  process.stdout.write(`${paint('1', 'rows')}  ${s.total}\n`);
  section('by decision', s.byDecision);
  section('by server', s.byServer);
  section('by method', s.byMethod);
  section('by tool', s.byTool);
  section('by finding', s.byFinding);
  const pct = (title: string, unit: string, p: LogStats['latency']) => {
    const f = (x: number | null) => (x === null ? '-' : `${Math.round(x * 100) / 100}${unit}`);
    process.stdout.write(
      `${paint('1', title)}  n=${p.count}  p50 ${f(p.p50)}  p90 ${f(p.p90)}  p99 ${f(p.p99)}  max ${f(p.max)}\n`,
    );
  };
  pct('upstream latency', 'ms', s.latency);
  pct('proxy overhead', 'µs', s.overhead);
}

// ---- commands ----------------------------------------------------------------------------------

export function registerLogs(program: Command, resolveDbPath: ResolveDbPath, resolveKey?: ResolveKey): void {
  const logs = exitCodes(
    filterOptions(commonOptions(program.command('logs').description('query the audit log (read-only; works while the daemon runs)')))
      .option('-n, --limit <n>', 'rows to show, newest last (default 50)', arg(parseLimit))
      .addOption(new Option('--json', 'JSON lines').conflicts('csv'))
      .addOption(new Option('--csv', 'CSV with a header row').conflicts('json'))
      .option('-f, --follow', 'keep printing new rows as they are written')
      .option('--interval <ms>', 'poll interval for --follow (default 500)', arg(positiveMs)),
    program,
  );
  // Unless the whole program uses positional options, `logs` itself consumes options it knows
  // that follow a subcommand (`logs stats --json`); subcommands therefore merge `logs`'s options.
  const merged = <T>(cmd: Command): T => ({ ...logs.opts(), ...cmd.opts() }) as T;
  logs.action(async (o: FilterOpts) => {
    let filters: LogFilters;
    try {
      filters = toFilters(o);
    } catch (e) {
      fail((e as Error).message, 2);
    }
    await withDb(o, resolveDbPath, resolveKey, async (adb) => {
      const table = new TableWriter(!!o.follow);
      let headerDone = false;
      const emit = (rows: AuditRow[]) => {
        if (o.json) process.stdout.write(rows.map((r) => jsonRow(r) + '\n').join(''));
        else if (o.csv) {
          if (!headerDone) process.stdout.write(CSV_COLUMNS.join(',') + '\n');
          process.stdout.write(rows.map((r) => csvRow(r) + '\n').join(''));
        } else if (rows.length > 0 || !o.follow) {
          if (rows.length === 0 && !headerDone) process.stdout.write('no matching audit rows\n');
          else table.write(rows);
        }
        headerDone = true;
      };
      let rows: AuditRow[];
      try {
        rows = queryLogs(adb, { ...filters, limit: filters.limit ?? 50 }).reverse();
      } catch (e) {
        fail((e as Error).message, e instanceof AuditQueryError ? 1 : 1);
      }
      emit(rows);
      if (!o.follow) {
        adb.close();
        return;
      }
      let lastId = rows.length ? rows[rows.length - 1]!.id : ((adb.db.prepare('SELECT max(id) FROM audit').pluck().get() as number | null) ?? 0);
      await new Promise<void>(() => {
        setInterval(() => {
          const fresh = queryLogs(adb, { ...filters, limit: 1000, afterId: lastId });
          if (fresh.length) {
            lastId = fresh[fresh.length - 1]!.id;
            emit(fresh);
          }
        }, o.interval ?? 500);
      });
    });
  });

  exitCodes(
    filterOptions(commonOptions(logs.command('stats').description('counts by decision, server, method, tool and finding; latency percentiles')))
      .option('--json', 'print as JSON'),
    logs,
  ).action(async (_o: FilterOpts, cmd: Command) => {
    const o = merged<FilterOpts>(cmd);
    let filters: LogFilters;
    try {
      filters = toFilters(o);
    } catch (e) {
      fail((e as Error).message, 2);
    }
    await withDb(o, resolveDbPath, resolveKey, (adb) => {
      const s = stats(adb, filters);
      adb.close();
      if (o.json) process.stdout.write(JSON.stringify(s) + '\n');
      else printStats(s);
    });
  });

  exitCodes(
    commonOptions(logs.command('verify').description('check the tamper-evidence hash chain; exit 1 at the first edited, inserted or deleted row'))
      .option('--json', 'print the result as JSON'),
    logs,
  ).action(async (_o: CommonOpts, cmd: Command) => {
    const o = merged<FilterOpts>(cmd);
    const stray = ['server', 'user', 'method', 'tool', 'decision', 'session', 'finding', 'since', 'until', 'limit', 'csv', 'follow']
      .filter((k) => (o as Record<string, unknown>)[k] !== undefined);
    if (stray.length) fail(`logs verify checks the whole chain and takes no filters (got --${stray.join(', --')})`, 2);
    const path = await dbPathOf(o, resolveDbPath);
    let res;
    try {
      res = verify(path);
    } catch (e) {
      fail(`cannot verify ${path}: ${(e as Error).message}`, 1);
    }
    if (o.json) {
      process.stdout.write(JSON.stringify({ ...res, row: res.firstBad ? rawRow(path, res.firstBad.id) : undefined }) + '\n');
    } else if (res.ok) {
      const from = res.checkpoint.id > 0 ? ` (rows up to ${res.checkpoint.id} removed by retention)` : '';
      process.stdout.write(`audit log OK: ${res.rows} rows verified${from}; chain head row ${res.head.id} ${res.head.hash}\n`);
    } else {
      const b = res.firstBad!;
      process.stdout.write(paint('31', `audit log FAILED verification: row ${b.id} was ${b.reason}`) + ` — ${safeText(b.detail)}\n`);
      process.stdout.write(`${res.rows} rows verified before it; recorded chain head row ${res.head.id}\n`);
      const row = rawRow(path, b.id);
      if (row) process.stdout.write(`row ${b.id} as stored: ${safeText(JSON.stringify(row))}\n`);
    }
    process.exitCode = res.ok ? 0 : 1;
  });
}

/** A row exactly as stored (encrypted columns stay encrypted), for the verify report. */
function rawRow(path: string, id: number): Record<string, unknown> | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const r = db.prepare(`SELECT id, ${selectList(db, HASHED_COLUMNS)}, hex(hash) AS hash FROM audit WHERE id = ?`).get(id) as
      | Record<string, unknown>
      | undefined;
    return r;
  } finally {
    db.close();
  }
}
