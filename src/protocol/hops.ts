// Timestamps of each message at each hop (client, bridge, daemon, upstream and back), to see where
// latency goes: `node dist/bench/hops.js`. Off unless MCP_GUARD_HOPS_DIR is set when the process
// starts; then hop(name) appends process.hrtime.bigint() (CLOCK_MONOTONIC, one clock for every
// process on the machine) to DIR/<pid>-<name>. Only times are written, never message content.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.MCP_GUARD_HOPS_DIR;
const stamps = new Map<string, bigint[]>();

function flush(): void {
  for (const [name, list] of stamps) {
    if (list.length === 0) continue;
    appendFileSync(join(dir!, `${process.pid}-${name}`), list.join('\n') + '\n');
    list.length = 0;
  }
}

function record(name: string): void {
  let list = stamps.get(name);
  if (!list) stamps.set(name, (list = []));
  list.push(process.hrtime.bigint());
}

if (dir) {
  setInterval(flush, 250).unref();
  process.on('exit', flush);
}

/** Note that a message passed hop `name` now (a no-op unless MCP_GUARD_HOPS_DIR is set). */
export const hop: (name: string) => void = dir ? record : () => {};
