import { afterAll, beforeAll, expect, it } from 'vitest';
import { uniqueName } from '../../../test/support/services.ts';
import type { Bus, BusConsumer, BusMessage } from '../types.ts';

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What every Bus must do, for a describe block: per-key order, commit after success, big sends, seeks
 * and offsets by time. `after` runs once the bus is closed (to stop a broker of the test's own).
 */
export function busContract(make: () => Promise<Bus>, after?: () => Promise<void>): void {
  const consumers: BusConsumer[] = [];
  let bus: Bus;
  beforeAll(async () => {
    bus = await make();
  }, 240_000);
  afterAll(async () => {
    for (const c of consumers) await c.stop();
    await bus?.close();
    await after?.();
  });

  async function consume(topic: string, groupId: string, onBatch: (m: BusMessage[]) => Promise<void> | void) {
    const c = await bus.consumer({ groupId, topics: [topic], fromBeginning: true });
    consumers.push(c);
    await c.run(async (b) => onBatch(b.messages));
    return c;
  }

  it('keeps per-key order and commits a batch only after its handler succeeded', async () => {
    const topic = uniqueName('bus-order');
    await bus.ensureTopics([{ topic, partitions: 3 }]);
    const producer = await bus.producer();
    const sent = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 4}`, value: `v${i}` }));
    await producer.send(topic, sent);
    const got: BusMessage[] = [];
    let failOnce = true;
    const groupId = uniqueName('g');
    const c = await consume(topic, groupId, (ms) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('sink down');
      }
      got.push(...ms);
    });
    await waitFor(() => got.length >= 60, 60_000, 'all messages');
    for (let k = 0; k < 4; k++) {
      expect(got.filter((m) => m.key === `k${k}`).map((m) => m.value)).toEqual(sent.filter((m) => m.key === `k${k}`).map((m) => m.value));
    }
    expect(new Set(got.map((m) => m.value)).size).toBe(60);
    const partitions = [...new Set(got.map((m) => m.partition))];
    await waitFor(() => false === failOnce, 1000, 'failure');
    const committed = await Promise.all(partitions.map((partition) => c.committed({ topic, partition })));
    const lengths = partitions.map((p) => got.filter((m) => m.partition === p).length);
    expect(committed).toEqual(lengths);
    await producer.close();
  });

  it('takes a send bigger than one produce request may be', async () => {
    const topic = uniqueName('bus-big');
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    const producer = await bus.producer();
    const value = 'x'.repeat(1024);
    await producer.send(
      topic,
      Array.from({ length: 3000 }, (_, i) => ({ key: 'k', value: `${i} ${value}` })),
    );
    await producer.close();
    let n = 0;
    await consume(topic, uniqueName('g'), (ms) => void (n += ms.length));
    await waitFor(() => n >= 3000, 30_000, 'all 3 MB');
    expect(n).toBe(3000);
  });

  it('seeks back to rebuild state and finds offsets by time', async () => {
    const topic = uniqueName('bus-seek');
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    const producer = await bus.producer();
    const base = Date.now() - 60_000;
    await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `v${i}`, timestamp: base + i * 1000 })),
    );
    const seen: string[] = [];
    const c = await consume(topic, uniqueName('g'), (ms) => void seen.push(...ms.map((m) => m.value!)));
    await waitFor(() => seen.length >= 10, 30_000, 'first pass');
    expect(await c.offsetForTime({ topic, partition: 0 }, base + 4500)).toBe(5);
    c.seek({ topic, partition: 0 }, 5);
    await waitFor(() => seen.length >= 15, 30_000, 'messages after the seek');
    expect(seen.slice(10)).toEqual(['v5', 'v6', 'v7', 'v8', 'v9']);
    await producer.close();
  });
}
