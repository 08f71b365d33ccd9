import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartition, murmur2 } from './murmur2.ts';

function metadata(n: number) {
  return Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
}

/** Deterministic keys of every length 0-80: ASCII, Vietnamese, emoji, and correlate keys as the raw stage builds them. */
function keys(): string[] {
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const alphabet = ['a', 'Z', '0', '.', '|', ' ', 'ế', 'Đ', 'ư', '🔥', '\u0000', '\u07ff', '\uffff'];
  const out = ['', 'a', '21', 'srv-01', '9a1d4f1e|198.18.0.1', 'máy-chủ-ủy-ban'];
  for (let i = 0; i < 20_000; i++) {
    const len = next() % 81;
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[next() % alphabet.length];
    out.push(s);
  }
  return out;
}

describe('murmur2 key partition', () => {
  it("gives every key the partition kafkajs's DefaultPartitioner gives it, for 1, 3, 7 and 12 partitions", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const wrong: string[] = [];
    for (const n of [1, 3, 7, 12]) {
      const partitionMetadata = metadata(n);
      for (const key of keys()) {
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        if (keyPartition(key, n) !== expected) wrong.push(`${JSON.stringify(key)} on ${n}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("matches the Java client's hash of a known key", () => {
    // Apache Kafka's UtilsTest: murmur2("21".getBytes()) == -973932308.
    expect(murmur2('21')).toBe(-973932308);
  });

  it('hashes a key longer than its scratch buffer', () => {
    const long = 'x'.repeat(10_000);
    const partitioner = Partitioners.DefaultPartitioner();
    expect(keyPartition(long, 5)).toBe(partitioner({ topic: 't', partitionMetadata: metadata(5), message: { key: long, value: null } }));
  });
});
