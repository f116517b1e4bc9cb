// Renders a latency report three ways: a plain table for a terminal, Markdown for REPORT.md, and a
// self-contained HTML page with inline SVG charts (no scripts, no network) for a browser.
import { fmtSize, TARGETS, type CellResult, type GoalCheck, type LatencyReport, type TargetName } from './latency.js';

const us = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)}ms` : `${Math.round(x)}`);
const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toLocaleString('en-US'));
const rat = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');

export function pad(rows: string[][], left = 2): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i < left ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

/** With more than one era in a report, the size column names the era too (`2026 1k`). */
function sizeLabel(r: LatencyReport, c: CellResult): string {
  return (r.eras?.length ?? 1) > 1 ? `${c.era} ${fmtSize(c.size)}` : fmtSize(c.size);
}

function latencyRows(r: LatencyReport): string[][] {
  const rows = [['size', 'conc', 'target', 'p50', 'p90', 'p99', 'p99.9', 'max', 'req/s', 'cpu µs/req', 'errors']];
  for (const c of r.cells) {
    for (const t of TARGETS) {
      const x = c.targets[t];
      const cpu = x.daemonCpuUsPerReq !== undefined ? `${x.daemonCpuUsPerReq}${x.bridgeCpuUsPerReq !== undefined ? ` (+${x.bridgeCpuUsPerReq})` : ''}` : '-';
      rows.push([t === 'direct' ? sizeLabel(r, c) : '', t === 'direct' ? String(c.concurrency) : '', t, us(x.latency.p50), us(x.latency.p90), us(x.latency.p99), us(x.latency.p999), us(x.latency.max), num(x.throughput), cpu, String(x.errors)]);
    }
  }
  return rows;
}

function overheadRows(r: LatencyReport): string[][] {
  const rows = [['size', 'conc', 'overhead p50', 'floor p50', 'ratio p50', 'overhead p99', 'floor p99', 'ratio p99', 'p50 (round median)']];
  for (const c of r.cells) {
    rows.push([sizeLabel(r, c), String(c.concurrency), us(c.overhead.p50), us(c.floorOverhead.p50), rat(c.ratio.p50), us(c.overhead.p99), us(c.floorOverhead.p99), rat(c.ratio.p99), us(c.overheadP50RoundMedian)]);
  }
  return rows;
}

const verdict = (g: GoalCheck) => (g.met === undefined ? 'not measured' : g.met ? 'met' : 'MISSED');
const GOALS_TITLE = "Against mcp-guard's targets (messages of 1 KB or less); one run on a shared machine varies, so compare several";

function goalRows(r: LatencyReport): string[][] {
  const many = (r.eras?.length ?? 1) > 1;
  return [['target', 'this run', 'verdict', 'where'], ...r.goals.map((g) => [many ? `${g.goal} (${g.era} era)` : g.goal, g.value, verdict(g), g.note ?? ''])];
}

/** The goals block for a terminal: goal left, figure right, verdict and where it was read. */
function goalLines(r: LatencyReport): string {
  const rows = goalRows(r).slice(1);
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((x) => x[i]!.length)));
  return rows.map((x) => `  ${x[0]!.padEnd(w[0]!)}  ${x[1]!.padStart(w[1]!)}  ${x[2]!.padEnd(w[2]!)}  ${x[3]}`.trimEnd()).join('\n');
}

/** First connect, spawn to initialize answered. */
export function startupLine(s: NonNullable<LatencyReport['startup']>): string {
  const ms = (n: number) => `${n.toLocaleString('en-US')} ms`;
  return `First connect: direct ${ms(s.direct)}; through mcp-guard ${ms(s.proxied)} starting the daemon, ${ms(s.proxiedWarm)} to the running daemon; relay ${ms(s.floor)}`;
}

export function header(r: LatencyReport): string {
  return [
    `mcp-guard bench — ${r.upstream}, pipeline: ${r.pipeline.length ? r.pipeline.join(', ') : 'none'}, protocol era${(r.eras?.length ?? 1) > 1 ? 's' : ''} ${(r.eras ?? ['2025']).join(' and ')}`,
    `${r.options.requests} requests per target per cell (interleaved), warm-up ${r.options.warmup} per cell after ${r.options.serviceWarmup ?? 0} per target at start; ${r.machine.cpus} CPUs, node ${r.machine.node}, load ${r.machine.loadavg.join(' ')}`,
    ...(r.startup ? [startupLine(r.startup)] : []),
  ].join('\n');
}

export function renderTable(r: LatencyReport): string {
  const errs = r.cells.flatMap((c) => TARGETS.filter((t) => c.targets[t].errors > 0).map((t) => `  ${sizeLabel(r, c)} c${c.concurrency} ${t}: ${c.targets[t].errors} errors, first: ${c.targets[t].firstError}`));
  return [
    header(r),
    '',
    'Latency in µs (cpu: daemon-side process per request, + bridge-side process)',
    pad(latencyRows(r), 3),
    '',
    'Overhead over direct in µs (proxied − direct; floor = bare byte relay − direct; ratio = overhead / floor overhead)',
    pad(overheadRows(r)),
    '',
    GOALS_TITLE,
    goalLines(r),
    ...(errs.length ? ['', 'ERRORS (these cells do not measure a working path):', ...errs] : []),
    '',
  ].join('\n');
}

function md(rows: string[][], numeric = (i: number) => i >= 3): string {
  const [h, ...b] = rows;
  return [`| ${h!.join(' | ')} |`, `|${h!.map((_, i) => (numeric(i) ? '---:' : '---')).join('|')}|`, ...b.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderMarkdown(r: LatencyReport): string {
  return [
    `Upstream: ${r.upstream}; pipeline: **${r.pipeline.length ? r.pipeline.join(', ') : 'none'}**; ${r.options.requests} requests per target per cell, interleaved; ${r.machine.cpus} CPUs, node ${r.machine.node}, load average at start ${r.machine.loadavg.join(' ')}.`,
    '',
    ...(r.startup ? [startupLine(r.startup) + '.', ''] : []),
    'Latency (µs). cpu = daemon-side CPU µs per request (+ bridge-side).',
    '',
    md(latencyRows(r)),
    '',
    'Overhead over direct (µs) and ratio to the bare byte relay (floor).',
    '',
    md(overheadRows(r)),
    '',
    GOALS_TITLE + '.',
    '',
    md(goalRows(r), (i) => i === 1),
    '',
  ].join('\n');
}

// ---- HTML -----------------------------------------------------------------------------------

const COLORS: Record<TargetName, string> = { direct: '#2b7bb9', proxied: '#d9534f', floor: '#5cb85c' };
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function axisTicksLog(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) {
    const v = m * 10 ** e;
    if (v >= lo && v <= hi) out.push(v);
  }
  return out;
}

/** Latency distribution: x = latency (log), y = percentile, one line per target. */
function cdfSvg(c: CellResult): string {
  const W = 420, H = 220, L = 46, R = 10, T = 22, B = 34;
  const all = TARGETS.flatMap((t) => c.targets[t].quantiles.filter((v) => v > 0));
  const lo = Math.max(1, Math.min(...all) * 0.9);
  const hi = Math.max(...all) * 1.1;
  const x = (v: number) => L + ((Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * (W - L - R);
  const y = (p: number) => T + (1 - p / 100) * (H - T - B);
  const pcts = [...Array.from({ length: 101 }, (_, i) => i), 99.5, 99.9];
  const lines = TARGETS.map((t) => {
    const q = c.targets[t].quantiles;
    const pts = pcts.map((p, i) => [x(q[i]!), y(p)] as const).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    return `<polyline fill="none" stroke="${COLORS[t]}" stroke-width="1.6" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`;
  }).join('');
  const ticks = axisTicksLog(lo, hi).map((v) => `<line x1="${x(v)}" x2="${x(v)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x(v)}" y="${H - B + 14}" font-size="10" text-anchor="middle">${us(v)}</text>`).join('');
  const yt = [0, 50, 90, 99].map((p) => `<line x1="${L}" x2="${W - R}" y1="${y(p)}" y2="${y(p)}" stroke="#eee"/><text x="${L - 4}" y="${y(p) + 3}" font-size="10" text-anchor="end">p${p}</text>`).join('');
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg"><text x="${L}" y="14" font-size="12" font-weight="bold">${fmtSize(c.size)} × concurrency ${c.concurrency}</text>${ticks}${yt}${lines}<text x="${(W + L) / 2}" y="${H - 4}" font-size="10" text-anchor="middle">latency (µs, log)</text></svg>`;
}

