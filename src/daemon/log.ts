// Daemon log: JSON lines (one object per event) when not on a TTY, readable lines on a TTY.
// Only metadata is logged; payloads, credentials and matches never are. Two guards keep a bad
// moment from turning into a worse one: an event that repeats (a flooding upstream, a full disk)
// is written a few times per window and then summarised with a count, never once per occurrence;
// and a log that cannot be written (ENOSPC under daemon.log) costs lines, counted, not the process.

import { fstatSync, writeSync } from 'node:fs';
import type { Level, Logger } from '../protocol/log.js';

export type { Level, Logger };
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Lines of one repeated event written per window; the rest are counted and summarised. */
export const REPEAT_BURST = 20;
export const REPEAT_WINDOW_MS = 10_000;

export interface LoggerOptions {
  /** Lines of one event per window before it is summarised (default REPEAT_BURST). */
  burst?: number;
  windowMs?: number;
}

interface Repeat {
  n: number;
  suppressed: number;
  lvl: Level;
  msg: string;
  fields: Record<string, unknown>;
}

export function createLogger(level: Level, out: NodeJS.WritableStream = process.stderr, base: Record<string, unknown> = {}, opts: LoggerOptions = {}): Logger {
  const min = rank[level];
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  const burst = opts.burst ?? REPEAT_BURST;
  const windowMs = opts.windowMs ?? REPEAT_WINDOW_MS;
  const put = lineWriter(out);
  // One event = level, message and session (or the upstream stream a line came from): a flooding
  // session is summarised without silencing the same event in the others.
  const repeats = new Map<string, Repeat>();
  let timer: NodeJS.Timeout | undefined;

  const format = (lvl: Level, msg: string, all: Record<string, unknown>): string => {
    if (tty) {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      return `${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${msg}${extra ? ' ' + extra : ''}\n`;
    }
    return JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...all }) + '\n';
  };

  const endWindow = (): void => {
    timer = undefined;
    for (const r of repeats.values()) {
      if (r.suppressed > 0) put(format(r.lvl, r.msg, { ...r.fields, suppressed: r.suppressed, windowS: windowMs / 1000 }));
    }
    repeats.clear();
  };

  const write = (b: Record<string, unknown>, lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return;
    const all = { ...b, ...fields };
    const key = `${lvl}\0${all.stream === undefined ? msg : `stream:${String(all.stream)}`}\0${String(all.session ?? '')}`;
    let r = repeats.get(key);
    if (!r) {
      repeats.set(key, (r = { n: 0, suppressed: 0, lvl, msg, fields: all }));
      if (!timer) {
        timer = setTimeout(endWindow, windowMs);
        timer.unref();
      }
    }
    if (++r.n > burst) {
      r.suppressed++;
      r.msg = msg;
      r.fields = all;
      return;
    }
    put(format(lvl, msg, all));
  };

  // Counts still open when the daemon exits are written then, not lost with the timer.
  process.once('exit', () => {
    clearTimeout(timer);
    endWindow();
  });

  const make = (b: Record<string, unknown>): Logger => ({
    debug: (m, f) => write(b, 'debug', m, f),
    info: (m, f) => write(b, 'info', m, f),
    warn: (m, f) => write(b, 'warn', m, f),
    error: (m, f) => write(b, 'error', m, f),
    child: (fields) => make({ ...b, ...fields }),
  });
  return make(base);
}

/**
 * How lines reach `out`. The daemon's stderr is usually daemon.log (a file, which Node writes
 * synchronously anyway): written here by fd, so that ENOSPC loses the line instead of raising an
 * 'error' on process.stderr, which kills the process. Lost lines are counted and reported by the
 * next line that can be written.
 */
function lineWriter(out: NodeJS.WritableStream): (s: string) => void {
  let lost = 0;
  let why = '';
  const fd = (out as { fd?: unknown }).fd;
  let isFile = false;
  if (typeof fd === 'number' && (out === process.stderr || out === process.stdout)) {
    try {
      isFile = fstatSync(fd).isFile();
    } catch {
      isFile = false;
    }
  }
  const note = (): string =>
    JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'daemon log lines could not be written', lost, reason: why }) + '\n';
  if (isFile) {
    const fdn = fd as number;
    return (s) => {
      try {
        if (lost > 0) {
          writeSync(fdn, note());
          lost = 0;
        }
        writeSync(fdn, s);
      } catch (err) {
        lost++;
        why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      }
    };
  }
  // A stream: its errors are counted (an unhandled 'error' would be fatal), and a dead stream is not written.
  (out as NodeJS.EventEmitter).on?.('error', (err: Error) => {
    lost++;
    why = (err as NodeJS.ErrnoException).code ?? err.message;
  });
  return (s) => {
    const w = out as NodeJS.WritableStream & { destroyed?: boolean };
    if (w.destroyed) {
      lost++;
      return;
    }
    if (lost > 0) {
      w.write(note());
      lost = 0;
    }
    w.write(s);
  };
}
