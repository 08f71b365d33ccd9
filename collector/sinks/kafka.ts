import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { kafkaClientOptions } from '../../shared/bus/kafka-connection.ts';
import type { KafkaConfig } from '../../shared/config.ts';
import type { Logger } from '../../shared/log.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { commitDurable, countBySource, type CollectorSink, type OutRecord } from '../record.ts';
import type { Spool, SpooledRecord, SpoolPosition } from '../spool.ts';

export interface KafkaSinkOptions {
  kafka: KafkaConfig;
  topic: string;
  spool: Spool;
  metrics: CollectorMetrics;
  log: Logger;
  batchRecords: number;
  batchBytes: number;
  lingerMs: number;
  compression: 'none' | 'gzip';
  memoryRecords: number;
  slowAfterMs: number;
  /**
   * Called right after records became durable (acknowledged or spooled), before the next batch
   * goes out: saving checkpoints here bounds what a kill -9 re-sends to the batch in flight.
   */
  onDurable?: () => void;
}

interface Batch {
  records: (OutRecord | SpooledRecord)[];
  /** Set when the batch's records are in the spool: acknowledging it moves the spool head here. */
  spoolEnd?: SpoolPosition;
  startedAt: number;
}

function kafkaClient(cfg: KafkaConfig): Kafka {
  return new Kafka({
    ...kafkaClientOptions(cfg),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Ships records to soc.raw, one batch in flight at a time so that a kill -9 re-sends at most that
 * batch. While Kafka keeps up, records wait in memory and a file's checkpoint moves when Kafka
 * acknowledges; when Kafka fails or is slow, the queue (batch in flight first) moves to the spool,
 * whose append is what makes a line safe, and new records follow it there until the spool is
 * drained: one FIFO, so order is kept across the switch.
 */
export class KafkaSink implements CollectorSink {
  private readonly kafka: Kafka;
  private producer: Producer;
  private connected = false;
  private memory: OutRecord[] = [];
  private memoryHead = 0;
  private inflight: Batch | null = null;
  private spooling: boolean;
  private failing = false;
  private stopping = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly listeners = new Set<() => void>();
  private loop: Promise<void> | null = null;
  private readyTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private readonly compression: CompressionTypes;

  constructor(private readonly o: KafkaSinkOptions) {
    this.kafka = kafkaClient(o.kafka);
    this.producer = this.newProducer();
    this.spooling = !o.spool.empty;
    this.compression = o.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    o.metrics.spoolBytes.set(o.spool.bytes);
  }

  start(): void {
    this.loop = this.run();
    // Health changes with time (a send that hangs becomes "slow"), so waiting sources are re-checked.
    this.readyTimer = setInterval(() => this.notifyReady(), 200);
    this.syncTimer = setInterval(() => this.o.spool.sync(), 1000);
  }

  get spoolBytes(): number {
    return this.o.spool.bytes;
  }

  ready(): boolean {
    if (this.spooling) return !this.o.spool.full;
    return this.memory.length - this.memoryHead < this.o.memoryRecords || (!this.healthy() && !this.o.spool.full);
  }

  onReady(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  offer(records: OutRecord[], canWait: boolean): number {
    if (records.length === 0) return 0;
    if (!this.spooling) {
      if (this.memory.length - this.memoryHead < this.o.memoryRecords || (canWait && this.healthy())) {
        for (const r of records) this.memory.push(r);
        this.wakeLoop();
        return 0;
      }
      this.moveToSpool();
    }
    if (this.o.spool.full && !canWait) {
      const by = countBySource(records);
      for (const [source, n] of by) this.o.metrics.dropped(source, n);
      return records.length;
    }
    this.spool(records);
    this.wakeLoop();
    return 0;
  }

  /** Stops taking new batches once everything is shipped, or after `timeoutMs` leaves the rest in the spool. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.wakeLoop();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.idle()) await new Promise((r) => setTimeout(r, 20));
    if (!this.idle()) this.moveToSpool();
    this.stopped = true;
    this.wakeLoop();
    if (this.readyTimer) clearInterval(this.readyTimer);
    if (this.syncTimer) clearInterval(this.syncTimer);
    // A send that hangs on a dead broker must not hold the shutdown; its records are in the spool.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 2000))]);
    this.o.spool.close();
    await Promise.race([this.producer.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  }

  private idle(): boolean {
    return this.inflight === null && this.memory.length === this.memoryHead && (this.o.spool.empty || this.failing);
  }

  private healthy(): boolean {
    if (this.failing) return false;
    return !(this.inflight && Date.now() - this.inflight.startedAt > this.o.slowAfterMs);
  }

  private newProducer(): Producer {
    // Retries are ours (forever, from the spool); kafkajs gives up early so that a dead broker is noticed.
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 2000 },
    });
  }

  private spool(records: (OutRecord | SpooledRecord)[]): SpoolPosition {
    const end = this.o.spool.append(records.map((r) => ({ key: r.key, source: r.source, value: r.value })));
    for (const [source, n] of countBySource(records)) this.o.metrics.spooled(source, n);
    commitDurable(records);
    this.o.onDurable?.();
    this.o.metrics.spoolBytes.set(this.o.spool.bytes);
    return end;
  }

  /** From now on the spool is the queue: the batch in flight goes first, then memory, in order. */
  private moveToSpool(): void {
    if (this.spooling) return;
    this.spooling = true;
    if (this.inflight && !this.inflight.spoolEnd) {
      this.inflight.spoolEnd = this.spool(this.inflight.records);
      this.o.spool.seek(this.inflight.spoolEnd);
    }
    const rest = this.memory.slice(this.memoryHead);
    this.memory = [];
    this.memoryHead = 0;
    if (rest.length) this.spool(rest);
    this.o.log.warn({ spoolBytes: this.o.spool.bytes }, 'kafka is unreachable or slow: spooling to disk');
  }

  private takeBatch(): Batch | null {
    if (this.spooling) {
      const { records, end } = this.o.spool.read(this.o.batchRecords, this.o.batchBytes);
      if (records.length) return { records, spoolEnd: end, startedAt: Date.now() };
      if (this.o.spool.empty) {
        this.spooling = false;
        this.o.log.info('spool drained: shipping from memory again');
      }
      return null;
    }
    const available = this.memory.length - this.memoryHead;
    if (available === 0) return null;
    let n = 0;
    let bytes = 0;
    while (n < available && n < this.o.batchRecords) {
      bytes += this.memory[this.memoryHead + n]!.value.length;
      if (n > 0 && bytes > this.o.batchBytes) break;
      n++;
    }
    const records = this.memory.slice(this.memoryHead, this.memoryHead + n);
    this.memoryHead += n;
    if (this.memoryHead > 4096 && this.memoryHead * 2 > this.memory.length) {
      this.memory = this.memory.slice(this.memoryHead);
      this.memoryHead = 0;
    }
    return { records, startedAt: Date.now() };
  }

  private async run(): Promise<void> {
    let backoff = 250;
    let wasIdle = true;
    while (!this.stopped) {
      if (wasIdle && !this.spooling && !this.stopping && this.o.lingerMs > 0) {
        // After a quiet spell, let a batch fill for a moment; under load it fills while the previous send is in flight.
        await new Promise((r) => setTimeout(r, this.o.lingerMs));
      }
      const batch = this.takeBatch();
      wasIdle = batch === null;
      if (!batch) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 500);
        });
        this.wake = null;
        continue;
      }
      this.inflight = batch;
      try {
        if (!this.connected) {
          await this.producer.connect();
          this.connected = true;
        }
        await this.producer.send({
          topic: this.o.topic,
          acks: -1,
          compression: this.compression,
          messages: batch.records.map((r) => ({ key: r.key, value: r.value })),
        });
        this.inflight = null;
        this.acknowledged(batch);
        backoff = 250;
      } catch (err) {
        if (this.stopped) break;
        this.failed(batch, err as Error);
        this.inflight = null;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      this.notifyReady();
    }
  }

  private acknowledged(batch: Batch): void {
    if (this.failing) this.o.log.info('kafka acknowledges again');
    this.failing = false;
    if (batch.spoolEnd) {
      this.o.spool.ack(batch.spoolEnd);
      this.o.metrics.spoolBytes.set(this.o.spool.bytes);
    } else {
      commitDurable(batch.records);
      this.o.onDurable?.();
    }
    for (const [source, n] of countBySource(batch.records)) this.o.metrics.shipped(source, n);
  }

  private failed(batch: Batch, err: Error): void {
    if (!this.failing) this.o.log.warn({ err: err.message }, 'kafka send failed; retrying from the spool');
    this.failing = true;
    this.o.metrics.resent(batch.records.length);
    // The failed batch is still `inflight`, so it goes to the spool first and is sent again from there.
    this.moveToSpool();
    this.o.spool.rewind();
    // A fresh producer (new producer id) so that sequence numbers of the failed send cannot wedge the next ones.
    const old = this.producer;
    this.connected = false;
    this.producer = this.newProducer();
    void old.disconnect().catch(() => undefined);
  }

  private wakeLoop(): void {
    this.wake?.();
  }

  private notifyReady(): void {
    if (!this.ready()) return;
    for (const l of this.listeners) l();
  }
}
