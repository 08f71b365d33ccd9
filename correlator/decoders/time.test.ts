import { describe, expect, it } from 'vitest';
import { iso } from './time.ts';

describe('iso', () => {
  it('writes the same text as Date#toISOString for instants across 1970-9999', () => {
    // One instant a day with a time of day that wanders through hours, minutes, seconds and milliseconds.
    const differ: string[] = [];
    for (let day = 0; day <= 2_932_896; day += 3) {
      const t = day * 86_400_000 + ((day * 7_919_113) % 86_400_000);
      if (iso(t) !== new Date(t).toISOString()) differ.push(`${t}: ${iso(t)}`);
    }
    expect(differ).toEqual([]);
    for (const t of [0, 999, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, 253_402_300_799_999]) expect(iso(t)).toBe(new Date(t).toISOString());
  });

  it('drops a fraction of a millisecond as Date does', () => {
    expect(iso(1_795_653_000_123.9)).toBe('2026-11-26T00:30:00.123Z');
  });

  it('has no text for instants an ISO 8601 @timestamp cannot carry', () => {
    for (const t of [-1, 253_402_300_800_000, Number.NaN, Number.POSITIVE_INFINITY]) expect(iso(t)).toBeUndefined();
  });
});
