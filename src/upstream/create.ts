// Picks the upstream transport for a server's config.
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../daemon/log.js';
import type { Upstream } from './upstream.js';
import { StdioUpstream } from './stdio.js';
import { HttpUpstream } from './http.js';

export interface UpstreamContext {
  /** Cleans text from an upstream before it is logged (PII redaction). */
  cleanLog?: (s: string) => string;
}

export function createUpstream(name: string, cfg: ServerConfig, maxBytes: number, log: Logger, ctx: UpstreamContext = {}): Upstream {
  switch (cfg.transport) {
    case 'stdio':
      return new StdioUpstream(name, cfg, maxBytes, log, ctx.cleanLog);
    case 'streamable-http':
    case 'sse':
      return new HttpUpstream(name, cfg.transport, cfg, maxBytes, log);
  }
}
