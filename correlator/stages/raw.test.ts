import { describe, expect, it, vi } from 'vitest';
import type { Batch, BusProducer } from '../../shared/bus/types.ts';
import { keyPartition } from '../../shared/bus/murmur2.ts';
import { createLogger } from '../../shared/log.ts';
import { topicNames } from '../../shared/topics.ts';
import { loadRuleSet } from '../detection/ruleset.ts';
import { correlatorMetrics } from '../metrics.ts';
import type { IncidentSink } from '../sinks/incidents.ts';
import { SCENARIO_RULES, scenarioMessages } from '../test/scenario.ts';
import { RawStage } from './raw.ts';
import { assetLookup, type CurrentRules } from './rules.ts';

const MALWARE = '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b04';
const SWEEP = '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b02';
const BRUTE = '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b03';
/** The bundled pack's port scan and sweep: both fed by denied connections, both grouped by source.ip. */
const PORT_SCAN = '3c6f0b2e-5d1a-4e8b-9f21-7a4c2d9e1b01';
const PACK_SWEEP = '3c6f0b2e-5d1a-4e8b-9f21-7a4c2d9e1b02';

function batchOf(messages: { key: string; value: string }[]): Batch {
  return {
    topic: 't.soc.raw',
    partition: 0,
    messages: messages.map((m, offset) => ({ topic: 't.soc.raw', partition: 0, offset, key: m.key, value: m.value, timestamp: 0 })),
    heartbeat: async () => undefined,
    isStale: () => false,
  };
}

function scenarioRules(): CurrentRules {
  const { ruleset } = loadRuleSet([SCENARIO_RULES]);
  return () => ruleset;
}

/** process() must not touch the bus or the sink: both throw if it does. */
function stage(rules: CurrentRules = scenarioRules(), partitionOf = (key: string, n: number) => key.length % n): RawStage {
  const untouchable = new Proxy(
    {},
    {
      get: () => () => {
        throw new Error('process() did I/O');
      },
    },
  );
  return new RawStage({
    rules,
    assets: assetLookup(rules),
    producer: untouchable as BusProducer,
    sink: untouchable as IncidentSink,
    topics: topicNames('t.'),
    correlatePartitions: 3,
    partitionOf,
    timezone: 'Asia/Ho_Chi_Minh',
    metrics: correlatorMetrics(),
    log: createLogger('raw-test', {}, 'silent'),
  });
}

