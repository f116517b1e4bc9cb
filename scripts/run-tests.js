// Runs every compiled test file under dist/test with node's test runner.
// Usage: node scripts/run-tests.js [filter...]  (filters match file paths, e.g. `e2e` or `audit-`)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (chosen.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// One file at a time by default: the e2e files each run real daemons and servers, and on a
// 2-core machine running two at once turns timing margins into flakes.
const concurrency = process.env.TEST_CONCURRENCY ?? '1';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', ...chosen], { stdio: 'inherit' });
process.exit(r.status ?? 1);
