// Runs every micro-benchmark of the native parts, each in its own process so that one's threads
// and heap do not disturb the next. Each prints a table and writes bench/results/native-*.json.
// Usage: node dist/native-bench/run.js [gate|inspect|policy|pinning|audit-writer ...] [-- args for each]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ALL = ['gate', 'inspect', 'policy', 'pinning', 'audit-writer'];
const dash = process.argv.indexOf('--');
const names = (dash === -1 ? process.argv.slice(2) : process.argv.slice(2, dash)).filter(Boolean);
const extra = dash === -1 ? [] : process.argv.slice(dash + 1);
const chosen = names.length ? names : ALL;
let failed = 0;
for (const name of chosen) {
  if (!ALL.includes(name)) {
    console.error(`unknown benchmark '${name}' (have: ${ALL.join(', ')})`);
    process.exit(2);
  }
  console.log(`\n== native-bench/${name}`);
  const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const r = spawnSync(process.execPath, [file, ...extra], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
