import { describe, expect, it } from 'vitest';
import { MemoryBus } from './memory.ts';
import type { BusMessage } from './types.ts';

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: 'k', value: `line ${from + i}` }));

describe('MemoryBus memory', () => {
  it('gives back what every running consumer committed, and keeps what one has not', async () => {
    const bus = new MemoryBus(1, { keepMs: 0 });
    const producer = await bus.producer();
    let fastSeen = 0;
    const fast = await bus.consumer({ groupId: 'fast', topics: ['t'], fromBeginning: true });
    await fast.run(async (b) => void (fastSeen += b.messages.length));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slowSeen: BusMessage[] = [];
    const slow = await bus.consumer({ groupId: 'slow', topics: ['t'], fromBeginning: true });
    await slow.run(async (b) => {
      await held;
      slowSeen.push(...b.messages);
    });
    await producer.send('t', lines(10_000));
    await until(() => fastSeen === 10_000, 'the fast consumer');
    // The slow group holds everything from its first batch on: nothing it has not read is gone.
    expect(bus.retained()).toBe(10_000);
    release();
    await until(() => slowSeen.length === 10_000, 'the slow consumer');
    expect(slowSeen.map((m) => m.offset)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    await producer.send('t', lines(1, 10_000));
    await until(() => bus.retained() < 1024, 'the trim');
    expect(bus.endsOf('t')).toEqual([10_001]);
    await fast.stop();
    await slow.stop();
  });

  it('a stateful consumer that commits behind its position keeps that input for its seek back', async () => {
    const bus = new MemoryBus(1, { keepMs: 0 });
    const producer = await bus.producer();
    let seen = 0;
    const c = await bus.consumer({ groupId: 'stateful', topics: ['t'], fromBeginning: true });
    await c.run(async (b) => {
      seen += b.messages.length;
      return 0;
    });
    await producer.send('t', lines(5000));
    await until(() => seen >= 5000, 'the first pass');
    expect(bus.retained()).toBe(5000);
    c.seek({ topic: 't', partition: 0 }, 0);
    await until(() => seen >= 10_000, 'the second pass');
    await c.stop();
  });

  it('keeps the keep window for readers that join later and look back by time, then lets it go', async () => {
    const bus = new MemoryBus(1, { keepMs: 200 });
    const producer = await bus.producer();
    await producer.send('nobody-reads', lines(3000));
    expect(bus.retained()).toBe(3000);
    const late = await bus.consumer({ groupId: 'late', topics: ['nobody-reads'], fromBeginning: false });
    expect(await late.offsetForTime({ topic: 'nobody-reads', partition: 0 }, 0)).toBe(0);
    await new Promise((r) => setTimeout(r, 250));
    await producer.send('nobody-reads', lines(1, 3000));
    expect(bus.retained()).toBe(3001 - 2048);
    // A position before what is retained reads from the first retained message, as Kafka's earliest reset does.
    const seen: number[] = [];
    const reader = await bus.consumer({ groupId: 'reader', topics: ['nobody-reads'], fromBeginning: true });
    await reader.run(async (b) => void seen.push(...b.messages.map((m) => m.offset)));
    await until(() => seen.length === 3001 - 2048, 'the retained messages');
    expect(seen[0]).toBe(2048);
    await reader.stop();
  });
});

describe("MemoryBus with release: 'read' (canhgac start)", () => {
  it('drops what its only reader has read although the reader commits far behind, keeping the unread', async () => {
    const bus = new MemoryBus(1, { keepMs: 0, release: 'read' });
    const producer = await bus.producer();
    let seen = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const c = await bus.consumer({ groupId: 'windows', topics: ['t'], fromBeginning: true });
    await c.run(async (b) => {
      if (b.messages[0]!.offset >= 3000) await held;
      seen += b.messages.length;
      // A stateful reader whose oldest window still needs the first message.
      return 0;
    });
    await producer.send('t', lines(5000));
    await until(() => seen === 3000, 'the first 3000');
    // Read up to 3000: the two whole chunks below go, the unread rest stays.
    expect(bus.retained()).toBe(5000 - 2048);
    expect(await c.committed({ topic: 't', partition: 0 })).toBe(0);
    release();
    await until(() => seen === 5000, 'the rest');
    await until(() => bus.retained() === 0, 'the trim after the last batch');
    expect(bus.droppedChars()).toBe(lines(5000).reduce((n, l) => n + l.value.length, 0));
    await c.stop();
    await bus.close();
  });

  it('still delivers everything to a second reader that has not read it, in order', async () => {
    const bus = new MemoryBus(1, { keepMs: 0, release: 'read' });
    const producer = await bus.producer();
    let fastSeen = 0;
    const fast = await bus.consumer({ groupId: 'fast', topics: ['t'], fromBeginning: true });
    await fast.run(async (b) => {
      fastSeen += b.messages.length;
      return 0;
    });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slowSeen: number[] = [];
    const slow = await bus.consumer({ groupId: 'slow', topics: ['t'], fromBeginning: true });
    await slow.run(async (b) => {
      await held;
      slowSeen.push(...b.messages.map((m) => m.offset));
    });
    await producer.send('t', lines(10_000));
    await until(() => fastSeen === 10_000, 'the fast reader');
    expect(bus.retained()).toBe(10_000);
    release();
    await until(() => slowSeen.length === 10_000, 'the slow reader');
    expect(slowSeen).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    await until(() => bus.retained() === 0, 'the trim');
    await fast.stop();
    await slow.stop();
    await bus.close();
  });

  it('keeps a batch whose handler failed until it is handled again', async () => {
    const bus = new MemoryBus(1, { keepMs: 0, release: 'read' });
    const producer = await bus.producer();
    const seen: number[] = [];
    let failures = 1;
    const c = await bus.consumer({ groupId: 'g', topics: ['t'], fromBeginning: true });
    await c.run(async (b) => {
      if (failures-- > 0) throw new Error('sink down');
      seen.push(...b.messages.map((m) => m.offset));
    });
    await producer.send('t', lines(3000));
    await until(() => seen.length === 3000, 'the retried batches');
    expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    await c.stop();
    await bus.close();
  });

  it('keeps the keep window only on the topics named for it', async () => {
    const bus = new MemoryBus(1, { keepMs: 60_000, release: 'read', keepOnly: ['looked-back'] });
    const producer = await bus.producer();
    let seen = 0;
    const c = await bus.consumer({ groupId: 'g', topics: ['flood', 'looked-back'], fromBeginning: true });
    await c.run(async (b) => void (seen += b.messages.length));
    await producer.send('flood', lines(4096));
    await producer.send('looked-back', lines(4096));
    await until(() => seen === 8192, 'the reader');
    await until(() => bus.partitionsOf('flood')[0]!.length === 0, 'the flood given back');
    expect(bus.partitionsOf('looked-back')[0]).toHaveLength(4096);
    await c.stop();
    await bus.close();
  });

  it('keeps the keep window for a seek back by time', async () => {
    const bus = new MemoryBus(1, { keepMs: 60_000, release: 'read' });
    const producer = await bus.producer();
    let seen = 0;
    const c = await bus.consumer({ groupId: 'g', topics: ['t'], fromBeginning: true });
    await c.run(async (b) => void (seen += b.messages.length));
    await producer.send('t', lines(4096));
    await until(() => seen === 4096, 'the reader');
    expect(bus.retained()).toBe(4096);
    c.seek({ topic: 't', partition: 0 }, await c.offsetForTime({ topic: 't', partition: 0 }, 0));
    await until(() => seen === 8192, 'the second read');
    await c.stop();
    await bus.close();
  });
});

describe('MemoryBus after a flood', () => {
  it('gives the flood back once the keep window passed, with nothing more sent', async () => {
    const bus = new MemoryBus(1, { keepMs: 300 });
    const producer = await bus.producer();
    let seen = 0;
    const c = await bus.consumer({ groupId: 'g', topics: ['t'], fromBeginning: true });
    await c.run(async (b) => void (seen += b.messages.length));
    await producer.send('t', lines(4096));
    await until(() => seen === 4096, 'the consumer');
    expect(bus.retained()).toBe(4096);
    await until(() => bus.retained() === 0, 'the timed trim');
    await c.stop();
    await bus.close();
  });
});
