import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import type { Batch } from '../../shared/bus/types.ts';
import { createLogger } from '../../shared/log.ts';
import { topicNames } from '../../shared/topics.ts';
import { decodeLine } from '../decoders/index.ts';
import { loadRuleSet } from '../detection/ruleset.ts';
import { correlatorMetrics } from '../metrics.ts';
import type { IncidentSink, PendingAlert } from '../sinks/incidents.ts';
import { SCENARIO_RULES } from '../test/scenario.ts';
import { CorrelateStage } from './correlate.ts';
import { bundleFeeds } from './feeds.ts';
import type { CorrelateEvent } from './messages.ts';
import { assetLookup } from './rules.ts';

const topics = topicNames('t.');

/** Raw partition `partition`'s progress as its owner `owner` reports it. */
function progressOf(newest: number, o: { partition?: number; owner?: string; caught?: boolean; claim?: boolean } = {}): string {
  return JSON.stringify({
    v: 2,
    kind: 'progress',
    partition: o.partition ?? 0,
    newest: { '': newest },
    caught: o.caught ?? true,
    owner: o.owner ?? 'owner-a',
    claim: o.claim ?? false,
  });
}
const PROBE = '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b02';

/** A sink that refuses the first `failures` writes, as Elasticsearch does while it is down. */
function flakySink(failures: number) {
  const written: PendingAlert[][] = [];
  let left = failures;
  const sink = {
    async write(alerts: PendingAlert[]) {
      if (!alerts.length) return { alerts: 0, created: 0, updated: 0 };
      if (left-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:9200');
      written.push([...alerts]);
      return { alerts: alerts.length, created: 0, updated: 0 };
    },
  };
  return { sink: sink as unknown as IncidentSink, written };
}

/** A stage as the correlator runs it; `earlyFiring: false` leaves every window to the watermark and the timer. */
async function stageWith(sink: IncidentSink, earlyFiring = false, metrics = correlatorMetrics(), rawPartitions = 1) {
  const { ruleset } = loadRuleSet([SCENARIO_RULES]);
  const rules = () => ruleset;
  const bus = new MemoryBus(1);
  const stage = new CorrelateStage({
    rules,
    assets: assetLookup(rules),
    producer: await bus.producer(),
    sink,
    topics,
    partitions: 1,
    rawPartitions,
    partitionOf: () => 0,
    allowedLatenessMs: 5 * 60_000,
    eventsPerAlert: 10,
    earlyFiring,
    metrics,
    log: createLogger('correlate-test', {}, 'silent'),
  });
  stage.reset([{ topic: topics.correlate, partition: 0 }]);
  return stage;
}

/** One source probing SSH on three servers within a minute, historic traffic. */
function probeFeeds(): CorrelateEvent[] {
  return ['srv-01', 'srv-02', 'srv-03'].map((host, i) => {
    const line = `<4>Nov 26 08:00:${10 + i * 10} ${host} kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.1${i} LEN=60 PROTO=TCP SPT=4000${i} DPT=22 SYN URGP=0`;
    const e = decodeLine(line, { received: new Date('2026-11-26T01:30:00Z') });
    return { c: PROBE, r: '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b01', t: Date.parse(e['@timestamp']), ref: `ev-${i}`, e: e as Record<string, unknown> };
  });
}

function batchOf(values: string[], from = 0): Batch {
  return {
    topic: topics.correlate,
    partition: 0,
    messages: values.map((value, i) => ({ topic: topics.correlate, partition: 0, offset: from + i, key: null, value, timestamp: 0 })),
    heartbeat: async () => undefined,
    isStale: () => false,
  };
}

describe('CorrelateStage timer', () => {
  it('keeps the alerts of windows it closed while the sink was down, and writes them once it is back', async () => {
    const { sink, written } = flakySink(2);
    const stage = await stageWith(sink);
    const feeds = probeFeeds();
    const bundle = bundleFeeds(new Map([[0, feeds]])).messages[0]!.value;
    const progress = progressOf(Math.max(...feeds.map((f) => f.t)));
    // Read to the end: the window waits for the timer (historic input, quiet).
    await stage.handle(batchOf([bundle, progress]));
    expect(written).toEqual([]);
    const now = Date.now() + 10_000;
    await stage.tick(now, 0);
    await stage.tick(now, 0);
    expect(written).toEqual([]);
    // The window will not fire again; the third try reaches the sink with its alert.
    await stage.tick(now, 0);
    expect(written.map((w) => w.map((p) => [p.alert.rule.id, p.alert.group_key, p.alert.event_count]))).toEqual([[[PROBE, 'source.ip=203.0.113.7', 3]]]);
    await stage.tick(now, 0);
    expect(written).toHaveLength(1);
  });

  it('hands alerts the timer could not write to the next batch of the partition, ahead of its own', async () => {
    const { sink, written } = flakySink(1);
    const stage = await stageWith(sink);
    const feeds = probeFeeds();
    await stage.handle(batchOf([bundleFeeds(new Map([[0, feeds]])).messages[0]!.value, progressOf(feeds[2]!.t)]));
    await stage.tick(Date.now() + 10_000, 0);
    expect(written).toEqual([]);
    await stage.handle(batchOf([progressOf(feeds[2]!.t + 1)], 2));
    expect(written.flat().map((p) => p.alert.group_key)).toEqual(['source.ip=203.0.113.7']);
  });
  it("keeps the batch's member alive in its group while a batch waits for the timer's write of its partition", async () => {
    let release!: () => void;
    const hanging = new Promise<void>((r) => (release = r));
    let writes = 0;
    // The timer's write hangs, as one to an Elasticsearch going down does; the batch's own write goes through.
    const sink = {
      async write(alerts: PendingAlert[]) {
        if (alerts.length && writes++ === 0) await hanging;
        return { alerts: alerts.length, created: 0, updated: 0 };
      },
    } as unknown as IncidentSink;
    const stage = await stageWith(sink);
    const feeds = probeFeeds();
    await stage.handle(batchOf([bundleFeeds(new Map([[0, feeds]])).messages[0]!.value, progressOf(feeds[2]!.t)]));
    const tick = stage.tick(Date.now() + 10_000, 0);
    let beats = 0;
    const batch = { ...batchOf([progressOf(feeds[2]!.t + 1)], 2), heartbeat: async () => void beats++ };
    let handled = false;
    const handling = stage.handle(batch).then(() => (handled = true));
    await new Promise((r) => setTimeout(r, 2300));
    expect(handled).toBe(false);
    expect(beats).toBeGreaterThanOrEqual(2);
    release();
    await Promise.all([tick, handling]);
    const after = beats;
    await new Promise((r) => setTimeout(r, 1100));
    expect(beats).toBe(after);
  });
});

describe('CorrelateStage watermark', () => {
  it('closes windows only up to the newest time the raw partitions reported, not to feeds that overtook a stale report', async () => {
    const { sink, written } = flakySink(0);
    const stage = await stageWith(sink, false, correlatorMetrics(), 2);
    const [a, b, c] = probeFeeds();
    const bundle = (items: CorrelateEvent[]) => bundleFeeds(new Map([[0, items]])).messages[0]!.value;
    const before = a!.t - 60 * 60_000;
    const report = (partition: number, newest: number) => progressOf(newest, { partition });
    // Both raw partitions read an earlier hour. Then raw partition 0's newest line arrives, ahead of a
    // report of both as read to the end, taken before either had its new lines (raw.ts, `inHand`).
    await stage.handle(batchOf([report(0, before), report(1, before)]));
    await stage.handle(batchOf([bundle([c!]), report(0, before), report(1, before)], 2));
    await stage.tick(Date.now() + 10_000, 0);
    // Raw partition 1's lines come after: older than partition 0's, newer than anything reported.
    await stage.handle(batchOf([bundle([a!, b!]), report(0, c!.t), report(1, b!.t)], 5));
    await stage.tick(Date.now() + 10_000, 0);
    expect(written.flat().map((p) => [p.alert.rule.id, p.alert.event_count])).toEqual([[PROBE, 3]]);
  });
});

describe('CorrelateStage memory', () => {
  it('forgets events the watermark left behind whatever order they came in, not only from the front', async () => {
    const { sink } = flakySink(0);
    const metrics = correlatorMetrics();
    const stage = await stageWith(sink, false, metrics);
    const [recent, ...rest] = probeFeeds();
    const day = 24 * 60 * 60_000;
    // One recent event first, then a day-old backlog behind it (a flood of old lines, a collector catching up).
    const old = rest.map((f, i) => ({ ...f, t: f.t - day, ref: `old-${i}` }));
    const bundles = [recent!, ...old].map((f) => bundleFeeds(new Map([[0, [f]]])).messages[0]!.value);
    const held = async () => (await metrics.windowEvents.get()).values.find((v) => v.labels.partition === '0')?.value;
    const commit = await stage.handle(batchOf([...bundles, progressOf(recent!.t)]));
    // The recent event's window may still need it; the day-old ones no window can reach any more.
    expect(await held()).toBe(1);
    expect(commit).toBe(0);
    await stage.handle(batchOf([progressOf(recent!.t + day)], bundles.length + 1));
    expect(await held()).toBe(0);
  });
});

describe('CorrelateStage early firing and progress owners', () => {
  it('raises a correlation on the arrival of the event that completes it, and confirms it once the watermark passes', async () => {
    const { sink, written } = flakySink(0);
    const stage = await stageWith(sink, true);
    const feeds = probeFeeds();
    // No progress at all yet: the watermark cannot have passed anything.
    await stage.handle(batchOf([bundleFeeds(new Map([[0, feeds]])).messages[0]!.value]));
    expect(written.flat().map((p) => [p.phase, p.alert.event_count])).toEqual([['early', 3]]);
    await stage.handle(batchOf([progressOf(feeds[2]!.t + 10 * 60_000)], 1));
    const [early, confirm] = written.flat();
    expect(confirm!.phase).toBe('confirm');
    expect(confirm!.alert.id).toBe(early!.alert.id);
    expect({ ...confirm!.alert, incident_id: '' }).toEqual({ ...early!.alert, incident_id: '' });
  });

  it('ignores a previous owner\'s "caught up" after the new owner claimed the raw partition', async () => {
    const { sink, written } = flakySink(0);
    const stage = await stageWith(sink);
    const feeds = probeFeeds();
    const end = feeds[2]!.t;
    // Owner a reported, then partition 0 moved to owner b, which claims it before reading anything.
    await stage.handle(
      batchOf([
        progressOf(end - 60 * 60_000, { owner: 'a' }),
        progressOf(0, { owner: 'b', claim: true, caught: false }),
        bundleFeeds(new Map([[0, feeds]])).messages[0]!.value,
      ]),
    );
    // A report of owner a still in flight: far ahead and caught up. It must not close the window.
    await stage.handle(batchOf([progressOf(end + 60 * 60_000, { owner: 'a' })], 3));
    expect(written).toEqual([]);
    // Owner b's own report does.
    await stage.handle(batchOf([progressOf(end + 60 * 60_000, { owner: 'b' })], 4));
    expect(written.flat().map((p) => p.alert.event_count)).toEqual([3]);
  });
});
