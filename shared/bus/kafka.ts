import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import type { KafkaConfig } from '../config.ts';
import { checkKafkaConnection, kafkaClientOptions } from './kafka-connection.ts';
import type { Logger } from '../log.ts';
import { brokerApiVersions, incompatibility } from './kafka-api-versions.ts';
import { keyPartition } from './murmur2.ts';
import type { Batch, Bus, BusConsumer, BusProducer, ConsumerOptions, OutgoingMessage, ProducerOptions, TopicPartition } from './types.ts';

// kafkajs 2.2.4 schedules its request queue's check with a negative delay, which Node 24 clamps to 1 ms
// (what kafkajs means) and reports as a TimeoutNegativeWarning on stderr at every connection
// (tulios/kafkajs#1751). Only that warning from kafkajs is dropped; any other still prints.
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((...args: unknown[]) => {
  const type = typeof args[1] === 'string' ? args[1] : (args[1] as { type?: string } | undefined)?.type;
  if (type === 'TimeoutNegativeWarning' && new Error().stack?.includes('kafkajs')) return;
  emitWarning(...args);
}) as typeof process.emitWarning;

/** How the client reaches the brokers; the collector shortens the timeouts so that an outage is noticed and spooled quickly. */
export interface KafkaClientOptions {
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** kafkajs's own log lines at debug only: for a caller that logs outages itself (the collector). */
  quiet?: boolean;
}

function kafkaClient(cfg: KafkaConfig, log: Logger, o: KafkaClientOptions): Kafka {
  const toPino = (level: logLevel) => (o.quiet ? 'debug' : level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug');
  return new Kafka({
    ...kafkaClientOptions(cfg),
    connectionTimeout: o.connectionTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...extra } = entry.log;
      // Two notices kafkajs prints on every start, about choices made here on purpose.
      const notice = message.startsWith('KafkaJS v2.0.0 switched default partitioner') || message.startsWith('Limiting retries for the idempotent producer');
      log[notice ? 'debug' : toPino(entry.level)]({ kafka: entry.namespace, ...extra }, message);
    },
    retry: { initialRetryTime: 300, retries: 12, maxRetryTime: 10_000 },
  });
}

/** Bytes of message values per produce request, well under the broker's default message.max.bytes. */
const SEND_BYTES = 512 * 1024;

class KafkaProducer implements BusProducer {
  constructor(
    private readonly producer: Producer,
    private readonly compression: CompressionTypes,
  ) {}

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    // The broker refuses a record batch above message.max.bytes (1 MB by default): send in slices.
    let start = 0;
    while (start < messages.length) {
      let end = start;
      let bytes = 0;
      while (end < messages.length && (end === start || bytes + messages[end]!.value.length < SEND_BYTES))
        bytes += messages[end++]!.value.length + (messages[end - 1]!.key?.length ?? 0);
      await this.producer.send({
        topic,
        acks: -1,
        compression: this.compression,
        messages: messages
          .slice(start, end)
          .map((m) => ({ key: m.key, value: m.value, partition: m.partition, timestamp: m.timestamp === undefined ? undefined : String(m.timestamp) })),
      });
      start = end;
    }
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

class KafkaConsumer implements BusConsumer {
  private assigning: Promise<void> = Promise.resolve();
  /** Highest offset committed per partition: re-reading older input after a seek never moves it back. */
  private readonly high = new Map<string, number>();

  constructor(
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    private readonly opts: ConsumerOptions,
    private readonly log: Logger,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const owned: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const partition of partitions as number[]) owned.push({ topic, partition });
      }
      this.high.clear();
      // Batches wait for this, so that a state rebuild (seek back) happens before new input is handled.
      this.assigning = this.assigning
        .then(async () => {
          for (const tp of owned) this.high.set(`${tp.topic}/${tp.partition}`, await this.committed(tp));
          await opts.onAssigned?.(owned);
        })
        .catch((err: unknown) => this.log.error({ err, groupId: opts.groupId }, 'handling a partition assignment failed'));
    });
  }

  private stopped = false;

  async run(handle: (batch: Batch) => Promise<number | void>): Promise<void> {
    // kafkajs gives up on errors it deems final (a member the coordinator forgot during a long sink
    // outage); input must still be read, so the consumer rejoins and resumes from its commits.
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (e.payload.restart || this.stopped) return;
      this.log.error({ groupId: this.opts.groupId, err: e.payload.error.message }, 'consumer stopped on an error; rejoining');
      setTimeout(() => {
        void this.rejoin(handle).catch((err: unknown) => this.log.error({ groupId: this.opts.groupId, err: (err as Error).message }, 'rejoining failed'));
      }, 1000);
    });
    await this.start(handle);
  }

  private async rejoin(handle: (batch: Batch) => Promise<number | void>): Promise<void> {
    if (this.stopped) return;
    await this.consumer.disconnect();
    await this.consumer.connect();
    for (const topic of this.opts.topics) await this.consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? true });
    await this.start(handle);
  }

  private async start(handle: (batch: Batch) => Promise<number | void>): Promise<void> {
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.concurrency ?? 1,
      eachBatch: async ({ batch, heartbeat, isStale, resolveOffset }) => {
        await this.assigning;
        if (isStale() || batch.messages.length === 0) return;
        const messages = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: Number(m.offset),
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value ? m.value.toString('utf8') : null,
          timestamp: Number(m.timestamp),
        }));
        const keepFrom = await handle({ topic: batch.topic, partition: batch.partition, messages, heartbeat, isStale });
        if (isStale()) return;
        const last = batch.messages[batch.messages.length - 1]!.offset;
        resolveOffset(last);
        const next = Math.min(Number(last) + 1, typeof keepFrom === 'number' ? keepFrom : Infinity);
        const k = `${batch.topic}/${batch.partition}`;
        if (next > (this.high.get(k) ?? -1)) {
          await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(next) }]);
          this.high.set(k, next);
        }
      },
    });
  }

  seek(tp: TopicPartition, offset: number): void {
    this.consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(offset) });
  }

  async committed(tp: TopicPartition): Promise<number> {
    const res = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: [tp.topic] });
    const p = res.find((t) => t.topic === tp.topic)?.partitions.find((x) => x.partition === tp.partition);
    return p ? Number(p.offset) : -1;
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    const ends = await this.admin.fetchTopicOffsets(topic);
    return new Map(ends.map((e) => [e.partition, Number(e.high)]));
  }

  async offsetForTime(tp: TopicPartition, timestampMs: number): Promise<number> {
    const res = await this.admin.fetchTopicOffsetsByTimestamp(tp.topic, timestampMs);
    const p = res.find((x) => x.partition === tp.partition);
    const offset = p ? Number(p.offset) : -1;
    if (offset >= 0) return offset;
    // No message at or after that time: start at the end.
    const ends = await this.admin.fetchTopicOffsets(tp.topic);
    return Number(ends.find((x) => x.partition === tp.partition)?.high ?? 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }
}

