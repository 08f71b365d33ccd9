import { describe, expect, it } from 'vitest';
import { ConsoleSectionSchema } from './config.ts';

describe('console config', () => {
  it('takes proxies as addresses or CIDR ranges and trusts none by default', () => {
    expect(ConsoleSectionSchema.parse({}).trustedProxies).toEqual([]);
    expect(ConsoleSectionSchema.parse({ trustedProxies: ['10.0.0.5', '172.18.0.0/16', '::1'] }).trustedProxies).toHaveLength(3);
    const bad = ConsoleSectionSchema.safeParse({ trustedProxies: ['10.0.0.5', 'proxy.local'] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['trustedProxies', 1], message: 'an IP address or a CIDR range' });
  });

  it('has the documented defaults for the lockout and the stream limits', () => {
    const c = ConsoleSectionSchema.parse({});
    expect(c.lockout).toEqual({ freeFailures: 5, baseSeconds: 30, maxSeconds: 900 });
    expect(c.stream).toEqual({ socketsPerSession: 8, socketsPerUser: 32, socketsTotal: 1000, snapshotsPerSessionPerMinute: 12, snapshotsPerUserPerMinute: 60 });
  });
});
