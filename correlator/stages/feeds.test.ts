import { describe, expect, it } from 'vitest';
import { CorrelationEngine, type CorrelationHit } from '../detection/correlation/engine.ts';
import { context, rulesFrom } from '../detection/testdata/build.ts';
import { BatchFeeds, bundleFeeds, thinFlatline } from './feeds.ts';
import { CorrelateMessageSchema, feedsOf, type CorrelateEvent } from './messages.ts';

const SPAN = 60_000;
const RULES = `title: silent
id: silent
layer: 3
level: medium
correlation:
  type: flatline
  rules: [seen]
  group-by: [host.name]
  timespan: 1m
---
title: seen
name: seen
id: seen-id
logsource: { category: firewall }
detection:
  sel: { event.action: deny }
  condition: sel
`;
const asset = (host: string) => ({ host, aliases: [], unit: 'u', security_level: 3, owner: { name: 'o' } });
const HOSTS = ['web01', 'db01', 'mail01'];

/** A deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function item(host: string, t: number, ref: string): CorrelateEvent {
  return { c: 'silent', r: 'seen-id', t, ref, e: { event: { action: 'deny', category: ['network'] }, host: { name: host } } };
}

/** Batches in arrival order, each followed by a watermark move, as the correlate stage sees them. */
function replay(batches: CorrelateEvent[][], marks: number[]): string[] {
  const { ruleset } = rulesFrom(RULES, context({ assets: HOSTS.map(asset) }));
  const engine = new CorrelationEngine(ruleset, { allowedLatenessMs: Infinity });
  const hits: CorrelationHit[] = [];
  batches.forEach((batch, i) => {
    for (const e of batch) hits.push(...engine.feed(e.r, e.e, e.t, e.ref, e.c));
    hits.push(...engine.advance(marks[i]!));
  });
  return hits.map((h) => `${h.group['host.name']} ${h.windowStart}-${h.windowEnd} ${h.refs.join('|')}`);
}

describe('thinFlatline', () => {
  it('keeps the first, the last, and no gap between kept events longer than the timespan', () => {
    const times = [0, 10, 20, 50_000, 70_000, 125_000, 130_000, 131_000];
    const kept = thinFlatline(
      times.map((t) => item('web01', t, String(t))),
      SPAN,
    ).map((i) => i.t);
    expect(kept).toEqual([0, 50_000, 70_000, 130_000, 131_000]);
    for (let i = 1; i < kept.length; i++) expect(kept[i]! - kept[i - 1]!).toBeLessThanOrEqual(SPAN);
    // Out of order: the first to come stays, and the kept ones keep their order.
    const shuffled = [20, 0, 131_000, 10, 50_000].map((t) => item('web01', t, String(t)));
    expect(thinFlatline(shuffled, SPAN).map((i) => i.t)).toEqual([20, 0, 131_000, 50_000]);
  });

  it('yields the same flatline alerts as the whole feed, however the input is cut into batches', () => {
    let silences = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = random(seed);
      // Bursty traffic with silences around the timespan, slightly out of order.
      const events: CorrelateEvent[] = [];
      let t = 0;
      for (let n = 0; n < 120; n++) {
        t += rnd() < 0.08 ? Math.floor(rnd() * 2.5 * SPAN) : Math.floor(rnd() * 5000);
        const host = HOSTS[Math.floor(rnd() * HOSTS.length)]!;
        events.push(item(host, Math.max(0, t - Math.floor(rnd() * 3000)), `r${n}`));
      }
      const batches: CorrelateEvent[][] = [];
      for (let i = 0; i < events.length; ) {
        const size = 1 + Math.floor(rnd() * 30);
        batches.push(events.slice(i, i + size));
        i += size;
      }
      // Watermarks only move forward, sometimes far behind the input, sometimes past it.
      let mark = 0;
      const marks = batches.map((b) => (mark = Math.max(mark, Math.max(...b.map((e) => e.t)) - Math.floor(rnd() * 2 * SPAN))));
      marks[marks.length - 1] = t + 3 * SPAN;
      const thinned = batches.map((b) => {
        const kept = new Set(
          HOSTS.flatMap((h) =>
            thinFlatline(
              b.filter((e) => (e.e.host as { name: string }).name === h),
              SPAN,
            ),
          ),
        );
        return b.filter((e) => kept.has(e));
      });
      const whole = replay(batches, marks);
      expect(replay(thinned, marks), `seed ${seed}`).toEqual(whole);
      silences += whole.length;
    }
    // The property is only worth something if silences were actually found.
    expect(silences).toBeGreaterThan(200);
  });
});

