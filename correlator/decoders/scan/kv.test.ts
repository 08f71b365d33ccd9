import { describe, expect, it } from 'vitest';
import { knownKey, scanKv, splitCsv } from './kv.ts';

describe('splitCsv', () => {
  it('splits unquoted records like String#split, keeping empty fields', () => {
    expect(splitCsv('a,,b,')).toEqual(['a', '', 'b', '']);
    expect(splitCsv('x;y', 0, 512, 59)).toEqual(['x', 'y']);
    expect(splitCsv('skip,a,b', 5)).toEqual(['a', 'b']);
  });

  it('reads quoted fields with doubled quotes and separators inside', () => {
    expect(splitCsv('1,"a,b","say ""hi""",2')).toEqual(['1', 'a,b', 'say "hi"', '2']);
    expect(splitCsv('"",x,"q"')).toEqual(['', 'x', 'q']);
    // Text after a closing quote up to the separator is dropped, as before the next field.
    expect(splitCsv('"a"junk,b')).toEqual(['a', 'b']);
    expect(splitCsv('a,"b",')).toEqual(['a', 'b', '']);
  });

  it('keeps the rest of the line in an unterminated quoted field', () => {
    expect(splitCsv('a,"b,c')).toEqual(['a', 'b,c']);
    expect(splitCsv('a,"b""')).toEqual(['a', 'b"']);
  });

  it('stops at maxFields', () => {
    expect(splitCsv('"a",b,c,d', 0, 2)).toEqual(['a', 'b']);
    expect(splitCsv('a,b,c,d', 0, 2)).toEqual(['a', 'b']);
  });
});

describe('scanKv', () => {
  it('reads bare and quoted values, an escaped quote, and skips words without =', () => {
    expect({ ...scanKv('date=2026-11-26 msg="a \\"b\\" c" word action=deny') }).toEqual({ date: '2026-11-26', msg: 'a "b" c', action: 'deny' });
  });

  it('ends a bare value at a tab as well as a space, and only at tabs with tabOnly', () => {
    expect({ ...scanKv('a=1\tb=2 c=3') }).toEqual({ a: '1', b: '2', c: '3' });
    expect({ ...scanKv('a=1 x\tb=2', 0, true) }).toEqual({ a: '1 x', b: '2' });
  });

  it('ends bare values at commas with comma', () => {
    expect({ ...scanKv('date=2026-11-26,time=07:00:00 type=traffic', 0, false, true) }).toEqual({ date: '2026-11-26', time: '07:00:00', type: 'traffic' });
  });

  it('reads the same keys line after line, past the bounds of the remembered names', () => {
    const many = Array.from({ length: 5000 }, (_, i) => `k${i}=v${i}`).join(' ');
    const long = `${'x'.repeat(100)}=1 ${'y'.repeat(64)}=2`;
    for (let round = 0; round < 2; round++) {
      const x = scanKv(many);
      expect(Object.keys(x)).toHaveLength(5000);
      expect([x.k0, x.k4999]).toEqual(['v0', 'v4999']);
      expect({ ...scanKv(long) }).toEqual({ ['x'.repeat(100)]: '1', ['y'.repeat(64)]: '2' });
      expect({ ...scanKv('srcip=1.2.3.4 dstip=5.6.7.8') }).toEqual({ srcip: '1.2.3.4', dstip: '5.6.7.8' });
    }
    expect(knownKey('srcip')).toBe('srcip');
  });

  it('tells apart names of one length and one hash of their characters', () => {
    // "Aa" and "BB" (also "AaAa", "BBBB", "AaBB") hash alike: each must keep its own value.
    for (let round = 0; round < 2; round++) {
      expect({ ...scanKv('Aa=1 BB=2 AaAa=3 BBBB=4 AaBB=5') }).toEqual({ Aa: '1', BB: '2', AaAa: '3', BBBB: '4', AaBB: '5' });
      expect({ ...scanKv('BB=x Aa=y') }).toEqual({ BB: 'x', Aa: 'y' });
    }
  });
});
