// `npm run bench`: the latency bench (small) and the detection suite, results to bench/results/
// as <name>.json and a Markdown report: REPORT.md for a full run, REPORT-<name>.md otherwise, so a
// quick run never overwrites the full report. `--quick` keeps the whole run under a minute.
//   node dist/bench/run.js [--quick] [--name NAME] [--pipeline all] [--no-latency] [--no-detection]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptFlag, scriptOption } from '../src/bench/guard-env.js';
import { runLatency, type LatencyReport } from '../src/bench/latency.js';
import { renderMarkdown, renderTable, renderHtml } from '../src/bench/report.js';
import { runDetection, type DetectionReport } from './detection/suite.js';

const flag = scriptFlag;
const value = scriptOption;
const quick = flag('--quick');
const name = value('--name', quick ? 'quick' : 'full');
const pipeline = value('--pipeline', 'all');
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const tty = process.stderr.isTTY;
const progress = (m: string) => (tty ? process.stderr.write(`\r\x1b[K${m}`.slice(0, (process.stderr.columns || 100) + 4)) : undefined);
const clear = () => tty && process.stderr.write('\r\x1b[K');

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  const t0 = Date.now();
  let latency: LatencyReport | undefined;
  let detection: DetectionReport | undefined;
  if (!flag('--no-latency')) {
    latency = await runLatency({
      requests: quick ? 600 : 3000,
      warmup: quick ? 100 : 300,
      sizes: quick ? [1024, 10 * 1024] : [1024, 10 * 1024, 100 * 1024],
      concurrency: quick ? [1, 16] : [1, 8, 64],
      pipeline,
      progress,
    });
    clear();
    process.stdout.write(renderTable(latency) + '\n');
    writeFileSync(join(RESULTS, `${name}-latency.html`), renderHtml(latency));
  }
  if (!flag('--no-detection')) {
    detection = await runDetection({
      corpusSize: Number(value('--corpus', quick ? '3000' : '20000')),
      progress,
      skipScenarios: quick && flag('--skip-scenarios'),
      // Quick mode sends every 8th generated message variant (a sample spread over every format and
      // disguise) and leaves out the auth, config and rate variants, which start daemons and sessions.
      generatedEvery: quick ? 8 : 1,
      scenarioVariants: !quick,
    });
    clear();
    process.stdout.write(detectionText(detection) + '\n');
  }
  const out = { name, when: new Date().toISOString(), seconds: Math.round((Date.now() - t0) / 100) / 10, quick, latency, detection };
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(out, null, 2) + '\n');
  const report = join(RESULTS, name === 'full' ? 'REPORT.md' : `REPORT-${name}.md`);
  writeFileSync(report, markdown(out));
  process.stderr.write(`results: ${join(RESULTS, `${name}.json`)}, ${report} (${out.seconds} s)\n`);
}

function cell(k: { pass: number; fail: number; notRun: number }): string {
  const total = k.pass + k.fail;
  if (total === 0 && k.notRun === 0) return '-';
  return `${k.pass}/${total}${k.notRun ? ` (${k.notRun} not run)` : ''}`;
}

export function detectionRows(d: DetectionReport): string[][] {
  const rows = [['category', 'must-block', 'must-redact', 'must-pass']];
  for (const c of d.byCategory) rows.push([c.category, cell(c.kinds['must-block']), cell(c.kinds['must-redact']), cell(c.kinds['must-pass'])]);
  return rows;
}

/** Generated variants per category: passed/run per kind, and the share of attacks caught. */
export function generatedRows(d: DetectionReport): string[][] {
  return scoreRows('category', d.generated.byCategory);
}

/** The PII and secret variants per family of the planted value's type. */
export function familyRows(d: DetectionReport): string[][] {
  return scoreRows('family', d.generated.byFamily ?? []);
}

function scoreRows(head: string, scores: DetectionReport['generated']['byCategory']): string[][] {
  const rows = [[head, 'must-block', 'must-redact', 'must-pass', 'attacks caught']];
  for (const c of scores) {
    const k = c.kinds;
    const attacks = k['must-block'].pass + k['must-block'].fail + k['must-redact'].pass + k['must-redact'].fail;
    if (attacks + k['must-pass'].pass + k['must-pass'].fail === 0) continue;
    const caught = k['must-block'].pass + k['must-redact'].pass;
    rows.push([c.category, cell(k['must-block']), cell(k['must-redact']), cell(k['must-pass']), attacks ? `${((100 * caught) / attacks).toFixed(2)}%` : '-']);
  }
  return rows;
}

function generatedSummary(d: DetectionReport): string {
  const g = d.generated;
  return `Generated variants: ${g.cases - g.failures.length} of ${g.cases} passed${g.every > 1 ? ` (a sample: every ${g.every}th message variant; auth, config and rate variants only in the full run)` : ''}, ${g.seconds.toFixed(1)} s`;
}

