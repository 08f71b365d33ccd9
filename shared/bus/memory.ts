import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import type { Batch, Bus, BusConsumer, BusMessage, BusProducer, ConsumerOptions, OutgoingMessage, TopicPartition } from './types.ts';

/** Per-key partitioning like Kafka's: the same key always lands in the same partition. */
function partitionFor(key: string | null, partitions: number, roundRobin: number): number {
  if (key === null) return roundRobin % partitions;
  return createHash('md5').update(key).digest().readUInt32BE(0) % partitions;
}

const MAX_BATCH = 500;

/**
 * The embedded default's bus: Kafka's topic semantics in one process (per-key order, consumer-group
 * offsets, seek). One member per group; messages live in memory for the life of the process.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly logs = new Map<string, BusMessage[][]>();
  private readonly committedOffsets = new Map<string, number>();
  private readonly wake = new EventEmitter();
  private sent = 0;

  constructor(private readonly defaultPartitions = 1) {
    this.wake.setMaxListeners(0);
  }

  private topic(name: string, partitions = this.defaultPartitions): BusMessage[][] {
    let log = this.logs.get(name);
    if (!log) {
      log = Array.from({ length: partitions }, () => []);
      this.logs.set(name, log);
    }
    return log;
  }

  partitionOf(key: string, partitions: number): number {
    return partitionFor(key, partitions, 0);
  }

  async partitionCount(topic: string): Promise<number> {
    return this.topic(topic).length;
  }

  async ensureTopics(topics: { topic: string; partitions: number }[]): Promise<void> {
    for (const t of topics) this.topic(t.topic, t.partitions);
  }

  append(topic: string, messages: OutgoingMessage[]): void {
    const log = this.topic(topic);
    for (const m of messages) {
      const partition = m.partition ?? partitionFor(m.key, log.length, this.sent++);
      const p = log[partition]!;
      p.push({ topic, partition, offset: p.length, key: m.key, value: m.value, timestamp: m.timestamp ?? Date.now() });
    }
    this.wake.emit('message');
  }

  async producer(): Promise<BusProducer> {
    return { send: async (topic, messages) => this.append(topic, messages), close: async () => undefined };
  }

  committedFor(groupId: string, tp: TopicPartition): number {
    return this.committedOffsets.get(`${groupId}\u0000${tp.topic}\u0000${tp.partition}`) ?? -1;
  }

  /** Never moves a committed offset back: re-reading older input after a seek keeps the resume point. */
  commit(groupId: string, tp: TopicPartition, offset: number): void {
    if (offset <= this.committedFor(groupId, tp)) return;
    this.committedOffsets.set(`${groupId}\u0000${tp.topic}\u0000${tp.partition}`, offset);
  }

  async consumer(opts: ConsumerOptions): Promise<BusConsumer> {
    for (const t of opts.topics) this.topic(t);
    return new MemoryConsumer(this, opts);
  }

  partitionsOf(topic: string): BusMessage[][] {
    return this.topic(topic);
  }

  onMessage(cb: () => void): () => void {
    this.wake.on('message', cb);
    return () => this.wake.off('message', cb);
  }

  async close(): Promise<void> {
    this.wake.emit('message');
  }
}

class MemoryConsumer implements BusConsumer {
  private running = false;
  private looping: Promise<void> = Promise.resolve();
  private wakeIdle: (() => void) | null = null;
  private readonly positions = new Map<string, number>();
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly bus: MemoryBus,
    private readonly opts: ConsumerOptions,
  ) {}

  private owned(): TopicPartition[] {
    return this.opts.topics.flatMap((topic) => this.bus.partitionsOf(topic).map((_, partition) => ({ topic, partition })));
  }

  private key(tp: TopicPartition): string {
    return `${tp.topic}\u0000${tp.partition}`;
  }

  async run(handle: (batch: Batch) => Promise<number | void>): Promise<void> {
    this.running = true;
    const owned = this.owned();
    for (const tp of owned) {
      const committed = this.bus.committedFor(this.opts.groupId, tp);
      const start = committed >= 0 ? committed : this.opts.fromBeginning === false ? this.bus.partitionsOf(tp.topic)[tp.partition]!.length : 0;
      this.positions.set(this.key(tp), start);
    }
    await this.opts.onAssigned?.(owned);
    this.looping = this.loop(owned, handle);
  }

  private async loop(owned: TopicPartition[], handle: (batch: Batch) => Promise<number | void>): Promise<void> {
    while (this.running) {
      let progressed = false;
      for (const tp of owned) {
        const k = this.key(tp);
        const log = this.bus.partitionsOf(tp.topic)[tp.partition]!;
        const from = this.positions.get(k) ?? 0;
        if (from >= log.length) continue;
        const messages = log.slice(from, from + MAX_BATCH);
        const gen = this.generation.get(k) ?? 0;
        const isStale = () => !this.running || (this.generation.get(k) ?? 0) !== gen;
        let keepFrom: number | void;
        try {
          keepFrom = await handle({ ...tp, messages, heartbeat: async () => undefined, isStale });
        } catch {
          // Like a Kafka consumer that crashed on a batch: the same batch comes again after a pause.
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        if (isStale()) continue;
        const next = messages[messages.length - 1]!.offset + 1;
        this.positions.set(k, next);
        this.bus.commit(this.opts.groupId, tp, Math.min(next, typeof keepFrom === 'number' ? keepFrom : Infinity));
        progressed = true;
      }
      if (!progressed && this.running) {
        await new Promise<void>((resolve) => {
          const done = () => (off(), clearTimeout(t), (this.wakeIdle = null), resolve());
          const off = this.bus.onMessage(done);
          const t = setTimeout(done, 1000);
          this.wakeIdle = done;
        });
      }
    }
  }

  seek(tp: TopicPartition, offset: number): void {
    const k = this.key(tp);
    this.positions.set(k, offset);
    this.generation.set(k, (this.generation.get(k) ?? 0) + 1);
  }

  async committed(tp: TopicPartition): Promise<number> {
    return this.bus.committedFor(this.opts.groupId, tp);
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    return new Map(this.bus.partitionsOf(topic).map((log, p) => [p, log.length]));
  }

  async offsetForTime(tp: TopicPartition, timestampMs: number): Promise<number> {
    const log = this.bus.partitionsOf(tp.topic)[tp.partition]!;
    const i = log.findIndex((m) => m.timestamp >= timestampMs);
    return i < 0 ? log.length : i;
  }

  /** Like a Kafka consumer's disconnect: returns once the batch being handled is done (and committed). */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeIdle?.();
    await this.looping;
  }
}
