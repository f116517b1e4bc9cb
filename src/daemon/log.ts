// Daemon log: JSON lines (one object per event) when not on a TTY, readable lines on a TTY.
// Only metadata is logged; payloads, credentials and matches never are.

import type { Level, Logger } from '../protocol/log.js';

export type { Level, Logger };
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(level: Level, out: NodeJS.WritableStream = process.stderr, base: Record<string, unknown> = {}): Logger {
  const min = rank[level];
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  const write = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return;
    const all = { ...base, ...fields };
    if (tty) {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${msg}${extra ? ' ' + extra : ''}\n`);
    } else {
      out.write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...all }) + '\n');
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(level, out, { ...base, ...fields }),
  };
}
