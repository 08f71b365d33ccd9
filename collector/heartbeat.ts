import type { CollectorMetrics } from './metrics.ts';
import type { RecordSink } from './record.ts';

export interface HeartbeatOptions {
  host: string;
  unit?: string;
  drill?: string;
  sources: string[];
  /** Per source, the coverage log types it carries whatever it read (winlog sources know theirs from their channels). */
  logTypes?: Record<string, string[]>;
  intervalMs: number;
  sink: RecordSink;
  metrics: CollectorMetrics;
  spoolBytes: () => number;
}

/**
 * Every interval, one heartbeat envelope per source for the layer-3 coverage audit: lines shipped
 * and dropped, connections refused and datagrams the kernel dropped since the previous heartbeat that
 * got out, event log gaps, and the time of the last line read. A
 * heartbeat that cannot be queued leaves its counts to the next one.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private readonly reported = new Map<string, { shipped: number; dropped: number; refused: number; kernelDropped: number; gaps: number }>();

  constructor(private readonly o: HeartbeatOptions) {}

  start(): void {
    this.timer = setInterval(() => this.beat(), this.o.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  beat(): void {
    const received = new Date().toISOString();
    for (const source of this.o.sources) {
      const s = this.o.metrics.source(source);
      const last = this.reported.get(source) ?? { shipped: 0, dropped: 0, refused: 0, kernelDropped: 0, gaps: 0 };
      const gaps = s.gaps - last.gaps;
      const logTypes = this.o.logTypes?.[source];
      const envelope = {
        v: 1,
        kind: 'heartbeat',
        id: `${this.o.host}:${source}:heartbeat:${received}`,
        host: this.o.host,
        source,
        received,
        ...(this.o.unit ? { unit: this.o.unit } : {}),
        ...(this.o.drill ? { drill: this.o.drill } : {}),
        line: '',
        heartbeat: {
          lines: s.shipped - last.shipped,
          dropped: s.dropped - last.dropped,
          refused: s.refused - last.refused,
          kernelDropped: s.kernelDropped - last.kernelDropped,
          ...(gaps > 0 ? { gaps, gapChannels: [...s.gapChannels].sort() } : {}),
          ...(logTypes?.length ? { logTypes } : {}),
          lastLineAt: s.lastLineAt,
          spoolBytes: this.o.spoolBytes(),
        },
      };
      const dropped = this.o.sink.offer([{ key: this.o.host, source: `heartbeat:${source}`, value: JSON.stringify(envelope) }], false);
      if (dropped === 0) {
        this.reported.set(source, { shipped: s.shipped, dropped: s.dropped, refused: s.refused, kernelDropped: s.kernelDropped, gaps: s.gaps });
        if (gaps > 0) s.gapChannels.clear();
      }
    }
  }
}
