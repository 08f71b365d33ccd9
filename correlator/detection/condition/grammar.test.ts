import { describe, expect, it } from 'vitest';
import { detection } from '../testdata/build.ts';
import { ConditionSyntaxError, parseCondition, selectionsFor } from './grammar.ts';

const rule = (condition: string) => detection(`a:\n  a: 1\nb:\n  b: 1\nc:\n  c: 1\nsel_x:\n  x: 1\nsel_y:\n  y: 1\n_helper:\n  h: 1\ncondition: ${condition}`);

/** Every combination of the flags a, b, c as events. */
const truth = (condition: string) => {
  const r = rule(condition);
  expect(r.errors).toEqual([]);
  const rows: string[] = [];
  for (let i = 0; i < 8; i++) {
    const ev = { a: i & 1 ? 1 : 0, b: i & 2 ? 1 : 0, c: i & 4 ? 1 : 0 };
    if (r.matches(ev)) rows.push(`${ev.a}${ev.b}${ev.c}`);
  }
  return rows;
};

describe('condition grammar', () => {
  it('and binds tighter than or', () => {
    expect(truth('a or b and c')).toEqual(truth('a or (b and c)'));
    expect(truth('a or b and c')).not.toEqual(truth('(a or b) and c'));
    expect(truth('a and b or c')).toEqual(truth('(a and b) or c'));
  });
  it('not binds tighter than and', () => {
    expect(truth('not a and b')).toEqual(truth('(not a) and b'));
    expect(truth('not a and b')).not.toEqual(truth('not (a and b)'));
    expect(truth('not not a')).toEqual(truth('a'));
  });
  it('keywords are case-insensitive and parentheses nest', () => {
    expect(truth('A AND NOT (b OR c)'.replace('A', 'a'))).toEqual(['100']);
    expect(truth('((a))')).toEqual(truth('a'));
  });
  it('1 of, all of, N of, with patterns and them', () => {
    const r = rule('1 of sel_*');
    expect(r.matches({ x: 1 })).toBe(true);
    expect(r.matches({ y: 1 })).toBe(true);
    expect(r.matches({ a: 1 })).toBe(false);
    const all = rule('all of sel_*');
    expect(all.matches({ x: 1 })).toBe(false);
    expect(all.matches({ x: 1, y: 1 })).toBe(true);
    expect(rule('2 of them').matches({ a: 1, x: 1 })).toBe(true);
    expect(rule('2 of them').matches({ a: 1, h: 1 })).toBe(false);
    // `them` leaves out selections starting with an underscore.
    expect(rule('1 of them').matches({ h: 1 })).toBe(false);
    expect(rule('all of them').matches({ a: 1, b: 1, c: 1, x: 1, y: 1 })).toBe(true);
    expect(rule('1 of sel_* and not a').matches({ x: 1, a: 1 })).toBe(false);
    expect(rule('a or all of sel_*').matches({ x: 1, y: 1 })).toBe(true);
  });
  it('selection name patterns', () => {
    expect(selectionsFor('sel*', ['sel', 'sel1', 'xsel'])).toEqual(['sel', 'sel1']);
    expect(selectionsFor('*_exe', ['a_exe', 'b_exe_x'])).toEqual(['a_exe']);
    expect(selectionsFor('s*l*x', ['s1l2x', 'slx', 'sl'])).toEqual(['s1l2x', 'slx']);
  });
  it('syntax errors carry the offset of the bad token', () => {
    const cases: [string, number][] = [
      ['a and', 5],
      ['a b', 2],
      ['(a or b', 7],
      ['a | count() > 5', 2],
      ['x of them', 0],
      ['a and or b', 6],
    ];
    for (const [text, offset] of cases) {
      let err: unknown;
      try {
        parseCondition(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ConditionSyntaxError);
      expect((err as ConditionSyntaxError).offset, text).toBe(offset);
    }
  });
  it('a condition naming a missing selection is an error', () => {
    expect(rule('a and missing').errors.join()).toMatch(/'missing', which no selection defines/);
    expect(rule('1 of nothing*').errors.join()).toMatch(/'nothing\*'/);
  });
});