describe('RawStage.process', () => {
  it('turns a batch into alerts, correlation feeds, dead letters and counts without I/O', async () => {
    const out = await stage().process(batchOf(scenarioMessages()), {});
    expect(out.deadLetters).toHaveLength(1);
    expect(JSON.parse(out.deadLetters[0]!.value).offset).toBe(5);
    // The two antivirus detections are single-event alerts of the malware rule.
    expect(out.alerts.map((a) => a.alert.rule.id)).toEqual([MALWARE, MALWARE]);
    // Nine SSH denials feed the sweep and the brute force: each event once per correlation.
    expect(out.feeds.sent).toBe(18);
    const feeds = out.feeds.messages.flatMap((m) => (JSON.parse(m.value) as { feeds: { correlation: string }[] }).feeds.map((f) => f.correlation));
    expect(feeds.filter((c) => c === SWEEP)).toHaveLength(9);
    expect(feeds.filter((c) => c === BRUTE)).toHaveLength(9);
    // The undecodable line counts at its receive time, the newest of the batch.
    expect(out.newest['']).toBe(Date.parse('2026-11-26T01:15:00.000Z'));
    expect(out.moved).toBe(true);
    expect(out.counts.missingGroup).toBe(0);
  });

  it('sends an event feeding several correlations grouped by the same values to one partition, carried once', async () => {
    const { ruleset } = loadRuleSet(['rules']);
    const denied = (i: number, source: string) => ({
      key: 'srv-01',
      value: JSON.stringify({
        v: 1,
        id: `deny/${i}`,
        host: 'srv-01',
        source: '/var/log/kern.log',
        format: 'auto',
        received: '2026-11-26T01:15:00.000Z',
        line: `<4>Nov 26 08:00:0${i} srv-01 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=${source} DST=10.0.0.5 LEN=60 PROTO=TCP SPT=4000${i} DPT=${22 + i} SYN URGP=0`,
      }),
    });
    const out = await stage(() => ruleset, keyPartition).process(batchOf([denied(0, '203.0.113.9'), denied(1, '198.51.100.77'), denied(2, '203.0.113.9')]), {});
    const bundles = out.feeds.messages.map((m) => ({
      partition: m.partition,
      ...(JSON.parse(m.value) as { events: { event: { id: string } }[]; feeds: { correlation: string; ref: string; event: number }[] }),
    }));
    const scanAndSweep = bundles.flatMap((b) =>
      b.feeds
        .filter((f) => f.correlation === PORT_SCAN || f.correlation === PACK_SWEEP)
        .map((f) => ({ partition: b.partition, ref: f.ref, carried: b.events[f.event]!.event.id })),
    );
    expect(scanAndSweep).toHaveLength(6);
    for (const ref of ['deny/0', 'deny/1', 'deny/2']) {
      const feeds = scanAndSweep.filter((f) => f.ref === ref);
      expect(feeds.map((f) => f.carried)).toEqual([ref, ref]);
      expect(new Set(feeds.map((f) => f.partition)).size).toBe(1);
    }
    // One source's events meet in one partition, and one bundle there carries each of them once for both.
    expect(scanAndSweep.find((f) => f.ref === 'deny/0')!.partition).toBe(scanAndSweep.find((f) => f.ref === 'deny/2')!.partition);
    for (const b of bundles) expect(new Set(b.events.map((e) => e.event.id)).size).toBe(b.events.length);
  });

  it('counts the lines decoded with control characters or invalid text replaced, by kind', async () => {
    const envelope = (i: number, line: string) => ({
      key: 'srv-01',
      value: JSON.stringify({ v: 1, id: `esc/${i}`, host: 'srv-01', source: '/var/log/syslog', format: 'auto', received: '2026-11-26T01:15:00.000Z', line }),
    });
    const out = await stage().process(
      batchOf([
        envelope(0, '<13>Nov 26 08:00:00 srv-01 clamd[1]: /tmp/a\u0000b.exe: Eicar-Test-Signature FOUND'),
        envelope(1, '<13>Nov 26 08:00:01 srv-01 app: half \ud800 of a pair, \u001b too'),
        envelope(2, '<13>Nov 26 08:00:02 srv-01 app: clean'),
      ]),
      {},
    );
    const metrics = correlatorMetrics();
    out.counts.escaped.addTo(metrics.escapedLines, 'kind');
    const values = (await metrics.escapedLines.get()).values.map((v) => [v.labels.kind, v.value]);
    expect(values).toEqual([
      ['control', 2],
      ['invalid_utf8', 1],
    ]);
  });

  it('reports no movement when the batch holds nothing newer than before', async () => {
    const s = stage();
    const first = await s.process(batchOf(scenarioMessages()), {});
    const again = await s.process(batchOf(scenarioMessages().slice(0, 3)), first.newest);
    expect(again.newest).toEqual(first.newest);
    expect(again.moved).toBe(false);
  });

  it('gives the event loop a turn between events once a slice is used up; the outputs are those of a batch matched at once', async () => {
    const { ruleset } = loadRuleSet([SCENARIO_RULES]);
    // Every match holds the thread 5 ms: the batch holds the loop many times longer than one slice.
    const blocker = new Int32Array(new SharedArrayBuffer(4));
    const slow = Object.create(ruleset) as typeof ruleset;
    slow.match = (event, opts) => {
      Atomics.wait(blocker, 0, 0, 5);
      return ruleset.match(event, opts);
    };
    const messages = [...scenarioMessages(), ...scenarioMessages(), ...scenarioMessages()];
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    let sliced;
    try {
      sliced = await stage(() => slow).process(batchOf(messages), {});
    } finally {
      clearInterval(timer);
    }
    expect(messages.length * 5).toBeGreaterThan(100);
    expect(turns).toBeGreaterThan(0);
    // The same batch with the rules at their own speed.
    const whole = await stage().process(batchOf(messages), {});
    expect(sliced.alerts.map((a) => a.alert.id)).toEqual(whole.alerts.map((a) => a.alert.id));
    // The feeds, in order, to the same partitions (the events differ only in their ingest time).
    const feeds = (out: typeof whole) => out.feeds.messages.map((m) => [m.partition, (JSON.parse(m.value) as { feeds: unknown[] }).feeds]);
    expect(feeds(sliced)).toEqual(feeds(whole));
    expect(sliced.newest).toEqual(whole.newest);
  });
});

