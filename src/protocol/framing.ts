// Newline-delimited JSON-RPC framing over Buffers: the one framing function of the project.
// Splits a byte stream into lines without copying in the common case (one chunk, many lines),
// and enforces a maximum line size without buffering an oversized line.

export interface LineSink {
  line(buf: Buffer): void;
  /** A line exceeded the limit; its bytes were discarded up to the next newline. */
  oversize(bytesSeen: number): void;
}

const NL = 0x0a;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  /** Bytes of an oversized line discarded so far; -1 when not discarding. */
  private discarding = -1;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: LineSink,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) break;
      if (this.discarding >= 0) {
        const total = this.discarding + (nl - start);
        this.discarding = -1;
        this.sink.oversize(total);
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
      } else if (this.partLen + rest.length > this.maxBytes) {
        this.discarding = this.partLen + rest.length;
        this.parts = [];
        this.partLen = 0;
      } else {
        // Keep a reference only; chunks from sockets are not reused by Node.
        this.parts.push(rest);
        this.partLen += rest.length;
      }
    }
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
      this.sink.oversize(end);
      return;
    }
    this.sink.line(end === line.length ? line : line.subarray(0, end));
  }
}

/**
 * The writing side: lines sent in one tick leave in one write() of one buffer. One syscall per
 * tick instead of one writev per message matters: on a busy machine each write to a pipe or
 * socket wakes the reader and costs far more than copying a few kilobytes.
 */
export class LineWriter {
  private parts: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly out: { write(b: Buffer): unknown; readonly destroyed?: boolean }) {}

  push(line: Buffer): void {
    this.parts.push(line, NEWLINE);
    this.bytes += line.length + 1;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Bytes waiting for the end of this tick. */
  get pending(): number {
    return this.bytes;
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.bytes === 0) return;
    const buf = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    if (!this.out.destroyed) this.out.write(buf);
  };
}

const NEWLINE = Buffer.from('\n');
