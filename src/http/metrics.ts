// Prometheus metrics. prom-client owns the registry, the exposition format and the process metrics;
// every family of our own (requests, decisions, findings, latencies, sessions, queue depths) is
// counted here in plain fields and handed to prom-client only at scrape time, and prom-client itself
// is loaded on first use (it and the OpenTelemetry API it requires take ~60 ms to load, which a
// starting daemon does better without). A labelled prom-client child validates and
// hashes its labels on every inc() or observe(); measured under load, that was 8% of the daemon's
// main thread. Label values are bounded: methods outside the MCP set count as "other", so a client
// cannot blow up the series count.
import type { Registry } from 'prom-client';
import type { AuditRecord, AuditSink } from '../audit/record.js';

/** The fields of an audit record the metrics use. */
export type ObservedRecord = Pick<AuditRecord, 'server' | 'kind' | 'method' | 'decision' | 'stage' | 'upstream_ms' | 'overhead_us' | 'era'> & {
  findings?: readonly { type: string; count: number }[];
};


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
  // 2026-07-28
  'server/discover',
  'subscriptions/listen',
  'notifications/subscriptions/acknowledged',
]);

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

type Labels = Record<string, string>;
interface Value {
  labels: Labels;
  metricName?: string;
  value: number;
}

/** A counter family as prom-client renders it (registry.registerMetric accepts any such object). */
class Counts {
  readonly aggregator = 'sum';
  /** Series by their first label, then their second, then their third (unused levels are ''). */
  private readonly series = new Map<string, Map<string, Map<string, Value>>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    readonly type: 'counter' | 'gauge' = 'counter',
  ) {}

  at(a: string, b = '', c = ''): Value {
    let m1 = this.series.get(a);
    if (!m1) this.series.set(a, (m1 = new Map()));
    let m2 = m1.get(b);
    if (!m2) m1.set(b, (m2 = new Map()));
    let v = m2.get(c);
    if (!v) {
      const labels: Labels = {};
      [a, b, c].forEach((x, i) => i < this.labelNames.length && (labels[this.labelNames[i]!] = x));
      m2.set(c, (v = { labels, value: 0 }));
    }
    return v;
  }

  get() {
    const values: Value[] = [];
    for (const m1 of this.series.values()) for (const m2 of m1.values()) for (const v of m2.values()) values.push({ labels: v.labels, value: v.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** One labelled histogram: a count per bucket (not cumulative), the sum and the count. */
class Buckets {
  sum = 0;
  count = 0;
  readonly counts: Float64Array;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    if (!Number.isFinite(v)) return; // one NaN would turn the sum into NaN for good
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    if (i < b.length) this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** A histogram family with one label, rendered like prom-client's own (cumulative le buckets, _sum, _count). */
class Histo {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Buckets>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string,
    private readonly bounds: readonly number[],
  ) {}

  at(value: string): Buckets {
    let s = this.series.get(value);
    if (!s) this.series.set(value, (s = new Buckets({ [this.label]: value }, this.bounds)));
    return s;
  }

  get() {
    const values: Value[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { le: String(le), ...s.labels }, metricName: `${this.name}_bucket`, value: acc });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, metricName: `${this.name}_bucket`, value: s.count });
      values.push({ labels: s.labels, metricName: `${this.name}_sum`, value: s.sum });
      values.push({ labels: s.labels, metricName: `${this.name}_count`, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export class Metrics {
  private registry?: Registry;
  private loading?: Promise<Registry>;
  private readonly requests = new Counts('mcp_guard_requests_total', 'Requests handled, by server, method and final decision', ['server', 'method', 'decision']);
  private readonly byEra = new Counts('mcp_guard_era_requests_total', 'Requests handled, by server, protocol era (2025, 2026; none before the era is known) and final decision', ['server', 'era', 'decision']);
  private readonly decisions = new Counts('mcp_guard_decisions_total', 'Audited decisions by the stage that made them', ['stage', 'decision']);
  private readonly findings = new Counts('mcp_guard_findings_total', 'Sensitive-data findings by type', ['type']);
  private readonly upstream = new Histo('mcp_guard_upstream_latency_seconds', 'Time from forwarding a request upstream to its response', 'server', LATENCY_BUCKETS);
  private readonly overhead = new Histo('mcp_guard_proxy_overhead_seconds', 'Time mcp-guard spent on a request and its response (inspection and routing)', 'server', OVERHEAD_BUCKETS);
  private readonly sessions = new Counts('mcp_guard_sessions', 'Open client sessions by front (bridge, http)', ['front'], 'gauge');
  private readonly sessionsOpened = new Counts('mcp_guard_sessions_opened_total', 'Client sessions opened by front', ['front']);
  private readonly depths = new Map<string, () => number>();
  /** Each queue's last depth read (a failing reader leaves it). */
  private readonly depthSeen = new Map<string, number>();

  constructor(private readonly opts: { defaultMetrics?: boolean } = {}) {}

  /** Load prom-client and register every family (done by the first scrape, or early by the daemon). */
  prepare(): Promise<Registry> {
    this.loading ??= (async () => {
      const { Registry, collectDefaultMetrics } = await import('prom-client');
      const registry = new Registry();
      const depths = this.depths, seen = this.depthSeen;
      const queueDepth = {
        name: 'mcp_guard_queue_depth',
        help: 'Items waiting in an internal queue (inspection pool, audit writer)',
        type: 'gauge',
        aggregator: 'sum',
        get() {
          for (const [queue, read] of depths) {
            try {
              seen.set(queue, read());
            } catch {
              /* a failing reader leaves the last value */
            }
          }
          return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...seen].map(([queue, value]) => ({ labels: { queue }, value })) };
        },
      };
      for (const m of [this.requests, this.byEra, this.decisions, this.findings, this.upstream, this.overhead, this.sessions, this.sessionsOpened, queueDepth]) registry.registerMetric(m as never);
      // The event-loop lag histogram samples on a timer: at prom-client's default 10 ms an idle daemon
      // would wake 100 times a second (a laptop's battery notices); once a second is plenty for a lag metric.
      if (this.opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'mcp_guard_', eventLoopMonitoringPrecision: 1000 });
      this.registry = registry;
      return registry;
    })();
    return this.loading;
  }

  /** Count one audit record: a few Map lookups and increments. */
  observe(rec: ObservedRecord): void {
    const decision = rec.decision;
    this.decisions.at(rec.stage || 'none', decision).value++;
    if (rec.kind === 'request') {
      const method = KNOWN_METHODS.has(rec.method) ? rec.method : rec.method === '' ? 'invalid' : 'other';
      this.requests.at(rec.server, method, decision).value++;
      this.byEra.at(rec.server, rec.era ?? 'none', decision).value++;
      if (rec.upstream_ms !== undefined) this.upstream.at(rec.server).observe(rec.upstream_ms / 1000);
      if (rec.overhead_us !== undefined) this.overhead.at(rec.server).observe(rec.overhead_us / 1e6);
    }
    if (rec.findings) for (const f of rec.findings) this.findings.at(f.type).value += f.count;
  }

  sessionOpened(front: 'bridge' | 'http'): void {
    this.sessions.at(front).value++;
    this.sessionsOpened.at(front).value++;
  }

  sessionClosed(front: 'bridge' | 'http'): void {
    this.sessions.at(front).value--;
  }

  /** Report a queue's depth at scrape time (e.g. the pool's queueSize, the audit channel's backlog). */
  queueDepth(queue: string, read: () => number): void {
    this.depths.set(queue, read);
  }

  /** An audit sink that counts each record, then passes it on (or just counts, without a sink). */
  tee(sink?: AuditSink): AuditSink {
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
    return (await this.prepare()).metrics();
  }

  get contentType(): string {
    return this.registry?.contentType ?? PROMETHEUS_TEXT;
  }
}
