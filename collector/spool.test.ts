import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, type SpooledRecord } from './spool.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'canhgac-spool-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function recs(from: number, n: number, pad = ''): SpooledRecord[] {
  return Array.from({ length: n }, (_, i) => ({ key: 'host-a', source: 'src', value: `{"n":${from + i},"text":"é ${pad}"}` }));
}

describe('Spool', () => {
  it('reads back in order, acknowledges, and keeps unacknowledged records across a reopen', () => {
    const dir = tempDir();
    const s = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(s.empty).toBe(true);
    s.append(recs(0, 10));
    s.append(recs(10, 5));
    expect(s.empty).toBe(false);
    const first = s.read(4, 1 << 20);
    expect(first.records.map((r) => JSON.parse(r.value).n)).toEqual([0, 1, 2, 3]);
    expect(first.records[0]).toEqual({ key: 'host-a', source: 'src', value: '{"n":0,"text":"é "}' });
    s.ack(first.end);
    const second = s.read(3, 1 << 20);
    expect(second.records.map((r) => JSON.parse(r.value).n)).toEqual([4, 5, 6]);
    // Not acknowledged: a new process starts again from record 4.
    s.close();
    const again = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    const all = again.read(100, 1 << 20);
    expect(all.records.map((r) => JSON.parse(r.value).n)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    again.ack(all.end);
    expect(again.empty).toBe(true);
    expect(again.bytes).toBe(0);
    again.close();
  });

  it('rewinds to the first unacknowledged record after a failed send', () => {
    const s = Spool.open(tempDir(), { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    s.append(recs(0, 6));
    s.ack(s.read(2, 1 << 20).end);
    expect(s.read(2, 1 << 20).records.map((r) => JSON.parse(r.value).n)).toEqual([2, 3]);
    s.rewind();
    expect(s.read(10, 1 << 20).records.map((r) => JSON.parse(r.value).n)).toEqual([2, 3, 4, 5]);
    s.close();
  });

  it('rolls segments, deletes the acknowledged ones and reports its size against the bound', () => {
    const dir = tempDir();
    const s = Spool.open(dir, { maxBytes: 4000, segmentBytes: 1000 });
    s.append(recs(0, 40, 'x'.repeat(60)));
    expect(s.full).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(3);
    const got: number[] = [];
    for (;;) {
      const b = s.read(7, 1 << 20);
      if (b.records.length === 0) break;
      got.push(...b.records.map((r) => JSON.parse(r.value).n));
      s.ack(b.end);
    }
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(s.empty).toBe(true);
    expect(s.full).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBe(1);
    s.close();
  });

  it('reads a record larger than one read chunk', () => {
    const s = Spool.open(tempDir(), { maxBytes: 1 << 30, segmentBytes: 1 << 30 });
    const big = 'y'.repeat(1_500_000);
    s.append([{ key: 'k', source: 's', value: big }, ...recs(1, 2)]);
    const b = s.read(10, 1 << 30);
    expect(b.records.map((r) => r.value.length)).toEqual([big.length, 19, 19]);
    s.close();
  });

  it('drops a record half-written by a crash at the end of the last segment', () => {
    const dir = tempDir();
    const s = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    s.append(recs(0, 3));
    s.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
    // A header announcing 100 value bytes, followed by only 3 of them.
    const header = Buffer.alloc(12);
    header.writeUInt32BE(1, 0);
    header.writeUInt32BE(1, 4);
    header.writeUInt32BE(100, 8);
    appendFileSync(join(dir, seg), Buffer.concat([header, Buffer.from('kseee')]));
    const again = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(again.read(10, 1 << 20).records.map((r) => JSON.parse(r.value).n)).toEqual([0, 1, 2]);
    again.append(recs(3, 1));
    expect(again.read(10, 1 << 20).records.map((r) => JSON.parse(r.value).n)).toEqual([3]);
    again.close();
  });
});
