/**
 * The message bus between the components: Kafka in a deployment, an in-memory bus in the embedded
 * default. Only the Kafka semantics the pipeline relies on are here: per-key order inside a
 * partition, consumer groups with committed offsets, seeking back to rebuild state.
 */
export interface OutgoingMessage {
  key: string | null;
  value: string;
  /** An explicit partition (watermarks go to every partition); otherwise the key decides. */
  partition?: number;
  /** Milliseconds since the epoch; the bus stamps the send time when absent. */
  timestamp?: number;
}

export interface BusMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

export interface Batch {
  topic: string;
  partition: number;
  messages: BusMessage[];
  /** Keeps group membership alive while a slow sink is retried. */
  heartbeat(): Promise<void>;
  /** True once a seek or a rebalance made this batch obsolete: stop handling it. */
  isStale(): boolean;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface BusProducer {
  /** Resolves once every message is acknowledged by all in-sync replicas (or stored, in memory). */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** Compression of the record batches (Kafka only; the in-memory bus stores values as they are). */
  compression?: 'none' | 'gzip';
  /**
   * Give up on a send after a few quick retries, for a caller that keeps the records and retries itself
   * (the collector's spool); by default the client retries for about a minute.
   */
  failFast?: boolean;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. */
  fromBeginning?: boolean;
  /**
   * Batches of different partitions handled at once (default 1), so that one partition's wait for its
   * sinks overlaps another's decoding. Order within a partition is kept either way. The in-memory
   * bus, with no network waits to overlap, handles one at a time.
   */
  concurrency?: number;
  /** Called with the partitions this member owns after every rebalance, before their batches arrive. */
  onAssigned?: (owned: TopicPartition[]) => Promise<void> | void;
}

export interface BusConsumer {
  /**
   * Hands batches to `handle` (at most `concurrency` partitions at a time), and commits a batch's offsets only after
   * `handle` resolved: what a batch produced is acknowledged before its input is marked done.
   * A stateful handler may return a lower offset to commit (the oldest input its state still needs),
   * so that a restart re-reads that input and rebuilds the state; the commit never moves backwards.
   */
  run(handle: (batch: Batch) => Promise<number | void>): Promise<void>;
  /** Next batches of the partition start at `offset` (used to rebuild state after a restart). */
  seek(tp: TopicPartition, offset: number): void;
  /** The committed offset (next to read) of a partition for this group, or -1 when none. */
  committed(tp: TopicPartition): Promise<number>;
  /** The end of each partition of a topic (the offset the next message will get). */
  endOffsets(topic: string): Promise<Map<number, number>>;
  /** The earliest offset whose message timestamp is at or after `timestampMs`. */
  offsetForTime(tp: TopicPartition, timestampMs: number): Promise<number>;
  stop(): Promise<void>;
}

export interface Bus {
  readonly kind: 'kafka' | 'memory';
  /** The partition a keyed message lands in, as the producer decides it. */
  partitionOf(key: string, partitions: number): number;
  ensureTopics(topics: { topic: string; partitions: number }[]): Promise<void>;
  /** How many partitions a topic has. */
  partitionCount(topic: string): Promise<number>;
  producer(opts?: ProducerOptions): Promise<BusProducer>;
  consumer(opts: ConsumerOptions): Promise<BusConsumer>;
  close(): Promise<void>;
}
