import { describe, expect, it } from 'vitest';
import { parseWildcards, positioned } from '../modifiers/wildcard.ts';
import { AhoCorasick } from './aho-corasick.ts';
import { stringMatcher } from './string-matcher.ts';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  return (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
}

describe('Aho–Corasick over code units', () => {
  it('finds exactly the patterns String.includes finds, overlaps and shared suffixes included', () => {
    const rnd = random(11);
    const alphabet = ['a', 'b', 'c', '\r', '\n', 'é', 'e\u0301', '\u{1F600}'];
    const word = (max: number) => Array.from({ length: 1 + rnd(max) }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let round = 0; round < 200; round++) {
      const patterns = [...new Set(Array.from({ length: 1 + rnd(12) }, () => word(4)))];
      const ac = new AhoCorasick(patterns);
      for (let t = 0; t < 20; t++) {
        const text = word(30);
        const found: number[] = [];
        ac.collect(text, found);
        const expected = patterns.map((p, i) => (text.includes(p) ? i : -1)).filter((i) => i >= 0);
        expect([...new Set(found)].sort((a, b) => a - b)).toEqual(expected);
        expect(ac.test(text)).toBe(expected.length > 0);
      }
    }
  });

  it('matches inside a CRLF and before a combining accent, where grapheme matchers do not', () => {
    const ac = new AhoCorasick(['\n', 'e']);
    const found: number[] = [];
    ac.collect('a\r\nb', found);
    expect(found).toEqual([0]);
    expect(ac.test('cafe\u0301')).toBe(true);
  });

  it('folds ASCII on the fly as toLowerCase would, and leaves other text to the caller', () => {
    const rnd = random(3);
    const alphabet = ['a', 'B', 'c', 'Z', '[', '@', '`', '{', 'z'];
    const word = (max: number) => Array.from({ length: 1 + rnd(max) }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let round = 0; round < 100; round++) {
      const ac = new AhoCorasick([...new Set(Array.from({ length: 6 }, () => word(3).toLowerCase()))]);
      const text = word(20);
      const onTheFly: number[] = [];
      const folded: number[] = [];
      expect(ac.collectAsciiFolded(text, onTheFly)).toBe(true);
      ac.collect(text.toLowerCase(), folded);
      expect(onTheFly).toEqual(folded);
    }
    const out = [7];
    expect(new AhoCorasick(['i']).collectAsciiFolded('xİ', out)).toBe(false);
    expect(out).toEqual([7]);
  });

  it('refuses an empty pattern, which would match everywhere', () => {
    expect(() => new AhoCorasick(['x', ''])).toThrow(/empty pattern/);
  });
});

describe('one matcher for all values of an item', () => {
  it('agrees with testing each value on its own, for every position and wildcard shape', () => {
    const rnd = random(5);
    const alphabet = ['a', 'b', 'x', '/', '.'];
    const word = (max: number) => Array.from({ length: 1 + rnd(max) }, () => alphabet[rnd(alphabet.length)]).join('');
    const shapes = [
      (w: string) => w,
      (w: string) => `${w}*`,
      (w: string) => `*${w}`,
      (w: string) => `*${w}*`,
      (w: string) => `${w}?${word(2)}`,
      (w: string) => `${w}*${word(2)}`,
    ];
    const one = (pattern: string) =>
      new RegExp(
        `^${pattern
          .replace(/[./]/g, (c) => `\\${c}`)
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        's',
      );
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: 1 + rnd(10) }, () => shapes[rnd(shapes.length)]!(word(3)));
      const m = stringMatcher(
        values.map((v) => positioned(parseWildcards(v), 'exact')),
        false,
      );
      for (let t = 0; t < 20; t++) {
        const text = word(8);
        expect(m.test(text)).toBe(values.some((v) => one(v).test(text)));
      }
    }
  });

  it('counts what it holds, for the rule cost estimate', () => {
    const m = stringMatcher(
      ['a', 'b*', '*c', '*d*', '*e*', 'f*g'].map((v) => parseWildcards(v)),
      false,
    );
    expect(m.size).toEqual({ exact: 1, prefixes: 1, suffixes: 1, substrings: 2, wildcards: 1 });
  });
});
