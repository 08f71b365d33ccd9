import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.ts';

describe('EventQueue', () => {
  it('releases up to a time, oldest first and in arrival order among equal times, over 20,000 shuffled items', () => {
    let seed = 11;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const q = new EventQueue<{ t: number; seq: number }>();
    const all: { t: number; seq: number }[] = [];
    for (let seq = 0; seq < 20_000; seq++) {
      const item = { t: Math.floor(rand() * 500), seq };
      all.push(item);
      q.push(item);
    }
    const out = [...q.popUpTo(249), ...q.popUpTo(249), ...q.popUpTo(1000)];
    const expected = [...all].sort((a, b) => a.t - b.t || a.seq - b.seq);
    expect(out).toEqual(expected);
    expect(out.findIndex((x) => x.t > 249)).toBe(expected.filter((x) => x.t <= 249).length);
    expect(q.size).toBe(0);
  });

  it('keeps what a reload retains, still in order', () => {
    const q = new EventQueue<{ t: number; seq: number; c: string }>();
    for (const [seq, t] of [5, 1, 4, 2, 3].entries()) q.push({ t, seq, c: t % 2 ? 'odd' : 'even' });
    q.retain((x) => x.c === 'odd');
    expect(q.size).toBe(3);
    expect(q.popUpTo(10).map((x) => x.t)).toEqual([1, 3, 5]);
  });
});
