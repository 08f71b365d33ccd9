import type { BusProducer } from '../../shared/bus/types.ts';
import type { Logger } from '../../shared/log.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { commitDurable, countBySource, type CollectorSink, type OutRecord } from '../record.ts';

export interface BusSinkOptions {
  producer: BusProducer;
  topic: string;
  metrics: CollectorMetrics;
  log: Logger;
  batchRecords: number;
  /** Records held while the bus is busy; past it, file and TCP sources wait and UDP datagrams are dropped. */
  memoryRecords: number;
  onDurable?: () => void;
  /**
   * Resolves once everything sent so far is safe from a crash. The in-memory bus holds records only as
   * long as the process lives, so `canhgac start` resolves it when the correlator has handled them; until
   * then file checkpoints stay behind and a restart reads those lines again.
   */
  settled?: () => Promise<void>;
}

/**
 * Ships records to soc.raw through the Bus of `canhgac start`, where the correlator runs in the same
 * process. No spool: the bus acknowledges as soon as it holds a record, so the queue only fills while a
 * send is in flight. One batch in flight at a time keeps per-key order and bounds what a crash re-reads.
 */
export class BusSink implements CollectorSink {
  private queue: OutRecord[] = [];
  private readonly listeners = new Set<() => void>();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;
  private sending = false;

  readonly spoolBytes = 0;

  constructor(private readonly o: BusSinkOptions) {}

  start(): void {
    this.loop = this.run();
  }

  ready(): boolean {
    return this.queue.length < this.o.memoryRecords;
  }

  onReady(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  offer(records: OutRecord[], canWait: boolean): number {
    if (!records.length) return 0;
    if (!canWait && !this.ready()) {
      for (const [source, n] of countBySource(records)) this.o.metrics.dropped(source, n);
      return records.length;
    }
    for (const r of records) this.queue.push(r);
    this.wake?.();
    return 0;
  }

  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.queue.length || this.sending) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (this.queue.length)
      this.o.log.warn({ records: this.queue.length }, 'stopped before the bus took every record; file sources read them again from their checkpoints');
    this.stopped = true;
    this.wake?.();
    // A batch waiting on `settled` must not hold the shutdown: its lines are not checkpointed, so they come again.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 1000))]);
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      if (!this.queue.length) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 500);
        });
        this.wake = null;
        continue;
      }
      const batch = this.queue.slice(0, this.o.batchRecords);
      this.sending = true;
      try {
        await this.o.producer.send(
          this.o.topic,
          batch.map((r) => ({ key: r.key, value: r.value })),
        );
      } catch (err) {
        this.sending = false;
        this.o.log.warn({ err: (err as Error).message }, 'bus send failed; retrying');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      backoff = 100;
      this.queue = this.queue.slice(batch.length);
      await this.o.settled?.();
      this.sending = false;
      commitDurable(batch);
      this.o.onDurable?.();
      for (const [source, n] of countBySource(batch)) this.o.metrics.shipped(source, n);
      if (this.ready()) for (const l of this.listeners) l();
    }
  }
}
