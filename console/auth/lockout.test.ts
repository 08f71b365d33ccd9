import { describe, expect, it } from 'vitest';
import { AccountLockout } from './lockout.ts';

describe('AccountLockout', () => {
  it('locks a name after the free failures, doubling up to the cap; a success clears it', () => {
    let now = 0;
    const lock = new AccountLockout({ freeFailures: 3, baseMs: 1000, maxMs: 5000 }, () => now);
    for (let i = 0; i < 2; i++) lock.failed('admin');
    expect(lock.lockedFor('admin')).toBe(0);
    lock.failed('Admin');
    expect(lock.lockedFor('admin')).toBe(1000);
    lock.failed('admin');
    expect(lock.lockedFor('admin')).toBe(2000);
    lock.failed('admin');
    lock.failed('admin');
    lock.failed('admin');
    expect(lock.lockedFor('ADMIN')).toBe(5000);
    expect(lock.lockedFor('lan')).toBe(0);
    now += 5000;
    expect(lock.lockedFor('admin')).toBe(0);
    lock.succeeded('admin');
    lock.failed('admin');
    expect(lock.lockedFor('admin')).toBe(0);
  });

  it('forgets old failures and keeps at most maxTracked names', () => {
    let now = 0;
    const lock = new AccountLockout({ freeFailures: 2, baseMs: 1000, maxMs: 1000, forgetAfterMs: 10_000, maxTracked: 3 }, () => now);
    lock.failed('a');
    now += 20_000;
    lock.failed('a');
    expect(lock.lockedFor('a')).toBe(0);
    for (const n of ['b', 'c', 'd']) {
      lock.failed(n);
      lock.failed(n);
    }
    expect(lock.lockedFor('b')).toBe(1000);
    lock.failed('e');
    expect(lock.lockedFor('b')).toBe(0);
    expect(lock.lockedFor('d')).toBe(1000);
  });
});