describe('RawStage progress', () => {
  /** A raw message at `offset` of partition 0. */
  function at(offset: number, m: { key: string; value: string }): Batch {
    return {
      topic: 't.soc.raw',
      partition: 0,
      messages: [{ topic: 't.soc.raw', partition: 0, offset, key: m.key, value: m.value, timestamp: 0 }],
      heartbeat: async () => undefined,
      isStale: () => false,
    };
  }

  it('never reports a partition caught up while it has a batch in hand, even by end offsets read before that batch landed', async () => {
    const rules = scenarioRules();
    const sent: { topic: string; value: string }[] = [];
    const producer: BusProducer = {
      send: async (topic, messages) => void sent.push(...messages.map((m) => ({ topic, value: m.value }))),
      close: async () => undefined,
    };
    const sink = { write: async () => ({ alerts: 0, created: 0, updated: 0 }) } as unknown as IncidentSink;
    const s = new RawStage({
      rules,
      assets: assetLookup(rules),
      producer,
      sink,
      topics: topicNames('t.'),
      correlatePartitions: 1,
      partitionOf: () => 0,
      timezone: 'Asia/Ho_Chi_Minh',
      metrics: correlatorMetrics(),
      log: createLogger('raw-test', {}, 'silent'),
    });
    // The timer's snapshot reads the end offsets first: here, before the second line reached the partition.
    let staleEnds!: (ends: Map<number, number>) => void;
    const ends = [new Map([[0, 1]]), new Promise<Map<number, number>>((r) => (staleEnds = r))];
    const consumer = { committed: async () => -1, endOffsets: async () => ends.shift() ?? new Map([[0, 2]]) };
    await s.assigned([{ topic: 't.soc.raw', partition: 0 }]);
    const [first, , , second] = scenarioMessages().filter((m) => m.key === 'srv-01');
    await s.handle(at(0, first!), consumer);
    const timer = s.reportProgress(consumer);
    const handled = s.handle(at(1, second!), consumer);
    // The second line's feeds go out at once; its own progress waits for the timer's turn.
    await vi.waitFor(() => expect(sent.filter((m) => m.value.includes('"kind":"feeds"'))).toHaveLength(2));
    staleEnds(new Map([[0, 1]]));
    await Promise.all([timer, handled]);
    const afterFeeds = sent.slice(sent.findLastIndex((m) => m.value.includes('"kind":"feeds"')) + 1);
    const reports = afterFeeds.map((m) => JSON.parse(m.value) as { caught: boolean; newest: Record<string, number> });
    // The timer's report, then the second batch's own: neither says the partition was read to the end.
    expect(reports).toHaveLength(2);
    expect(reports.map((r) => r.caught)).toEqual([false, false]);
    // Once the batch is done, the next report says so.
    await s.reportProgress(consumer);
    expect((JSON.parse(sent.at(-1)!.value) as { caught: boolean }).caught).toBe(true);
  });
});