/** Concurrency sweep for one size: metric per target against concurrency. */
function sweepSvg(cells: CellResult[], title: string, metric: (c: CellResult, t: TargetName) => number, unit: string): string {
  const W = 420, H = 220, L = 56, R = 10, T = 22, B = 34;
  const xs = cells.map((c) => c.concurrency);
  const vals = cells.flatMap((c) => TARGETS.map((t) => metric(c, t))).filter((v) => Number.isFinite(v) && v > 0);
  if (!vals.length) return '';
  const lo = Math.min(...vals) * 0.8;
  const hi = Math.max(...vals) * 1.2;
  const x = (i: number) => (xs.length === 1 ? (W + L) / 2 : L + (i / (xs.length - 1)) * (W - L - R));
  const y = (v: number) => T + (1 - (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * (H - T - B);
  const lines = TARGETS.map((t) => {
    const pts = cells.map((c, i) => [x(i), y(Math.max(metric(c, t), lo))] as const);
    return `<polyline fill="none" stroke="${COLORS[t]}" stroke-width="2" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>${pts.map(([a, b]) => `<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3" fill="${COLORS[t]}"/>`).join('')}`;
  }).join('');
  const xt = xs.map((v, i) => `<text x="${x(i)}" y="${H - B + 14}" font-size="10" text-anchor="middle">${v}</text>`).join('');
  const yt = axisTicksLog(lo, hi).map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${L - 4}" y="${y(v) + 3}" font-size="10" text-anchor="end">${unit === 'µs' ? us(v) : num(v)}</text>`).join('');
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg"><text x="${L}" y="14" font-size="12" font-weight="bold">${esc(title)}</text>${yt}${xt}${lines}<text x="${(W + L) / 2}" y="${H - 4}" font-size="10" text-anchor="middle">requests in flight (one connection)</text></svg>`;
}

function htmlTable(rows: string[][], numeric = (i: number) => i >= 2): string {
  const [h, ...b] = rows;
  return `<table><thead><tr>${h!.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${b.map((r) => `<tr>${r.map((c, i) => `<td${numeric(i) ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function renderHtml(r: LatencyReport): string {
  const legend = TARGETS.map((t) => `<span style="color:${COLORS[t]}">■</span> ${t}`).join(' &nbsp; ');
  const groups = [...new Set(r.cells.map((c) => sizeLabel(r, c)))];
  const sweeps = groups
    .map((g) => {
      const cells = r.cells.filter((c) => sizeLabel(r, c) === g);
      if (cells.length < 2) return '';
      return `<div class="row">${sweepSvg(cells, `${g}: p50 latency`, (c, t) => c.targets[t].latency.p50, 'µs')}${sweepSvg(cells, `${g}: p99 latency`, (c, t) => c.targets[t].latency.p99, 'µs')}${sweepSvg(cells, `${g}: throughput (req/s)`, (c, t) => c.targets[t].throughput, 'req/s')}</div>`;
    })
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>mcp-guard bench</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:12px}td,th{padding:2px 8px;border-bottom:1px solid #ddd}td.n{text-align:right;font-variant-numeric:tabular-nums}
.row{display:flex;flex-wrap:wrap;gap:12px}svg{border:1px solid #eee;background:#fff}pre{background:#f6f6f6;padding:8px}
</style></head><body>
<h1>mcp-guard bench</h1><pre>${esc(header(r))}\n${esc(r.when)}</pre>
<p>${legend}</p>
<h2>Latency distributions</h2><div class="row">${r.cells.map(cdfSvg).join('')}</div>
${sweeps ? `<h2>Concurrency sweep</h2>${sweeps}` : ''}
<h2>Latency (µs)</h2>${htmlTable(latencyRows(r))}
<h2>Overhead over direct (µs)</h2>${htmlTable(overheadRows(r))}
<h2>${esc(GOALS_TITLE)}</h2>${htmlTable(goalRows(r), (i) => i === 1)}
</body></html>
`;
}
