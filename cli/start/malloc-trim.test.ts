import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.ts';
import { exposedGc } from './idle-memory.ts';
import { loadMallocTrim } from './malloc-trim.ts';

const log = createLogger('test', {}, 'silent');
const MB = 2 ** 20;

describe.runIf(process.platform === 'linux')('loadMallocTrim', () => {
  it('gives the free pages between live blocks of the C heap back to the system', async () => {
    const trim = await loadMallocTrim(log);
    expect(trim).toBeTypeOf('function');
    // 128 MB of 16 KB blocks (below glibc's mmap threshold: they share its heap), one in 16 kept alive:
    // what is freed lies between survivors, where glibc's own trimming of the heap's top cannot reach.
    let blocks: Buffer[] | null = Array.from({ length: 8192 }, () => Buffer.allocUnsafeSlow(16 * 1024).fill(1));
    const survivors = blocks.filter((_, i) => i % 16 === 0);
    blocks = null;
    exposedGc()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const before = process.memoryUsage.rss();
    expect(trim!()).toBe(true);
    const after = process.memoryUsage.rss();
    expect(before - after).toBeGreaterThan(64 * MB);
    expect(survivors.every((b) => b[0] === 1)).toBe(true);
  });
});