/** Thrown on connect when the broker and kafkajs share no version of an API the bus needs. */
export class KafkaProtocolError extends Error {
  override name = 'KafkaProtocolError';
}

/**
 * The one adapter to Kafka: every component (collector, correlator, console, drills) reaches the broker
 * through this Bus, and only this module builds a kafkajs client.
 *
 * kafkajs 2.2 has had no release since 2023 and speaks only the classic group protocol. It picks, per
 * API, the highest version both sides support, but ignores a broker's minimum: a broker that one day
 * raises a minimum above what kafkajs speaks would close the connection ("Closed connection"). So before
 * the first connection the adapter asks the broker's ApiVersions and fails with the API and both version
 * ranges named (kafka-api-versions.ts).
 *
 * A move to a maintained client (@confluentinc/kafka-javascript on librdkafka, or a pure-JS client such
 * as @platformatic/kafka) would touch this file only: keep the murmur2 partitioner (partitionOf: keys must
 * stay on their partitions, the correlator's state depends on it), the idempotent producer with acks=all
 * and the send slicing, batch handling with a commit only after the handler succeeded, seek and
 * offsets-by-time for state rebuilds, the assignment callback before the first batch, and the consumer
 * group settings (session timeout for killed members). librdkafka adds a native module to the image;
 * the bus contract test (shared/bus/test/contract.ts) and the fault tests are the acceptance.
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private checked: Promise<void> | undefined;

  constructor(
    private readonly cfg: KafkaConfig,
    private readonly log: Logger,
    client: KafkaClientOptions = {},
  ) {
    this.kafka = kafkaClient(cfg, log, client);
  }

  /** Once per bus, before kafkajs connects: the first broker that answers must share a version of every API the bus uses. */
  private compatible(): Promise<void> {
    this.checked ??= (async () => {
      // TLS or SASL refused stops the first connection with one line, before kafkajs retries it for minutes.
      await checkKafkaConnection(this.cfg);
      const tls = kafkaClientOptions(this.cfg).ssl ?? false;
      for (const broker of this.cfg.brokers) {
        let versions: Awaited<ReturnType<typeof brokerApiVersions>>;
        try {
          versions = await brokerApiVersions(broker, { ssl: tls, clientId: this.cfg.clientId });
        } catch (err) {
          // Unreachable or slow: kafkajs retries and reports it in its own way.
          this.log.debug({ err, broker }, 'ApiVersions probe got no answer');
          continue;
        }
        const reason = incompatibility(versions);
        if (reason) throw new KafkaProtocolError(`Kafka broker ${broker} cannot be used: ${reason}`);
        return;
      }
    })();
    return this.checked;
  }

  /** The partition the producer's DefaultPartitioner picks for a key (asked for every event that feeds a correlation). */
  partitionOf(key: string, partitions: number): number {
    return keyPartition(key, partitions);
  }

  async partitionCount(topic: string): Promise<number> {
    await this.compatible();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect();
    }
  }

  async ensureTopics(topics: { topic: string; partitions: number }[]): Promise<void> {
    await this.compatible();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length) {
        await admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })) });
      }
    } finally {
      await admin.disconnect();
    }
  }

  async producer(opts: ProducerOptions = {}): Promise<BusProducer> {
    await this.compatible();
    const p = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      // Fail fast: the caller's own retries (from its spool) take over, so that a dead broker is noticed.
      ...(opts.failFast ? { retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 2000 } } : {}),
    });
    await p.connect();
    return new KafkaProducer(p, opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None);
  }

  async consumer(opts: ConsumerOptions): Promise<BusConsumer> {
    await this.compatible();
    // A member that died (kill -9) holds its partitions until its session times out: keep that short.
    const consumer = this.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1000,
      // kafkajs heartbeats (and so hears of a rebalance) and stops only between fetches: an idle fetch
      // waits this long at most (5 s by default). A fetch with data returns at once either way.
      maxWaitTimeInMs: 1000,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const admin = this.kafka.admin();
    await Promise.all([consumer.connect(), admin.connect()]);
    for (const topic of opts.topics) await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? true });
    return new KafkaConsumer(consumer, admin, opts, this.log);
  }

  async close(): Promise<void> {
    this.log.debug('kafka bus closed');
  }
}
