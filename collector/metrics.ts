import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';

/** Running totals per source, read by heartbeats (prom-client counters are write-only for that purpose). */
export interface SourceStats {
  read: number;
  shipped: number;
  spooled: number;
  dropped: number;
  truncated: number;
  /** TCP/TLS connections refused by a connection limit. */
  refused: number;
  /** UDP datagrams the kernel dropped on this source's socket (its receive buffer was full). */
  kernelDropped: number;
  /** Event log gaps (a cleared log, records overwritten before they were read), with the channels they hit. */
  gaps: number;
  gapChannels: Set<string>;
  lastLineAt: string | null;
}

/** Prometheus counters of the collector, in a registry of its own so that two agents in one process never mix. */
export class CollectorMetrics {
  readonly registry = new Registry();
  private readonly stats = new Map<string, SourceStats>();
  private readonly readTotal = new Counter({
    name: 'canhgac_collector_lines_read_total',
    help: 'Lines read from a source',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly shippedTotal = new Counter({
    name: 'canhgac_collector_lines_shipped_total',
    help: 'Lines acknowledged by Kafka',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly spooledTotal = new Counter({
    name: 'canhgac_collector_lines_spooled_total',
    help: 'Lines written to the on-disk spool',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly droppedTotal = new Counter({
    name: 'canhgac_collector_lines_dropped_total',
    help: 'Lines dropped because the spool was full (UDP only)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly truncatedTotal = new Counter({
    name: 'canhgac_collector_lines_truncated_total',
    help: 'Lines cut at the line limit',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly resentTotal = new Counter({
    name: 'canhgac_collector_lines_resent_total',
    help: 'Lines sent again after a failed send (possible duplicates)',
    registers: [this.registry],
  });
  private readonly refusedTotal = new Counter({
    name: 'canhgac_collector_connections_refused_total',
    help: 'Syslog TCP/TLS connections refused, by limit (total, per_peer)',
    labelNames: ['source', 'reason'],
    registers: [this.registry],
  });
  private readonly idleClosedTotal = new Counter({
    name: 'canhgac_collector_connections_idle_closed_total',
    help: 'Syslog TCP/TLS connections closed after the idle timeout',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly kernelDroppedTotal = new Counter({
    name: 'canhgac_collector_udp_kernel_drops_total',
    help: "Datagrams the kernel dropped on a UDP source's socket (receive buffer full; /proc/net/udp drops)",
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly gapsTotal = new Counter({
    name: 'canhgac_collector_winlog_gaps_total',
    help: 'Event log gaps a winlog source found (cleared log, record id gone back, records overwritten unread)',
    labelNames: ['source', 'channel'],
    registers: [this.registry],
  });
  /** The kernel's own count (since boot, every UDP socket of the network namespace), as /proc/net/snmp reads. */
  readonly udpRcvbufErrors = new Gauge({
    name: 'canhgac_collector_udp_rcvbuf_errors',
    help: 'Udp RcvbufErrors of /proc/net/snmp: datagrams dropped by the kernel on any UDP socket since boot',
    registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({ name: 'canhgac_collector_spool_bytes', help: 'Bytes waiting in the spool', registers: [this.registry] });

  source(name: string): SourceStats {
    let s = this.stats.get(name);
    if (!s) {
      s = { read: 0, shipped: 0, spooled: 0, dropped: 0, truncated: 0, refused: 0, kernelDropped: 0, gaps: 0, gapChannels: new Set(), lastLineAt: null };
      this.stats.set(name, s);
    }
    return s;
  }

  read(source: string, n: number, at: string): void {
    const s = this.source(source);
    s.read += n;
    s.lastLineAt = at;
    this.readTotal.inc({ source }, n);
  }

  shipped(source: string, n: number): void {
    this.source(source).shipped += n;
    this.shippedTotal.inc({ source }, n);
  }

  spooled(source: string, n: number): void {
    this.source(source).spooled += n;
    this.spooledTotal.inc({ source }, n);
  }

  dropped(source: string, n: number): void {
    this.source(source).dropped += n;
    this.droppedTotal.inc({ source }, n);
  }

  truncated(source: string, n: number): void {
    this.source(source).truncated += n;
    this.truncatedTotal.inc({ source }, n);
  }

  refused(source: string, reason: 'total' | 'per_peer'): void {
    this.source(source).refused += 1;
    this.refusedTotal.inc({ source, reason });
  }

  idleClosed(source: string): void {
    this.idleClosedTotal.inc({ source });
  }

  /** The socket's drop count as the kernel reports it now; the metric moves by the difference. */
  gap(source: string, channel: string): void {
    const s = this.source(source);
    s.gaps++;
    s.gapChannels.add(channel);
    this.gapsTotal.inc({ source, channel });
  }

  kernelDropped(source: string, total: number): void {
    const s = this.source(source);
    if (total > s.kernelDropped) this.kernelDroppedTotal.inc({ source }, total - s.kernelDropped);
    s.kernelDropped = Math.max(s.kernelDropped, total);
  }

  resent(n: number): void {
    this.resentTotal.inc(n);
  }
}

/** The optional `collector.metrics.listen` endpoint: GET /metrics in the Prometheus text format. */
export async function serveMetrics(metrics: CollectorMetrics, host: string, port: number): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, address: server.address() as AddressInfo };
}