describe('bundleFeeds', () => {
  it('packs each partition into messages that keep the read order and stay under the size limit', () => {
    const big = 'x'.repeat(40_000);
    const byPartition = new Map<number, CorrelateEvent[]>([
      [0, Array.from({ length: 20 }, (_, i) => ({ ...item('web01', i, `a${i}`), e: { message: big } }))],
      [2, [item('db01', 5, 'b0'), item('db01', 3, 'b1')]],
    ]);
    const { messages: out, oversize } = bundleFeeds(byPartition);
    expect(oversize).toEqual([]);
    const refs = new Map<number, string[]>();
    for (const m of out) {
      expect(m.value.length).toBeLessThan(300 * 1024);
      const parsed = CorrelateMessageSchema.parse(JSON.parse(m.value));
      if (parsed.kind !== 'feeds') throw new Error('not a bundle');
      refs.set(m.partition!, [...(refs.get(m.partition!) ?? []), ...parsed.feeds.map((b) => b.ref)]);
      expect(m.timestamp).toBe(Math.max(...parsed.feeds.map((b) => b.time)));
    }
    expect(out.filter((m) => m.partition === 0).length).toBeGreaterThan(1);
    expect(out.filter((m) => m.partition === 2)).toHaveLength(1);
    expect(refs.get(0)).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
    expect(refs.get(2)).toEqual(['b0', 'b1']);
    expect(bundleFeeds(new Map())).toEqual({ messages: [], oversize: [] });
  });

  it('carries an event that feeds several correlations once per bundle', () => {
    const event = { event: { action: 'deny', original: 'x'.repeat(1000) }, source: { ip: '203.0.113.9' } };
    const scan = { c: 'port-scan', r: 'deny-id', t: 5, ref: 'ev-1', e: event };
    const sweep = { ...scan, c: 'sweep' };
    const { messages } = bundleFeeds(new Map([[0, [scan, sweep, item('web01', 6, 'other')]]]));
    expect(messages).toHaveLength(1);
    const parsed = CorrelateMessageSchema.parse(JSON.parse(messages[0]!.value));
    if (parsed.kind !== 'feeds') throw new Error('not a bundle');
    expect(parsed.events).toHaveLength(2);
    expect(feedsOf(parsed)).toEqual([scan, sweep, item('web01', 6, 'other')]);
    const feed = { correlation: 'sweep', rule: 'deny-id', time: 5, ref: 'ev-1' };
    expect(CorrelateMessageSchema.safeParse({ v: 2, kind: 'feeds', events: ['not an event'], feeds: [{ ...feed, event: 0 }] }).success).toBe(false);
    // A bundle naming an event it does not carry is refused as a whole.
    expect(CorrelateMessageSchema.safeParse({ v: 2, kind: 'feeds', events: [event], feeds: [{ ...feed, event: 1 }] }).success).toBe(false);
  });

  it('still reads version 1 bundles and progress (one-letter keys), as messages in flight during an upgrade', () => {
    const event = { event: { action: 'deny' }, source: { ip: '203.0.113.9' } };
    const old = CorrelateMessageSchema.parse({ e: [event], b: [{ c: 'sweep', r: 'deny-id', t: 5, ref: 'ev-1', i: 0 }] });
    if (old.kind !== 'feeds') throw new Error('not a bundle');
    expect(feedsOf(old)).toEqual([{ c: 'sweep', r: 'deny-id', t: 5, ref: 'ev-1', e: event }]);
    expect(CorrelateMessageSchema.parse({ p: 2, w: { '': 7 }, caught: true })).toEqual({
      v: 2,
      kind: 'progress',
      partition: 2,
      newest: { '': 7 },
      caught: true,
      owner: 'v1',
      claim: false,
    });
    expect(CorrelateMessageSchema.safeParse({ e: [event], b: [{ c: 'sweep', r: 'deny-id', t: 5, ref: 'ev-1', i: 1 }] }).success).toBe(false);
  });

  it('sends a huge event with the start of its original line, and sets apart one that cannot fit at all', () => {
    const huge = { ...item('web01', 1, 'huge'), e: { event: { original: 'A'.repeat(900_000) }, host: { name: 'web01' } } };
    const hopeless = { ...item('web01', 2, 'hopeless'), e: { message: 'B'.repeat(900_000) } };
    const { messages, oversize } = bundleFeeds(new Map([[1, [huge, hopeless, item('web01', 3, 'small')]]]));
    expect(oversize.map((i) => i.ref)).toEqual(['hopeless']);
    const sent = messages.flatMap((m) => {
      const parsed = CorrelateMessageSchema.parse(JSON.parse(m.value));
      return parsed.kind === 'feeds' ? feedsOf(parsed) : [];
    });
    expect(sent.map((i) => i.ref)).toEqual(['huge', 'small']);
    const trimmed = sent[0]!.e as { event: { original: string }; labels: { original_truncated: string }; host: { name: string } };
    expect(trimmed.event.original).toBe('A'.repeat(8192));
    expect(trimmed.labels.original_truncated).toBe('feed keeps 8192 of 900000');
    expect(trimmed.host.name).toBe('web01');
    for (const m of messages) expect(m.value.length).toBeLessThan(300 * 1024);
  });
});

