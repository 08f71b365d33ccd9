import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fileStamp, watchFolder } from './folder-watch.ts';

const DEBOUNCE_MS = 300;

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'folder-watch-'));
  mkdirSync(join(dir, 'sub'));
  return dir;
}

describe('fileStamp', () => {
  it('changes with the content and is null once the file is gone', () => {
    const file = join(folder(), 'a.yml');
    writeFileSync(file, 'one');
    const first = fileStamp(file);
    expect(first).toMatch(/^[\d.]+:3:\d+$/);
    writeFileSync(file, 'three');
    expect(fileStamp(file)).not.toBe(first);
    rmSync(file);
    expect(fileStamp(file)).toBeNull();
  });
});

describe('watchFolder', () => {
  it('calls once for a burst of changes anywhere below the folder, after the last of them', async () => {
    const dir = folder();
    const calls: number[] = [];
    let settled!: () => void;
    const first = new Promise<void>((r) => (settled = r));
    const w = watchFolder(dir, DEBOUNCE_MS, () => {
      calls.push(Date.now());
      settled();
    });
    try {
      writeFileSync(join(dir, 'a.yml'), 'a');
      writeFileSync(join(dir, 'sub', 'b.yml'), 'b');
      writeFileSync(join(dir, 'c.tmp'), 'c');
      renameSync(join(dir, 'c.tmp'), join(dir, 'c.yml'));
      const last = Date.now();
      await first;
      expect(calls[0]! - last).toBeGreaterThanOrEqual(DEBOUNCE_MS - 5);
      // The point here is that nothing else comes: wait two debounce periods more.
      await sleep(2 * DEBOUNCE_MS);
      expect(calls).toHaveLength(1);

      let again!: () => void;
      const second = new Promise<void>((r) => (again = r));
      const before = calls.length;
      settled = again;
      writeFileSync(join(dir, 'sub', 'b.yml'), 'changed');
      await second;
      expect(calls).toHaveLength(before + 1);
    } finally {
      w.close();
    }
  });

  it('calls nothing once closed, even for a change made just before', async () => {
    const dir = folder();
    let calls = 0;
    const w = watchFolder(dir, DEBOUNCE_MS, () => void calls++);
    writeFileSync(join(dir, 'a.yml'), 'a');
    // The watcher has seen the change by now and its timer is pending: close must cancel it.
    await sleep(DEBOUNCE_MS / 3);
    w.close();
    writeFileSync(join(dir, 'b.yml'), 'b');
    await sleep(2 * DEBOUNCE_MS);
    expect(calls).toBe(0);
  });
});
