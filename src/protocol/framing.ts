// Newline-delimited JSON-RPC framing over Buffers: the one framing function of the project.
// Splits a byte stream into lines without copying in the common case (one chunk, many lines),
// and enforces a maximum line size without buffering an oversized line.

export interface LineSink {
  line(buf: Buffer): void;
  /**
   * A line exceeded the limit; its bytes were discarded up to the next newline. `edges` is its
   * first and last EDGE_BYTES joined (where serialisers put the id), so the sender can be answered.
   */
  oversize(bytesSeen: number, edges: Buffer): void;
}

/** Bytes kept of each end of a discarded line. */
export const EDGE_BYTES = 256;

import { hop } from './hops.js';

const NL = 0x0a;

/**
 * True while a LineSplitter hands out the lines of a chunk that holds more than one: the messages
 * they produce are a burst, and LineWriter gathers what they write into one write() at the end of
 * the tick instead of writing the first at once. Set and cleared synchronously inside push().
 */
let burst = false;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  /** Bytes of an oversized line discarded so far; -1 when not discarding. */
  private discarding = -1;
  /** While discarding: the line's first EDGE_BYTES, and its latest bytes (at most 2 x EDGE_BYTES). */
  private head?: Buffer;
  private tail?: Buffer;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: LineSink,
  ) {}

  push(chunk: Buffer): void {
    const first = chunk.indexOf(NL);
    const many = first !== -1 && chunk.indexOf(NL, first + 1) !== -1;
    const outer = burst;
    if (many) burst = true;
    try {
      this.lines(chunk);
    } finally {
      burst = outer;
    }
  }

  private lines(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) break;
      if (this.discarding >= 0) {
        const total = this.discarding + (nl - start);
        this.discarding = -1;
        this.keepTail(chunk.subarray(start, nl));
        const edges = Buffer.concat([this.head!, this.tail!.subarray(Math.max(0, this.tail!.length - EDGE_BYTES))]);
        this.head = this.tail = undefined;
        this.sink.oversize(total, edges);
      } else if (this.partLen > 0) {
        const tail = chunk.subarray(start, nl);
        const len = this.partLen + tail.length;
        const whole = Buffer.concat([...this.parts, tail], len);
        this.parts = [];
        this.partLen = 0;
        this.emit(whole);
      } else {
        this.emit(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.discarding >= 0) {
        this.discarding += rest.length;
        this.keepTail(rest);
      } else if (this.partLen + rest.length > this.maxBytes) {
        this.discarding = this.partLen + rest.length;
        const all = Buffer.concat([...this.parts, rest]);
        this.head = Buffer.from(all.subarray(0, EDGE_BYTES));
        this.tail = Buffer.from(all.subarray(Math.max(0, all.length - EDGE_BYTES)));
        this.parts = [];
        this.partLen = 0;
      } else {
        // Keep a reference only; chunks from sockets are not reused by Node.
        this.parts.push(rest);
        this.partLen += rest.length;
      }
    }
  }

  private keepTail(bytes: Buffer): void {
    if (bytes.length >= EDGE_BYTES) this.tail = Buffer.from(bytes.subarray(bytes.length - EDGE_BYTES));
    else this.tail = Buffer.concat([this.tail!.subarray(Math.max(0, this.tail!.length - EDGE_BYTES)), bytes]);
  }

  /** Bytes held for an incomplete line. */
  get pending(): number {
    return this.partLen;
  }

  private emit(line: Buffer): void {
    // Tolerate CRLF and skip blank lines.
    let end = line.length;
    if (end > 0 && line[end - 1] === 0x0d) end--;
    if (end === 0) return;
    if (end > this.maxBytes) {
      this.sink.oversize(end, Buffer.concat([line.subarray(0, EDGE_BYTES), line.subarray(end - EDGE_BYTES, end)]));
      return;
    }
    this.sink.line(end === line.length ? line : line.subarray(0, end));
  }
}

/** What a LineWriter writes to: a socket or a pipe (Node's Writable), or anything shaped like one. */
export interface LineOut {
  /** false: over the stream's own high-water mark until 'drain'. */
  write(b: Buffer): unknown;
  readonly destroyed?: boolean;
  /** Bytes the stream holds that the reader has not taken yet. */
  readonly writableLength?: number;
  on?(event: 'drain', cb: () => void): unknown;
}

/**
 * The writing side. A lone message is written at once: the reader starts on it while this process
 * goes on with its own work (the audit record). Messages of a burst (the lines of one read, see
 * `burst`), and any after the first in a tick, leave together in one write() at the end of the
 * tick: one syscall for many messages matters on a busy machine, where each write to a pipe or
 * socket wakes the reader and costs far more than copying a few kilobytes.
 * Back-pressure: a stream buffers whatever it is given, so a reader that stops reading would make
 * this process grow without limit. `backlog` says how much the reader has not taken and `onDrain`
 * when it has taken it all; the owner stops producing (pauses its own inputs) in between.
 */
export class LineWriter {
  private parts: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  /** The last write() returned false: the stream is over its own high-water mark until 'drain'. */
  private full = false;
  /** Set by the owner: the reader took everything written so far. */
  onDrain?: () => void;

  constructor(
    private readonly out: LineOut,
    /** Hop noted after each write (protocol/hops.ts). */
    private readonly hopName = '',
  ) {
    out.on?.('drain', () => {
      this.full = false;
      this.onDrain?.();
    });
  }

  push(line: Buffer): void {
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
      if (!burst) {
        if (!this.out.destroyed && this.out.write(Buffer.concat([line, NEWLINE], line.length + 1)) === false) this.full = true;
        if (this.hopName) hop(this.hopName);
        return;
      }
    }
    this.parts.push(line, NEWLINE);
    this.bytes += line.length + 1;
  }

  /** Bytes waiting for the end of this tick. */
  get pending(): number {
    return this.bytes;
  }

  /** Bytes written (or about to be) that the reader has not taken yet. */
  get backlog(): number {
    return this.bytes + (this.full ? (this.out.writableLength ?? 0) : 0);
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.bytes === 0) return;
    const buf = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    if (!this.out.destroyed && this.out.write(buf) === false) this.full = true;
    if (this.hopName) hop(this.hopName);
  };
}

const NEWLINE = Buffer.from('\n');