describe('BatchFeeds', () => {
  it('sends each partition its feeds in read order, flatlines thinned, and counts what it did', () => {
    const feeds = new BatchFeeds((key) => (key.startsWith('scan') ? 1 : 0));
    const scan = (ref: string, t: number) => ({ ...item('web01', t, ref), c: 'scan' });
    // A server heard from every second for ten minutes, and a scan in between.
    for (let s = 0; s < 600; s++) {
      feeds.add('silent\u0000web01', 'web01', item('web01', s * 1000, `tel-${s}`), SPAN);
      if (s % 100 === 50) feeds.add('scan\u0000203.0.113.9', 'scan\u0000203.0.113.9', scan(`scan-${s}`, s * 1000));
    }
    const { messages, sent, thinned, oversize } = feeds.bundle();
    const by = new Map<number, string[]>();
    for (const m of messages) {
      const parsed = CorrelateMessageSchema.parse(JSON.parse(m.value));
      if (parsed.kind === 'feeds') by.set(m.partition!, [...(by.get(m.partition!) ?? []), ...parsed.feeds.map((b) => b.ref)]);
    }
    expect(by.get(1)).toEqual(['scan-50', 'scan-150', 'scan-250', 'scan-350', 'scan-450', 'scan-550']);
    const telemetry = by.get(0)!;
    // First and last, and no gap over the one-minute timespan: one per minute or so, in read order.
    expect(telemetry[0]).toBe('tel-0');
    expect(telemetry.at(-1)).toBe('tel-599');
    expect(telemetry.length).toBeLessThan(20);
    const seconds = telemetry.map((r) => Number(r.slice(4)));
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
    for (let i = 1; i < seconds.length; i++) expect((seconds[i]! - seconds[i - 1]!) * 1000).toBeLessThanOrEqual(SPAN);
    expect({ sent, thinned, oversize }).toEqual({ sent: 6 + telemetry.length, thinned: 600 - telemetry.length, oversize: [] });
  });
});
