import { describe, expect, it } from 'vitest';
import { iso, monthIndex, zoneOffset } from './time.ts';

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

  it('keeps the dates of days it formatted before apart, days a multiple of 64 apart included', () => {
    const day = 86_400_000;
    const base = 1_795_653_000_123;
    for (let round = 0; round < 2; round++)
      for (const t of [base, base + 64 * day, base + 128 * day + 1, base - 64 * day, base, base + day]) expect(iso(t)).toBe(new Date(t).toISOString());
  });

  it('drops a fraction of a millisecond as Date does', () => {
    expect(iso(1_795_653_000_123.9)).toBe('2026-11-26T00:30:00.123Z');
  });

  it('has no text for instants an ISO 8601 @timestamp cannot carry', () => {
    for (const t of [-1, 253_402_300_800_000, Number.NaN, Number.POSITIVE_INFINITY]) expect(iso(t)).toBeUndefined();
  });
});

describe('monthIndex', () => {
  it('reads the first three letters of an English month name in any case, at any position', () => {
    expect(['Jan', 'feb', 'MAR', 'aPr', 'May', 'Jun', 'Jul', 'Aug', 'September', 'Oct', 'Nov', 'Dec'].map((m) => monthIndex(m))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
    expect(monthIndex('<13>Nov 26 07:40:00', 4)).toBe(10);
  });

  it('has no month for other text, short text or non-ASCII letters', () => {
    for (const s of ['Jun'.slice(0, 2), '', 'Foo', 'J@n', 'Ja\u212a', '1an', 'ja\u0000']) expect(monthIndex(s)).toBeUndefined();
    expect(monthIndex('Nov', 1)).toBeUndefined();
  });
});

describe('zoneOffset', () => {
  it('answers per zone and hour, zones read at the same hour and hours a multiple of 1024 apart kept apart', () => {
    const hour = 3_600_000;
    const january = Date.UTC(2026, 0, 15, 12);
    const july = Date.UTC(2026, 6, 15, 12);
    for (let round = 0; round < 2; round++) {
      expect(zoneOffset('America/New_York', january)).toBe(-5 * hour);
      expect(zoneOffset('Asia/Ho_Chi_Minh', january)).toBe(7 * hour);
      expect(zoneOffset('America/New_York', january + 2048 * hour)).toBe(-4 * hour);
      expect(zoneOffset('America/New_York', july)).toBe(-4 * hour);
      expect(zoneOffset('Asia/Kolkata', july)).toBe(5.5 * hour);
      expect(zoneOffset('UTC', july)).toBe(0);
    }
  });
});
