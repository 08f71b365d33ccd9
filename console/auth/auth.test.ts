import { describe, expect, it } from 'vitest';
import { DECOY_HASH, hashPassword, verifyPassword } from './password.ts';
import { SessionStore } from './sessions.ts';
import { roleAtLeast } from './users-file.ts';

describe('passwords', () => {
  it('hashes with a fresh salt and verifies only the right password', async () => {
    const a = await hashPassword('tám ký tự trở lên');
    const b = await hashPassword('tám ký tự trở lên');
    expect(a).not.toBe(b);
    expect(await verifyPassword('tám ký tự trở lên', a)).toBe(true);
    expect(await verifyPassword('tam ky tu tro len', a)).toBe(false);
    expect(await verifyPassword('anything', DECOY_HASH)).toBe(false);
    expect(await verifyPassword('anything', 'md5$abc')).toBe(false);
  });
});

describe('sessions', () => {
  it('expire after their time to live and can be ended', () => {
    let now = 1000;
    const sessions = new SessionStore(60_000, () => now);
    const s = sessions.create('lan', 'v1');
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessions.get(s.id)?.username).toBe('lan');
    now += 59_999;
    expect(sessions.get(s.id)).toBeDefined();
    now += 1;
    expect(sessions.get(s.id)).toBeUndefined();
    const t = sessions.create('minh', 'v1');
    sessions.delete(t.id);
    expect(sessions.get(t.id)).toBeUndefined();
    expect(sessions.get(undefined)).toBeUndefined();
  });
});

describe('roles', () => {
  it('rank viewer < responder < admin', () => {
    expect(roleAtLeast('admin', 'responder')).toBe(true);
    expect(roleAtLeast('responder', 'responder')).toBe(true);
    expect(roleAtLeast('viewer', 'responder')).toBe(false);
    expect(roleAtLeast('responder', 'admin')).toBe(false);
  });
});
