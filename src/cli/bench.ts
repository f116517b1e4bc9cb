// `bench`: latency and throughput of the real bridge + daemon against a direct connection and a
// bare byte relay (the floor), interleaved in one run. Tables on stdout, --json, --html FILE.
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { TARGETS, runLatency } from '../bench/latency.js';
import { renderHtml, renderTable } from '../bench/report.js';
import { stopOnInterrupt } from '../bench/guard-env.js';
import type { Era } from '../protocol/era.js';

export function parseSizes(s: string): number[] {
  return s.split(',').map((x) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?\s*$/.exec(x);
    if (!m) throw new Error(`bad size '${x}' (use e.g. 512,1k,10k,100k)`);
    const mult = m[2]!.toLowerCase() === 'k' ? 1024 : m[2]!.toLowerCase() === 'm' ? 1024 * 1024 : 1;
    const n = Math.round(Number(m[1]) * mult);
    if (n < 1) throw new Error(`bad size '${x}' (at least 1 byte)`);
    return n;
  });
}

export function parseInts(s: string, what: string): number[] {
  return s.split(',').map((x) => {
    const n = Number(x.trim());
    if (!Number.isInteger(n) || n <= 0) throw new Error(`bad ${what} '${x}' (positive integers, comma separated)`);
    return n;
  });
}

/** A report file must be writable before a run that takes a minute, not found out after it. */
export function checkWritable(file: string, option: string): void {
  const path = resolve(file);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
    accessSync(path, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new Error(`${option} ${file}: cannot write it (${code})`);
    try {
      accessSync(dirname(path), constants.W_OK);
    } catch (e) {
      throw new Error(`${option} ${file}: cannot create it in ${dirname(path)} (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  if (isDir) throw new Error(`${option} ${file}: is a directory`);
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure latency and throughput: direct vs through mcp-guard vs a bare byte relay, interleaved')
    .option('-n, --requests <n>', 'measured requests per target per size × concurrency', '2000')
    .option('--warmup <n>', 'warm-up requests per target per cell', '200')
    .option('--size <list>', 'tools/call payload sizes', '1k,10k,100k')
    .option('--concurrency <list>', 'requests in flight on one connection', '1,8,64')
    .option('--pipeline <stages>', 'none | all | comma list of pii,permissions,ratelimit,audit', 'all')
    .option('-s, --server <name>', 'measure this stdio server from the config instead of the built-in echo server')
    .option('-c, --config <file>', 'config that holds --server')
    .option('--tool <name>', 'with --server: tool to call with the payload (default: tools/list)')
    .option('--arg <name>', 'with --tool: argument that carries the payload', 'text')
    .option('--json [file]', 'print the report as JSON (to stdout, or to file)')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--timeout <s>', 'a request unanswered this long counts as an error', '60')
    .option('--era <era>', 'protocol era: 2025, 2026 or both (default: both for the built-in echo server, 2025 with --server)')
    .action(async (o: { requests: string; warmup: string; size: string; concurrency: string; pipeline: string; server?: string; config?: string; tool?: string; arg: string; json?: string | boolean; html?: string; timeout: string; era?: string }) => {
      const fail = (m: string) => {
        process.stderr.write(`mcp-guard bench: ${m}\n`);
        process.exit(2);
      };
      let sizes: number[] = [];
      let concurrency: number[] = [];
      let requests = 0;
      let warmup = 0;
      let timeoutMs = 0;
      let eras: Era[] | undefined;
      try {
        if (o.era !== undefined) {
          if (o.era === 'both') eras = ['2025', '2026'];
          else if (o.era === '2025' || o.era === '2026') eras = [o.era];
          else throw new Error(`bad --era '${o.era}' (2025, 2026 or both)`);
        }
        sizes = parseSizes(o.size);
        concurrency = parseInts(o.concurrency, 'concurrency');
        [requests] = parseInts(o.requests, 'request count');
        warmup = Number(o.warmup);
        if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`bad --warmup '${o.warmup}'`);
        timeoutMs = Number(o.timeout) * 1000;
        if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new Error(`bad --timeout '${o.timeout}' (seconds, more than 0)`);
        if (o.html) checkWritable(o.html, '--html');
        if (typeof o.json === 'string') checkWritable(o.json, '--json');
      } catch (err) {
        fail((err as Error).message);
      }
      const tty = process.stderr.isTTY;
      const progress = tty
        ? (line: string) => process.stderr.write(`\r\x1b[K${line}`.slice(0, (process.stderr.columns || 100) + 4))
        : undefined;
      // Registered before the run's own stops, so the line is said first (and clears the progress line).
      const unhook = stopOnInterrupt(() => process.stderr.write(`${tty ? '\r\x1b[K' : ''}mcp-guard bench: interrupted; stopping the daemon and relay of this run\n`));
      const report = await runLatency({ requests, warmup, sizes, concurrency, pipeline: o.pipeline, server: o.server, config: o.config, tool: o.tool, arg: o.arg, progress, timeoutMs, eras }).catch((err) => {
        if (tty) process.stderr.write('\r\x1b[K');
        fail((err as Error).message);
        throw err;
      });
      unhook();
      if (tty) process.stderr.write('\r\x1b[K');
      // A file that cannot be written after all (its disk filled, its directory went away) costs
      // that file, not the run: the table still prints, and the run exits 1.
      const save = (file: string, what: string, text: () => string) => {
        try {
          writeFileSync(file, text());
          process.stderr.write(`${what} report: ${file}\n`);
        } catch (err) {
          process.stderr.write(`mcp-guard bench: could not write the ${what} report to ${file}: ${(err as Error).message}\n`);
          process.exitCode = 1;
        }
      };
      if (o.html) save(o.html, 'HTML', () => renderHtml(report));
      if (o.json === true) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      } else {
        if (typeof o.json === 'string') save(o.json, 'JSON', () => JSON.stringify(report, null, 2) + '\n');
        process.stdout.write(renderTable(report));
      }
      // Figures of a path that failed are not a measurement: a script or CI job must see it.
      const failed = report.cells.some((c) => TARGETS.some((t) => c.targets[t].errors > 0));
      if (failed) {
        process.stderr.write('mcp-guard bench: some requests failed (see ERRORS); the figures of those cells do not measure a working path\n');
        process.exitCode = 1;
      }
    });
}
