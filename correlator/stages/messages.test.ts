import { describe, expect, it } from 'vitest';
import { deadLetter } from './messages.ts';

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
