import { describe, expect, it } from 'vitest';
import { StreamLimits } from './limits.ts';

describe('StreamLimits', () => {
  it('caps sockets per session, per user and in all, and frees a slot on release', () => {
    const limits = new StreamLimits({ socketsPerSession: 2, socketsPerUser: 3, socketsTotal: 4 });
    const a1 = limits.open('lan', 's1');
    const a2 = limits.open('lan', 's1');
    expect(limits.open('lan', 's1')).toEqual({ refused: 'session_sockets' });
    expect(limits.refusal('lan', 's1')).toBe('session_sockets');
    limits.open('lan', 's2');
    expect(limits.open('lan', 's3')).toEqual({ refused: 'user_sockets' });
    limits.open('minh', 's4');
    expect(limits.open('hoa', 's5')).toEqual({ refused: 'total_sockets' });
    if ('release' in a1 && 'release' in a2) {
      a1.release();
      a1.release();
      expect(limits.refusal('hoa', 's5')).toBeNull();
      expect(limits.refusal('lan', 's1')).toBeNull();
      a2.release();
      expect(limits.open('lan', 's6')).toHaveProperty('release');
      expect(limits.open('hoa', 's5')).toHaveProperty('release');
      expect(limits.open('lan', 's7')).toEqual({ refused: 'total_sockets' });
    } else throw new Error('the first two sockets were refused');
  });

  it('lets a burst of snapshots through per session and per user, then one at the refill rate', () => {
    let now = 0;
    const limits = new StreamLimits({ snapshotsPerSessionPerMinute: 6, snapshotsPerUserPerMinute: 10 }, () => now);
    const granted = Array.from({ length: 20 }, () => limits.snapshot('lan', 's1')).filter(Boolean).length;
    expect(granted).toBe(6);
    expect(limits.refusal('lan', 's1')).toBe('snapshots');
    expect(Array.from({ length: 20 }, () => limits.snapshot('lan', 's2')).filter(Boolean).length).toBe(4);
    expect(limits.snapshot('minh', 's3')).toBe(true);
    now += 10_000;
    expect(limits.snapshot('lan', 's1')).toBe(true);
    expect(limits.snapshot('lan', 's1')).toBe(false);
    now += 3_600_000;
    limits.prune();
    expect(Array.from({ length: 20 }, () => limits.snapshot('lan', 's1')).filter(Boolean).length).toBe(6);
  });
});
