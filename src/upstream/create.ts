// Picks the upstream transport for a server's config.
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../protocol/log.js';
import type { Upstream } from './upstream.js';
import { StdioUpstream } from './stdio.js';

export interface UpstreamContext {
  /** Cleans text from an upstream before it is logged (PII redaction). */
  cleanLog?: (s: string) => string;
}

export function createUpstream(name: string, cfg: ServerConfig, maxBytes: number, log: Logger, ctx: UpstreamContext = {}): Upstream {
  switch (cfg.transport) {
    case 'stdio':
      return new StdioUpstream(name, cfg, maxBytes, log, ctx.cleanLog);
    case 'streamable-http':
    case 'sse': {
      const transport = cfg.transport;
      return new LazyUpstream(name, async () => new (await import('./http.js')).HttpUpstream(name, transport, cfg, maxBytes, log));
    }
  }
}

/**
 * An upstream whose module is imported when it starts: the MCP SDK's HTTP client transports take
 * about 150 ms to load, which a daemon with only stdio servers should not spend on every start.
 */
class LazyUpstream implements Upstream {
  onLine: (line: Buffer) => void = () => {};
  onClose: (reason: string) => void = () => {};
  onDrain: () => void = () => {};
  private real?: Upstream;
  private closed = false;
  private paused = false;

  constructor(
    readonly server: string,
    private readonly make: () => Promise<Upstream>,
  ) {}

  async start(): Promise<void> {
    const u = await this.make();
    if (this.closed) throw new Error('the session closed before its upstream started');
    u.onLine = (l) => this.onLine(l);
    u.onClose = (r) => this.onClose(r);
    u.onDrain = () => this.onDrain();
    if (this.paused) u.pause();
    this.real = u;
    await u.start();
  }

  send(line: Buffer): void {
    this.real?.send(line);
  }

  pause(): void {
    this.paused = true;
    this.real?.pause();
  }

  resume(): void {
    this.paused = false;
    this.real?.resume();
  }

  get backlog(): number {
    return this.real?.backlog ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.real?.close();
  }
}
