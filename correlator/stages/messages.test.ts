import { describe, expect, it } from 'vitest';
import { CorrelateMessageSchema, deadLetter, feedsOf, readCorrelateMessage, type Bundle } from './messages.ts';

describe('deadLetter', () => {
  const at = { topic: 'soc.raw', partition: 2, offset: 41, key: 'srv-01' };

  it('keeps the message, where it came from and why it was refused', () => {
    const letter = deadLetter({ ...at, value: '{"v":1,"host": "srv-09", "line": "trunc' }, 'not JSON: Unterminated string');
    expect(letter.key).toBe('srv-01');
    expect(JSON.parse(letter.value)).not.toHaveProperty('value_length');
    expect(JSON.parse(letter.value)).toMatchObject({
      topic: 'soc.raw',
      partition: 2,
      offset: 41,
      reason: 'not JSON: Unterminated string',
      value: '{"v":1,"host": "srv-09", "line": "trunc',
    });
  });

  it('keeps the start of a message too big to be produced again, with its length', () => {
    const huge = '\u0001'.repeat(900_000);
    const letter = deadLetter({ ...at, key: 'k'.repeat(5000), value: huge }, 'not JSON');
    // Escaped control characters grow sixfold: the letter must still stay far below the 1 MB limit.
    expect(Buffer.byteLength(letter.value)).toBeLessThan(1024 * 1024);
    const parsed = JSON.parse(letter.value) as { value: string; value_length: number };
    expect(parsed.value_length).toBe(900_000);
    expect(huge.startsWith(parsed.value)).toBe(true);
    expect(letter.key).toHaveLength(1024);
  });
});

describe('readCorrelateMessage', () => {
  const bundle = {
    v: 2,
    kind: 'feeds',
    events: [{ host: { name: 'web01' } }, { host: { name: 'db01' } }],
    feeds: [
      { correlation: 'scan', rule: 'deny', time: 5, ref: 'ev-1', event: 0, arrived: 7 },
      { correlation: 'sweep', rule: 'deny', time: 6, ref: 'ev-2', event: 1 },
    ],
  };
  const progress = { v: 2, kind: 'progress', partition: 1, newest: { '': 9, 'drill-1': 4 }, caught: false, owner: 'o-1', claim: true };
  const wrong = [undefined, null, '', 'x', -1, 1.5, 0, 3, true, [], {}, [{}]];

  /** Every message one field away from `m`: each field (at any depth) removed or set to a wrong value. */
  function variants(m: unknown): unknown[] {
    if (typeof m !== 'object' || m === null) return [];
    const out: unknown[] = [];
    for (const k of Object.keys(m)) {
      const at = (v: unknown) => (Array.isArray(m) ? m.map((x, i) => (String(i) === k ? v : x)) : { ...m, [k]: v });
      for (const v of wrong) out.push(at(v));
      if (!Array.isArray(m)) {
        const { [k]: _, ...rest } = m as Record<string, unknown>;
        out.push(rest);
      }
      for (const inner of variants((m as Record<string, unknown>)[k])) out.push(at(inner));
    }
    return out;
  }

  it('reads what the schemas read and refuses what they refuse, one field off the messages the raw stage writes', () => {
    const cases = [bundle, progress, ...variants(bundle), ...variants(progress), { e: [{}], b: [{ c: 'scan', r: 'deny', t: 1, ref: 'x', i: 0 }] }];
    expect(cases.length).toBeGreaterThan(300);
    let refused = 0;
    for (const m of cases) {
      // What goes on the wire: JSON leaves out undefined fields.
      const wire = JSON.stringify(m);
      const schema = CorrelateMessageSchema.safeParse(JSON.parse(wire));
      const read = readCorrelateMessage(wire);
      expect(read !== null, wire).toBe(schema.success);
      if (!schema.success) refused++;
      else if (schema.data.kind === 'feeds') expect(feedsOf(read as Bundle)).toEqual(feedsOf(schema.data));
      else expect(read).toMatchObject(schema.data);
    }
    expect(refused).toBeGreaterThan(cases.length / 2);
  });

  it('refuses what is not JSON', () => {
    expect(readCorrelateMessage('{"v":2,"kind":"fee')).toBeNull();
    expect(readCorrelateMessage(null)).toBeNull();
  });
});