function detectionText(d: DetectionReport): string {
  const lines = table(detectionRows(d));
  const failed = d.cases.filter((c) => !c.verdict.pass && !c.verdict.notRun);
  const notRun = d.cases.filter((c) => c.verdict.notRun);
  return [
    'Detection suite (passed/run per kind)',
    ...lines,
    '',
    `Legitimate corpus: ${d.corpus.falsePositives} false positives in ${d.corpus.calls} calls (rate ${(d.corpus.rate * 100).toFixed(3)}%, 95% upper bound ${(d.corpus.upper95 * 100).toFixed(3)}%), ${d.corpus.seconds.toFixed(1)} s`,
    ...d.corpus.examples.slice(0, 5).map((e) => `  fp ${e.kind} ${e.name}: ${e.reason}`),
    '',
    `Failed cases (${failed.length}):`,
    ...failed.map((c) => `  ${c.id.padEnd(26)} ${c.kind.padEnd(11)} ${c.verdict.reason}`),
    '',
    generatedSummary(d),
    ...table(generatedRows(d)),
    '',
    ...table(familyRows(d)),
    ...d.generated.failures.slice(0, 30).map((c) => `  FAIL ${c.kind.padEnd(11)} ${c.description}: ${c.verdict.reason}`),
    ...(d.generated.failures.length > 30 ? [`  … and ${d.generated.failures.length - 30} more (see the JSON report)`] : []),
    ...(notRun.length ? ['', `Not run (${notRun.length}):`, ...notRun.map((c) => `  ${c.id.padEnd(26)} ${c.verdict.reason}`)] : []),
  ].join('\n');
}

function table(rows: string[][]): string[] {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
}

function mdTable(rows: string[][]): string {
  const [h, ...b] = rows;
  return [`| ${h!.join(' | ')} |`, `|${h!.map(() => '---').join('|')}|`, ...b.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function markdown(out: { name: string; when: string; seconds: number; quick: boolean; latency?: LatencyReport; detection?: DetectionReport }): string {
  const parts = [`# mcp-guard bench report (${out.name})`, '', `Run ${out.when}, ${out.seconds} s${out.quick ? ', quick mode' : ''}. Reproduce: \`npm run bench${out.quick ? ' -- --quick' : ''}\`.`, ''];
  if (out.latency) parts.push('## Latency and throughput', '', renderMarkdown(out.latency));
  if (out.detection) {
    const d = out.detection;
    parts.push('## Detection', '', 'Passed / run, per kind. A must-block passes only when the client got a -3200x refusal and the value never reached the upstream (or client, for responses); must-pass only when the payload arrived unchanged.', '', mdTable(detectionRows(d)), '');
    parts.push(`Legitimate corpus: **${d.corpus.falsePositives} false positives in ${d.corpus.calls} calls** (rate ${(d.corpus.rate * 100).toFixed(3)}%, 95% upper bound ${(d.corpus.upper95 * 100).toFixed(3)}%, Clopper-Pearson).`, '');
    const kinds = Object.entries(d.corpus.byKind).map(([k, v]) => [k, String(v.calls), String(v.fp)]);
    parts.push(mdTable([['corpus kind', 'calls', 'false positives'], ...kinds]), '');
    const g = d.generated;
    parts.push(
      '### Generated variants',
      '',
      `${g.cases} cases built by \`bench/detection/generated.ts\` from fresh values of every format the detector claims (valid checksums, real token shapes, seeded), each in every place a message can carry it and in every disguise (encodings, separators, Unicode tricks, keys, numbers, padding), plus tool names and resource URIs that try to slip past permissions, and (\`bench/detection/auth-variants.ts\`) forged, tampered, expired, revoked and stolen API keys and tokens sent in raw hellos to api_key and oauth daemons; personal configs that try to relax a base; and one identity hammering rate limits in every shape. ${g.cases - g.failures.length} passed${g.every > 1 ? ` (quick mode: every ${g.every}th message variant; the auth, config and rate variants run in the full mode only)` : ''}.`,
      '',
      mdTable(generatedRows(d)),
      '',
      'The PII and secret variants per family of the planted type (the README\'s Detection section lists the types):',
      '',
      mdTable(familyRows(d)),
      '',
    );
    if (g.failures.length) parts.push(mdTable([['variant', 'category', 'kind', 'description', 'why it failed'], ...g.failures.slice(0, 100).map((c) => [c.id, c.category, c.kind, c.description.replace(/\|/g, '\\|'), c.verdict.reason.replace(/\|/g, '\\|')])]), '');
    parts.push('### Every case', '', mdTable([['case', 'category', 'kind', 'result', 'detail'], ...d.cases.map((c) => [c.id, c.category, c.kind, c.verdict.notRun ? 'not run' : c.verdict.pass ? 'pass' : '**FAIL**', c.verdict.reason.replace(/\|/g, '\\|')])]), '');
  }
  return parts.join('\n') + '\n';
}

main().catch((err) => {
  clear();
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
