import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import type { Batch, Bus, BusConsumer, BusMessage, BusProducer, ConsumerOptions, OutgoingMessage, TopicPartition } from './types.ts';

/** Per-key partitioning like Kafka's: the same key always lands in the same partition. */
function partitionFor(key: string | null, partitions: number, roundRobin: number): number {
  if (key === null) return roundRobin % partitions;
  return createHash('md5').update(key).digest().readUInt32BE(0) % partitions;
}

const MAX_BATCH = 500;
/** Messages per chunk: memory is given back a whole chunk at a time, without copying what stays. */
const CHUNK = 1024;

/**
 * One partition's messages from `start` to `end`, in chunks. The front chunks go once every consumer of
 * the topic is past them and they are older than the keep window.
 */
class PartitionLog {
  private chunks: { messages: BusMessage[]; lastAt: number }[] = [];
  /** The offset of the first retained message. */
  start = 0;
  end = 0;
  /** The characters of the values dropped so far. */
  droppedChars = 0;

  push(m: Omit<BusMessage, 'offset'>, now: number): void {
    let last = this.chunks.at(-1);
    if (!last || last.messages.length === CHUNK) {
      last = { messages: [], lastAt: now };
      this.chunks.push(last);
    }
    last.messages.push({ ...m, offset: this.end++ });
    last.lastAt = now;
  }

  /** Retained messages in [from, to). */
  slice(from: number, to: number): BusMessage[] {
    const out: BusMessage[] = [];
    for (let o = Math.max(from, this.start); o < Math.min(to, this.end); ) {
      const i = o - this.start;
      const chunk = this.chunks[Math.floor(i / CHUNK)]!.messages;
      const at = i % CHUNK;
      const take = chunk.slice(at, at + Math.min(to, this.end) - o);
      out.push(...take);
      o += take.length;
    }
    return out;
  }

  /**
   * Drops the front chunks wholly below `floor` whose last message arrived before `before`, the last one
   * too (partly filled: the next message starts a new chunk). Kept, a last chunk of a flood's large
   * messages (a soc.correlate feed batch weighs up to ~160 kB) held tens of MB for good.
   */
  trim(floor: number, before: number): void {
    while (this.chunks.length) {
      const first = this.chunks[0]!;
      if (this.start + first.messages.length > floor || first.lastAt >= before) return;
      this.chunks.shift();
      this.start += first.messages.length;
      for (const m of first.messages) this.droppedChars += m.value?.length ?? 0;
    }
  }
}

export interface MemoryBusOptions {
  /**
   * How long a message stays after every consumer is past it (default 60 s): what a seek back by time
   * needs, such as the console's change feed looking back 30 s when it joins.
   */
  keepMs?: number;
  /**
   * The topics that get the keep window (default all): those whose readers look back by time. The others
   * give a message back as soon as every running reader is past it (after a flood: at once, not a minute later).
   */
  keepOnly?: string[];
  /**
   * When a running reader is past a message (default 'commit'):
   * - 'commit': once its group committed past it, so that the reader can seek back to its commit, as a
   *   Kafka consumer does after a rebalance. A stateful reader that commits the oldest input its state
   *   needs (the correlator's windows) then holds everything after that input too, for as long as a window lasts.
   * - 'read': once it read it. For a bus that lives and dies with its process (`canhgac start`): nothing
   *   comes back to a commit there (one member per group, no rebalance, a restart starts an empty bus),
   *   and a stateful reader keeps what it needs in its own state. A seek behind what is retained reads
   *   from the first retained message (Kafka's earliest reset); the keep window still serves seeks by time.
   */
  release?: 'commit' | 'read';
}

