import { afterAll, describe, expect, it } from 'vitest';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { createTopics, testKafka, uniqueName } from '../support/services.ts';

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Kafka (real broker)', () => {
  const kafka = testKafka('canhgac-kafka-test');
  const consumers: Consumer[] = [];
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
  });

  it('produces and consumes keyed messages with per-key order', async () => {
    const topic = uniqueName('kafka-roundtrip');
    await createTopics(kafka, [topic], 3);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `host-${i % 5}`, value: `line ${i}` }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('g') });
    consumers.push(consumer);
    const got: { key: string; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push({ key: message.key!.toString(), value: message.value!.toString() }) });
    await waitFor(() => got.length >= sent.length, 30_000, 'all messages');
    expect(got).toHaveLength(sent.length);
    for (let h = 0; h < 5; h++) {
      const key = `host-${h}`;
      expect(got.filter((m) => m.key === key).map((m) => m.value)).toEqual(sent.filter((m) => m.key === key).map((m) => m.value));
    }
  });

  it('rebalances partitions across the members of a consumer group', async () => {
    const topic = uniqueName('kafka-rebalance');
    const groupId = uniqueName('g');
    await createTopics(kafka, [topic], 4);
    const assigned = new Map<string, number[]>();
    const seenBy = new Map<string, string>();
    const member = async (name: string) => {
      const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 10_000 });
      consumers.push(c);
      c.on(c.events.GROUP_JOIN, (e) => {
        assigned.set(name, (e.payload.memberAssignment[topic] ?? []) as number[]);
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ message }: EachMessagePayload) => void seenBy.set(message.value!.toString(), name) });
      return c;
    };
    await member('a');
    await waitFor(() => (assigned.get('a')?.length ?? 0) === 4, 30_000, 'first member owning all partitions');
    await member('b');
    await waitFor(
      () =>
        (assigned.get('a')?.length ?? 0) + (assigned.get('b')?.length ?? 0) === 4 &&
        (assigned.get('b')?.length ?? 0) > 0 &&
        (assigned.get('a')?.length ?? 0) > 0,
      30_000,
      'rebalance',
    );
    expect(new Set([...assigned.get('a')!, ...assigned.get('b')!])).toEqual(new Set([0, 1, 2, 3]));

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ value: `m${i}`, partition: i % 4 })) });
    await producer.disconnect();
    await waitFor(() => seenBy.size === 40, 30_000, 'messages after the rebalance');
    expect(new Set(seenBy.values())).toEqual(new Set(['a', 'b']));
  });
});
