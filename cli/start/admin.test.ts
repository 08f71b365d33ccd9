import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../console/auth/password.ts';
import { readUsers } from '../../console/auth/users-file.ts';
import { ensureFirstAdmin } from './admin.ts';

describe('canhgac start: the first admin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-admin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates admin with a random password once, stores only its hash, and leaves an existing users file alone', async () => {
    const file = join(dir, 'random.json');
    const first = await ensureFirstAdmin(file, undefined);
    if (!first.created || !first.password) throw new Error('expected a generated password');
    expect(first.password.length).toBeGreaterThanOrEqual(12);
    const [user, ...others] = readUsers(file);
    expect(others).toEqual([]);
    expect(user!.username).toBe('admin');
    expect(user!.role).toBe('admin');
    expect(user!.hash).not.toContain(first.password);
    expect(await verifyPassword(first.password, user!.hash)).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(await ensureFirstAdmin(file, 'another-password-1')).toEqual({ created: false });
    expect(await verifyPassword(first.password, readUsers(file)[0]!.hash)).toBe(true);
  });

  it('takes CANHGAC_ADMIN_PASSWORD without echoing it, and refuses one shorter than the users command allows', async () => {
    const file = join(dir, 'env.json');
    await expect(ensureFirstAdmin(file, 'short')).rejects.toThrow(/at least 12 characters/);
    expect(readUsers(file)).toEqual([]);
    expect(await ensureFirstAdmin(file, 'a-long-enough-one')).toEqual({ created: true, username: 'admin', password: null });
    expect(await verifyPassword('a-long-enough-one', readUsers(file)[0]!.hash)).toBe(true);
  });
});
