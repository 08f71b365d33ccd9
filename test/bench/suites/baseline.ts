import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import type { BenchContext, BenchSuite, Figure } from '../figure.ts';

/** Bare client rates against the real services: the baselines later components are compared to. */
const MESSAGES = 100_000;
const BATCH = 1000;

function payload(i: number): string {
  // About 300 bytes, shaped like an envelope.
  const line = `<134>Nov 26 08:00:00 fw01 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=10.1.${i % 250}.${i % 200} DST=10.2.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${i % 65536} DF PROTO=TCP SPT=${1024 + (i % 60000)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0`;
  return JSON.stringify({
    v: 1,
    id: `bench/${i}`,
    host: `srv-${i % 20}`,
    source: '/var/log/kern.log',
    format: 'auto',
    received: '2026-11-26T01:00:00.000Z',
    line,
  });
}

async function produceRate(kafka: Kafka, topic: string, messages: { key: string; value: string }[]): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = performance.now();
  // A few batches in flight, as a shipping producer would have.
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += BATCH) {
    inflight.push(producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: messages.slice(i, i + BATCH) }));
    if (inflight.length >= 4) await inflight.shift();
  }
  await Promise.all(inflight);
  const secs = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return messages.length / secs;
}

/**
 * Messages per second of a bare kafkajs consumer reading `expected` messages of a topic from the start,
 * timed from its first batch; `each` is what it does with a message value (nothing, or a JSON.parse).
 */
export async function consumeRate(kafka: Kafka, topic: string, expected: number, each: (value: Buffer) => void = () => undefined): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-${randomBytes(4).toString('hex')}`, maxBytes: 10 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let t0 = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = performance.now();
        for (const m of batch.messages) if (m.value) each(m.value);
        seen += batch.messages.length;
        if (seen >= expected) resolve(performance.now());
      },
    });
  });
  const t1 = await done;
  await consumer.disconnect();
  return expected / ((t1 - t0) / 1000);
}

async function kafkaFigures(ctx: BenchContext): Promise<Figure[]> {
  const kafka = new Kafka({ clientId: 'canhgac-bench', brokers: ctx.kafkaBrokers!, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const tag = randomBytes(4).toString('hex');
  const figures: Figure[] = [];
  const messages = Array.from({ length: MESSAGES }, (_, i) => ({ key: `srv-${i % 20}`, value: payload(i) }));
  for (const partitions of [1, 4]) {
    const topic = `bench.baseline.${tag}.p${partitions}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
    ctx.log(`kafkajs produce ${MESSAGES} x ${messages[0]!.value.length} B, ${partitions} partition(s)`);
    const produced = await produceRate(kafka, topic, messages);
    figures.push({ bench: `baseline.kafka.produce.p${partitions}`, unit: 'msgs/s', value: Math.round(produced) });
    const consumed = await consumeRate(kafka, topic, MESSAGES);
    figures.push({ bench: `baseline.kafka.consume.p${partitions}`, unit: 'msgs/s', value: Math.round(consumed) });
    await admin.deleteTopics({ topics: [topic] });
  }
  await admin.disconnect();
  return figures;
}

async function elasticsearchFigures(ctx: BenchContext): Promise<Figure[]> {
  const es = new Client({ node: ctx.elasticsearchUrl! });
  const index = `bench-baseline-${randomBytes(4).toString('hex')}`;
  await es.indices.create({ index, settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '1s' } });
  const docs = 50_000;
  ctx.log(`elasticsearch bulk index ${docs} small documents`);
  const t0 = performance.now();
  for (let i = 0; i < docs; i += BATCH) {
    const operations: object[] = [];
    for (let j = i; j < i + BATCH; j++) {
      operations.push(
        { index: { _index: index, _id: `d${j}` } },
        {
          '@timestamp': new Date(1_780_000_000_000 + j).toISOString(),
          host: { name: `srv-${j % 20}` },
          source: { ip: `10.0.${j % 250}.1` },
          event: { action: 'deny' },
        },
      );
    }
    const r = await es.bulk({ operations });
    if (r.errors) throw new Error('bulk indexing reported errors');
  }
  const secs = (performance.now() - t0) / 1000;
  await es.indices.delete({ index });
  await es.close();
  return [{ bench: 'baseline.elasticsearch.bulk', unit: 'docs/s', value: Math.round(docs / secs) }];
}

export const suite: BenchSuite = {
  name: 'baseline',
  needsServices: true,
  async run(ctx) {
    return [...(await kafkaFigures(ctx)), ...(await elasticsearchFigures(ctx))];
  },
};
