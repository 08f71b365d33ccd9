import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.ts';
import { giveBackMemoryWhenIdle } from './idle-memory.ts';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

function watch(o: { busy: () => boolean; released: () => number; minGapMs?: number }) {
  const collections: { heapUsedMb: number[]; rssMb: number[] }[] = [];
  const gaveBack: string[] = [];
  const log = createLogger('test', {}, 'silent');
  log.info = ((obj: { heapUsedMb: number[]; rssMb: number[] }) => void collections.push(obj)) as typeof log.info;
  const idle = giveBackMemoryWhenIdle({
    ...o,
    shrink: () => void gaveBack.push('sqlite'),
    trimNativeHeap: () => void gaveBack.push('malloc'),
    log,
    checkMs: 20,
    minGapMs: o.minGapMs ?? 0,
    releasedCount: 100,
  });
  stops.push(idle.stop);
  return { collections, gaveBack };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('giveBackMemoryWhenIdle', () => {
  it('collects once the pipeline is quiet after it let go of a burst, then shrinks the caches and trims the C heap', async () => {
    let busy = true;
    let released = 0;
    const w = watch({ busy: () => busy, released: () => released });
    released = 50_000;
    await wait(150);
    expect(w.collections).toEqual([]);
    busy = false;
    await wait(150);
    expect(w.collections).toHaveLength(1);
    expect(w.gaveBack).toEqual(['sqlite', 'malloc']);
    // Nothing let go since: no second collection.
    await wait(150);
    expect(w.collections).toHaveLength(1);
  });

  it('collects after garbage piled up on the heap, then at most once per gap', async () => {
    const w = watch({ busy: () => false, released: () => 0, minGapMs: 60_000 });
    let junk: string[] | null = Array.from({ length: 3_000_000 }, (_, i) => `garbage ${i}`);
    expect(junk.length).toBe(3_000_000);
    junk = null;
    await wait(150);
    expect(w.collections).toHaveLength(1);
    const [before, after] = w.collections[0]!.heapUsedMb;
    expect(after).toBeLessThan(before! - 32);
    junk = Array.from({ length: 1_500_000 }, (_, i) => `more garbage ${i}`);
    junk = null;
    await wait(150);
    expect(w.collections).toHaveLength(1);
  });
});
