import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFolderLockedError, LOCK_FILE, lockDataFolder } from './folder-lock.ts';

describe('lockDataFolder', () => {
  it('lets one owner hold a folder, names the lock and the owner to a second, and frees it on release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-lock-'));
    const first = lockDataFolder(dir);
    expect(first.file).toBe(join(dir, LOCK_FILE));
    let err: unknown;
    try {
      lockDataFolder(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataFolderLockedError);
    expect((err as Error).message).toContain(`its lock ${join(dir, LOCK_FILE)} is held`);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    first.release();
    const second = lockDataFolder(dir);
    second.release();
    expect(existsSync(`${join(dir, LOCK_FILE)}.owner`)).toBe(false);
  });

  it('is free again after its owner was killed with SIGKILL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-lock-'));
    const script = `const { lockDataFolder } = await import(${JSON.stringify(new URL('./folder-lock.ts', import.meta.url).pathname)}); lockDataFolder(${JSON.stringify(dir)}); process.kill(process.pid, 'SIGKILL');`;
    expect(() => execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' })).toThrow();
    expect(existsSync(`${join(dir, LOCK_FILE)}.owner`)).toBe(true);
    const after = lockDataFolder(dir);
    after.release();
  });

  it('names a data folder it cannot create or write', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'canhgac-lock-')), 'a-file');
    writeFileSync(file, 'x');
    expect(() => lockDataFolder(join(file, 'data'))).toThrow(/data folder .*a-file\/data cannot be created/);
  });
});