/**
 * The embedded default's bus: Kafka's topic semantics in one process (per-key order, consumer-group
 * offsets, seek). One member per group. Memory stays bounded: a message is kept while a running consumer
 * has not committed past it (or not read it, with `release: 'read'`), and for the keep window after; a
 * topic nobody reads keeps only that window.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly logs = new Map<string, PartitionLog[]>();
  private readonly committedOffsets = new Map<string, number>();
  /** The running consumers, whose positions and groups' commits hold messages in memory. */
  private readonly readers = new Set<MemoryConsumer>();
  private readonly wake = new EventEmitter();
  private readonly keepMs: number;
  private readonly keepOnly: Set<string> | null;
  /** @internal Whether a running reader's group commit holds messages it has already read. */
  readonly holdsCommitted: boolean;
  private readonly trimmer: NodeJS.Timeout;
  private sent = 0;

  constructor(
    private readonly defaultPartitions = 1,
    opts: MemoryBusOptions = {},
  ) {
    this.wake.setMaxListeners(0);
    this.keepMs = opts.keepMs ?? 60_000;
    this.keepOnly = opts.keepOnly ? new Set(opts.keepOnly) : null;
    this.holdsCommitted = (opts.release ?? 'commit') === 'commit';
    // A flood's last chunks leave the keep window when nothing else happens on the topic: look again now and then.
    this.trimmer = setInterval(() => this.trimAll(), Math.max(1000, this.keepMs / 4));
    this.trimmer.unref();
  }

  private trimAll(): void {
    for (const [topic, log] of this.logs) for (let partition = 0; partition < log.length; partition++) this.trim({ topic, partition });
  }

  private topic(name: string, partitions = this.defaultPartitions): PartitionLog[] {
    let log = this.logs.get(name);
    if (!log) {
      log = Array.from({ length: partitions }, () => new PartitionLog());
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
    const now = Date.now();
    for (const m of messages) {
      const partition = m.partition ?? partitionFor(m.key, log.length, this.sent++);
      log[partition]!.push({ topic, partition, key: m.key, value: m.value, timestamp: m.timestamp ?? now }, now);
    }
    for (let p = 0; p < log.length; p++) this.trim({ topic, partition: p });
    this.wake.emit('message');
  }

  async producer(): Promise<BusProducer> {
    return { send: async (topic, messages) => this.append(topic, messages), close: async () => undefined };
  }

  committedFor(groupId: string, tp: TopicPartition): number {
    return this.committedOffsets.get(`${groupId}\u0000${tp.topic}\u0000${tp.partition}`) ?? -1;
  }

  /**
   * Never moves a committed offset back: re-reading older input after a seek keeps the resume point.
   * Trims either way: the reader's position moved, which alone releases input when commits do not hold it.
   */
  commit(groupId: string, tp: TopicPartition, offset: number): void {
    if (offset > this.committedFor(groupId, tp)) this.committedOffsets.set(`${groupId}\u0000${tp.topic}\u0000${tp.partition}`, offset);
    this.trim(tp);
  }

  /** Gives back what no running reader of the partition needs any more and the keep window has passed. */
  private trim(tp: TopicPartition): void {
    const log = this.topic(tp.topic)[tp.partition];
    if (!log) return;
    let floor = log.end;
    for (const r of this.readers) {
      const needs = r.needs(tp);
      if (needs !== null) floor = Math.min(floor, needs);
    }
    log.trim(floor, this.keepOnly && !this.keepOnly.has(tp.topic) ? Infinity : Date.now() - this.keepMs);
  }

  async consumer(opts: ConsumerOptions): Promise<BusConsumer> {
    for (const t of opts.topics) this.topic(t);
    return new MemoryConsumer(this, opts);
  }

  /** @internal A consumer that starts or stops holding messages. */
  reading(c: MemoryConsumer, on: boolean): void {
    if (on) this.readers.add(c);
    else this.readers.delete(c);
  }

  log(tp: TopicPartition): PartitionLog {
    return this.topic(tp.topic)[tp.partition]!;
  }

  /** The retained messages of each partition (tests, and tools that inspect a topic). */
  partitionsOf(topic: string): BusMessage[][] {
    return this.topic(topic).map((l) => l.slice(l.start, l.end));
  }

  /** Each partition's end: the offset the next message will get. */
  endsOf(topic: string): number[] {
    return this.topic(topic).map((l) => l.end);
  }

  /** How many messages are held in memory, over every topic. */
  retained(): number {
    let n = 0;
    for (const log of this.logs.values()) for (const p of log) n += p.end - p.start;
    return n;
  }

  /** How many characters of message values were given back, over every topic. */
  droppedChars(): number {
    let n = 0;
    for (const log of this.logs.values()) for (const p of log) n += p.droppedChars;
    return n;
  }

  onMessage(cb: () => void): () => void {
    this.wake.on('message', cb);
    return () => this.wake.off('message', cb);
  }

  async close(): Promise<void> {
    clearInterval(this.trimmer);
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
    return this.opts.topics.flatMap((topic) => this.bus.endsOf(topic).map((_, partition) => ({ topic, partition })));
  }

  /**
   * The oldest offset of `tp` this consumer may still read: its position, or its group's commit when the
   * bus holds commits; null when not its topic.
   */
  needs(tp: TopicPartition): number | null {
    const position = this.positions.get(this.key(tp));
    if (position === undefined || !this.bus.holdsCommitted) return position ?? null;
    const committed = this.bus.committedFor(this.opts.groupId, tp);
    return committed >= 0 ? Math.min(position, committed) : position;
  }

  private key(tp: TopicPartition): string {
    return `${tp.topic}\u0000${tp.partition}`;
  }

  async run(handle: (batch: Batch) => Promise<number | void>): Promise<void> {
    this.running = true;
    const owned = this.owned();
    for (const tp of owned) {
      const committed = this.bus.committedFor(this.opts.groupId, tp);
      const start = committed >= 0 ? committed : this.opts.fromBeginning === false ? this.bus.log(tp).end : 0;
      this.positions.set(this.key(tp), start);
    }
    this.bus.reading(this, true);
    await this.opts.onAssigned?.(owned);
    this.looping = this.loop(owned, handle);
  }

  private async loop(owned: TopicPartition[], handle: (batch: Batch) => Promise<number | void>): Promise<void> {
    while (this.running) {
      let progressed = false;
      for (const tp of owned) {
        const k = this.key(tp);
        const log = this.bus.log(tp);
        // Like Kafka's earliest reset: a position before what is retained reads from the first retained message.
        const from = Math.max(this.positions.get(k) ?? 0, log.start);
        if (from >= log.end) continue;
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
    return new Map(this.bus.endsOf(topic).map((end, p) => [p, end]));
  }

  async offsetForTime(tp: TopicPartition, timestampMs: number): Promise<number> {
    const log = this.bus.log(tp);
    const found = log.slice(log.start, log.end).find((m) => m.timestamp >= timestampMs);
    return found ? found.offset : log.end;
  }

  /** Like a Kafka consumer's disconnect: returns once the batch being handled is done (and committed). */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeIdle?.();
    await this.looping;
    this.bus.reading(this, false);
  }
}
