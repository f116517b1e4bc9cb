// Prometheus metrics (prom-client) with a hot-path API: observe() takes an audit record as the
// session already builds it, and looks up label children in a plain Map keyed by a joined string
// (prom-client's own labels() hashes an object per call). Label values are bounded: methods outside
// the MCP set count as "other", so a client cannot blow up the series count.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditRecord } from '../audit/record.js';

/** The fields of an audit record the metrics use. */
export type ObservedRecord = Pick<AuditRecord, 'server' | 'kind' | 'method' | 'decision' | 'stage' | 'upstream_ms' | 'overhead_us'> & {
  findings?: readonly { type: string; count: number }[];
};

/** What the session writes audit records to (same shape as session.ts AuditSink). */
export interface RecordSink {
  write(rec: AuditRecord): boolean;
  readonly full: boolean;
  readonly accepting: boolean;
}

const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/message',
  'notifications/roots/list_changed',
  'notifications/tools/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
  'notifications/prompts/list_changed',
]);

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

type Child = { inc(n?: number): void };
type Obs = { observe(v: number): void };

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'server' | 'method' | 'decision'>;
  private readonly decisions: Counter<'stage' | 'decision'>;
  private readonly findings: Counter<'type'>;
  private readonly upstream: Histogram<'server'>;
  private readonly overhead: Histogram<'server'>;
  private readonly sessions: Gauge<'front'>;
  private readonly sessionsOpened: Counter<'front'>;
  private readonly depths = new Map<string, () => number>();
  private readonly cache = new Map<string, Child | Obs>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'mcp_guard_requests_total', help: 'Requests handled, by server, method and final decision', labelNames: ['server', 'method', 'decision'], registers });
    this.decisions = new Counter({ name: 'mcp_guard_decisions_total', help: 'Audited decisions by the stage that made them', labelNames: ['stage', 'decision'], registers });
    this.findings = new Counter({ name: 'mcp_guard_findings_total', help: 'Sensitive-data findings by type', labelNames: ['type'], registers });
    this.upstream = new Histogram({ name: 'mcp_guard_upstream_latency_seconds', help: 'Time from forwarding a request upstream to its response', labelNames: ['server'], buckets: LATENCY_BUCKETS, registers });
    this.overhead = new Histogram({ name: 'mcp_guard_proxy_overhead_seconds', help: 'Time mcp-guard spent on a request and its response (inspection and routing)', labelNames: ['server'], buckets: OVERHEAD_BUCKETS, registers });
    this.sessions = new Gauge({ name: 'mcp_guard_sessions', help: 'Open client sessions by front (bridge, http)', labelNames: ['front'], registers });
    this.sessionsOpened = new Counter({ name: 'mcp_guard_sessions_opened_total', help: 'Client sessions opened by front', labelNames: ['front'], registers });
    const depths = this.depths;
    new Gauge({
      name: 'mcp_guard_queue_depth',
      help: 'Items waiting in an internal queue (inspection pool, audit writer)',
      labelNames: ['queue'],
      registers,
      collect() {
        for (const [queue, read] of depths) {
          try {
            this.set({ queue }, read());
          } catch {
            /* a failing reader leaves the last value */
          }
        }
      },
    });
    // The event-loop lag histogram samples on a timer: at prom-client's default 10 ms an idle daemon
    // would wake 100 times a second (a laptop's battery notices); once a second is plenty for a lag metric.
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'mcp_guard_', eventLoopMonitoringPrecision: 1000 });
  }

  /** Count one audit record. Cheap: a few Map lookups and increments. */
  observe(rec: ObservedRecord): void {
    const decision = rec.decision;
    const stage = rec.stage || 'none';
    this.child('d', stage + '\0' + decision, () => this.decisions.labels(stage, decision)).inc();
    if (rec.kind === 'request') {
      const method = KNOWN_METHODS.has(rec.method) ? rec.method : rec.method === '' ? 'invalid' : 'other';
      this.child('r', rec.server + '\0' + method + '\0' + decision, () => this.requests.labels(rec.server, method, decision)).inc();
      if (rec.upstream_ms !== undefined) this.obs('u', rec.server, () => this.upstream.labels(rec.server)).observe(rec.upstream_ms / 1000);
      if (rec.overhead_us !== undefined) this.obs('o', rec.server, () => this.overhead.labels(rec.server)).observe(rec.overhead_us / 1e6);
    }
    if (rec.findings) for (const f of rec.findings) this.child('f', f.type, () => this.findings.labels(f.type)).inc(f.count);
  }

  sessionOpened(front: 'bridge' | 'http'): void {
    this.sessions.inc({ front });
    this.sessionsOpened.inc({ front });
  }

  sessionClosed(front: 'bridge' | 'http'): void {
    this.sessions.dec({ front });
  }

  /** Report a queue's depth at scrape time (e.g. the pool's queueSize, the audit channel's backlog). */
  queueDepth(queue: string, read: () => number): void {
    this.depths.set(queue, read);
  }

  /** An audit sink that counts each record, then passes it on (or just counts, without a sink). */
  tee(sink?: RecordSink): RecordSink {
    return {
      write: (rec) => {
        this.observe(rec);
        return sink ? sink.write(rec) : true;
      },
      get full() {
        return sink?.full ?? false;
      },
      get accepting() {
        return sink?.accepting ?? true;
      },
    };
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private child(prefix: string, key: string, make: () => Child): Child {
    const k = prefix + key;
    let c = this.cache.get(k) as Child | undefined;
    if (!c) this.cache.set(k, (c = make()));
    return c;
  }

  private obs(prefix: string, key: string, make: () => Obs): Obs {
    const k = prefix + key;
    let c = this.cache.get(k) as Obs | undefined;
    if (!c) this.cache.set(k, (c = make()));
    return c;
  }
}
