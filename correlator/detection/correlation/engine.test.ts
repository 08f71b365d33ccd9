import { describe, expect, it } from 'vitest';
import { context, rulesFrom } from '../testdata/build.ts';
import { CorrelationEngine, type CorrelationHit } from './engine.ts';

const BASE = `
title: deny
name: deny
id: deny-id
logsource: { category: firewall }
detection:
  sel: { event.action: deny }
  condition: sel
---
title: allow
name: allow
id: allow-id
logsource: { category: firewall }
detection:
  sel: { event.action: allow }
  condition: sel
`;

function correlation(body: string, extra = '') {
  const yaml = `title: corr\nid: corr\nlayer: 2\nlevel: high\ncorrelation:\n${body.replace(/^/gm, '  ')}\n${extra}---${BASE}`;
  const { ruleset, findings } = rulesFrom(yaml, context({ assets: [asset('web01'), asset('db01')] }));
  expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  return ruleset;
}

function asset(host: string) {
  return { host, aliases: [], unit: 'u', security_level: 3, owner: { name: 'o' } };
}

type Ev = { t: number; action?: string; src?: string; user?: string; bytes?: number; host?: string };

/** Feeds events through match + engine, in the given arrival order; returns the correlation's hits. */
function run(ruleset: ReturnType<typeof correlation>, events: Ev[], opts: { lateness?: number; flush?: boolean; advanceTo?: number } = {}) {
  const engine = new CorrelationEngine(ruleset, { allowedLatenessMs: opts.lateness ?? 0 });
  const hits: CorrelationHit[] = [];
  events.forEach((e, i) => {
    const event = {
      event: { action: e.action ?? 'deny', category: ['network'] },
      source: { ip: e.src ?? '1.1.1.1', bytes: e.bytes },
      user: { name: e.user },
      host: { name: e.host },
    };
    for (const m of ruleset.match(event)) hits.push(...engine.feed(m.rule.id, event, e.t, i));
  });
  if (opts.advanceTo !== undefined) hits.push(...engine.advance(opts.advanceTo));
  if (opts.flush) hits.push(...engine.flush());
  return { hits: hits.filter((h) => h.rule.id === 'corr'), all: hits, engine };
}

const count3 = (timespan = '10s') => correlation(`type: event_count\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: ${timespan}\ncondition: { gte: 3 }`);

describe('event_count', () => {
  it('fires when the count is reached within the timespan; exactly at the timespan is inside', () => {
    const { hits } = run(count3(), [{ t: 0 }, { t: 5000 }, { t: 10_000 }]);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ group: { src_ip: '1.1.1.1' }, refs: [0, 1, 2], windowStart: 0, windowEnd: 10_000, value: 3, eventCount: 3 });
  });
  it('one millisecond past the timespan is outside', () => {
    expect(run(count3(), [{ t: 0 }, { t: 5000 }, { t: 10_001 }]).hits).toHaveLength(0);
  });
  it('groups separately and consumes the window after a hit', () => {
    const { hits } = run(count3(), [{ t: 0 }, { t: 1, src: '2.2.2.2' }, { t: 2 }, { t: 3 }, { t: 4 }, { t: 5 }, { t: 6, src: '2.2.2.2' }]);
    expect(hits.map((h) => h.refs)).toEqual([[0, 2, 3]]);
    const more = run(
      count3(),
      [0, 1, 2, 3, 4, 5].map((t) => ({ t })),
    );
    expect(more.hits.map((h) => h.refs)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });
  it('out-of-order events within the allowed lateness give the same result as in order', () => {
    const inOrder = run(count3(), [{ t: 0 }, { t: 4000 }, { t: 9000 }, { t: 12_000 }], { lateness: 10_000, advanceTo: 20_000 });
    const shuffled = run(count3(), [{ t: 4000 }, { t: 9000 }, { t: 0 }, { t: 12_000 }], { lateness: 10_000, advanceTo: 20_000 });
    expect(inOrder.hits.map((h) => [h.windowStart, h.windowEnd])).toEqual([[0, 9000]]);
    expect(shuffled.hits.map((h) => [h.windowStart, h.windowEnd])).toEqual([[0, 9000]]);
    expect(shuffled.hits[0]!.refs).toEqual([2, 0, 1]);
  });
  it('events later than the allowed lateness are counted, not used', () => {
    const { hits, engine } = run(count3(), [{ t: 10_000 }, { t: 20_000 }, { t: 9_000 }, { t: 21_000 }], { lateness: 5000 });
    expect(engine.stats.late).toBe(1);
    expect(hits).toHaveLength(0);
  });
  it('upper bounds wait for the window to close (lt)', () => {
    const rs = correlation('type: event_count\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 10s\ncondition: { lt: 3 }');
    const open = run(rs, [{ t: 0 }, { t: 5000 }]);
    expect(open.hits).toHaveLength(0);
    const closed = run(rs, [{ t: 0 }, { t: 5000 }], { advanceTo: 10_001 });
    expect(closed.hits).toHaveLength(1);
    expect(closed.hits[0]).toMatchObject({ windowStart: 0, windowEnd: 10_000, value: 2 });
    // The watermark exactly at the window end does not close it: an event at 10000 may still come.
    expect(run(rs, [{ t: 0 }, { t: 5000 }], { advanceTo: 10_000 }).hits).toHaveLength(0);
    // Three events in [0, 10000]: that window fails, and the window slides to start at the next event.
    const slid = run(rs, [{ t: 0 }, { t: 5000 }, { t: 10_000 }], { advanceTo: 20_001 }).hits;
    expect(slid.map((h) => [h.windowStart, h.refs])).toEqual([[5000, [1, 2]]]);
  });
  it('ranges (gt + lte)', () => {
    const rs = correlation('type: event_count\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 10s\ncondition: { gt: 1, lte: 2 }');
    expect(run(rs, [{ t: 0 }, { t: 1 }], { advanceTo: 20_000 }).hits.map((h) => h.value)).toEqual([2]);
    expect(run(rs, [{ t: 0 }, { t: 1 }, { t: 2 }], { advanceTo: 20_000 }).hits.map((h) => h.refs)).toEqual([[1, 2]]);
    expect(run(rs, [{ t: 0 }, { t: 1 }, { t: 2 }, { t: 3 }], { advanceTo: 5 }).hits).toHaveLength(0);
  });
});

describe('value_count', () => {
  const rs = correlation('type: value_count\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 1m\ncondition: { field: user.name, gte: 3 }');
  it('counts distinct values', () => {
    expect(
      run(rs, [
        { t: 0, user: 'a' },
        { t: 1, user: 'a' },
        { t: 2, user: 'b' },
      ]).hits,
    ).toHaveLength(0);
    const { hits } = run(rs, [
      { t: 0, user: 'a' },
      { t: 1, user: 'a' },
      { t: 2, user: 'b' },
      { t: 60_000, user: 'c' },
    ]);
    expect(hits[0]).toMatchObject({ value: 3, refs: [0, 1, 2, 3] });
    expect(
      run(rs, [
        { t: 0, user: 'a' },
        { t: 1, user: 'b' },
        { t: 60_001, user: 'c' },
      ]).hits,
    ).toHaveLength(0);
  });
});

describe('temporal and temporal_ordered', () => {
  const temporal = correlation('type: temporal\nrules: [deny, allow]\ngroup-by: [src_ip]\ntimespan: 10s');
  const ordered = correlation('type: temporal_ordered\nrules: [deny, allow]\ngroup-by: [src_ip]\ntimespan: 10s');
  it('temporal: all rules within the timespan, any order', () => {
    expect(
      run(temporal, [
        { t: 0, action: 'allow' },
        { t: 10_000, action: 'deny' },
      ]).hits,
    ).toHaveLength(1);
    expect(
      run(temporal, [
        { t: 0, action: 'allow' },
        { t: 10_001, action: 'deny' },
      ]).hits,
    ).toHaveLength(0);
    expect(
      run(temporal, [
        { t: 0, action: 'deny' },
        { t: 1, action: 'deny' },
      ]).hits,
    ).toHaveLength(0);
  });
  it('temporal_ordered: the rules in their order', () => {
    expect(
      run(ordered, [
        { t: 0, action: 'deny' },
        { t: 10_000, action: 'allow' },
      ]).hits,
    ).toHaveLength(1);
    expect(
      run(ordered, [
        { t: 0, action: 'allow' },
        { t: 5000, action: 'deny' },
      ]).hits,
    ).toHaveLength(0);
    expect(
      run(ordered, [
        { t: 0, action: 'deny' },
        { t: 10_001, action: 'allow' },
      ]).hits,
    ).toHaveLength(0);
    // Arrival order does not matter, event time does.
    expect(
      run(
        ordered,
        [
          { t: 5000, action: 'allow' },
          { t: 0, action: 'deny' },
        ],
        { lateness: 10_000, advanceTo: 30_000 },
      ).hits,
    ).toHaveLength(1);
  });
});

describe('value aggregates', () => {
  const agg = (type: string, cond: string, extra = '') =>
    correlation(`type: ${type}\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 10s\nfield: source.bytes\ncondition: ${cond}${extra}`);
  const evs = [
    { t: 0, bytes: 100 },
    { t: 1000, bytes: 300 },
    { t: 2000, bytes: 900 },
  ];
  it('value_sum', () => {
    expect(run(agg('value_sum', '{ gte: 1300 }'), evs).hits.map((h) => h.value)).toEqual([1300]);
    expect(run(agg('value_sum', '{ gte: 1301 }'), evs).hits).toHaveLength(0);
  });
  it('value_avg', () => {
    expect(run(agg('value_avg', '{ gt: 400 }'), evs).hits.map((h) => h.value)).toEqual([1300 / 3]);
    expect(run(agg('value_avg', '{ lt: 200 }'), evs, { advanceTo: 20_000 }).hits).toHaveLength(0);
  });
  it('value_median', () => {
    expect(run(agg('value_median', '{ gte: 300 }'), evs).hits.map((h) => h.value)).toEqual([300]);
    expect(run(agg('value_median', '{ eq: 200 }'), evs.slice(0, 2), { advanceTo: 20_000 }).hits.map((h) => h.value)).toEqual([200]);
  });
  it('value_percentile', () => {
    const p90 = agg('value_percentile', '{ gte: 900 }', '\npercentile: 90');
    expect(run(p90, evs).hits.map((h) => h.value)).toEqual([900]);
    const p10 = agg('value_percentile', '{ gte: 900 }', '\npercentile: 10');
    expect(run(p10, evs, { flush: true }).hits).toHaveLength(0);
  });
  it('the window edge holds for aggregates too', () => {
    const sum = agg('value_sum', '{ gte: 400 }');
    expect(
      run(sum, [
        { t: 0, bytes: 100 },
        { t: 10_000, bytes: 300 },
      ]).hits,
    ).toHaveLength(1);
    expect(
      run(sum, [
        { t: 0, bytes: 100 },
        { t: 10_001, bytes: 300 },
      ]).hits,
    ).toHaveLength(0);
  });
});

describe('chained correlations, aliases and generate', () => {
  it('a correlation can count another correlation', () => {
    const yaml = `title: outer\nid: outer\nlayer: 3\ncorrelation:\n  type: temporal_ordered\n  rules: [many_denies, allow]\n  group-by: [src_ip]\n  timespan: 1m\n---
title: many\nid: many-id\nname: many_denies\ncorrelation:\n  type: event_count\n  rules: [deny]\n  group-by: [src_ip]\n  timespan: 10s\n  condition: { gte: 2 }\n---${BASE}`;
    const { ruleset, findings } = rulesFrom(yaml);
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(ruleset.correlationsFedBy('many-id')).toEqual(['outer']);
    expect(ruleset.correlationsFedBy('deny-id')).toEqual(['many-id']);
    const { all } = run(ruleset as never, [{ t: 0 }, { t: 1000 }, { t: 30_000, action: 'allow' }]);
    const outer = all.filter((h) => h.rule.id === 'outer');
    expect(outer).toHaveLength(1);
    expect(outer[0]!.refs).toEqual([0, 1, 2]);
    // The inner correlation only feeds the outer one: not an alert of its own.
    expect(all.find((h) => h.rule.id === 'many-id')!.alert).toBe(false);
    expect(outer[0]!.alert).toBe(true);
    expect(ruleset.match({ event: { action: 'deny', category: ['network'] } })[0]).toMatchObject({ alert: false, correlations: ['many-id'] });
  });
  it('generate: true keeps the base rules alerting', () => {
    const rs = correlation('type: event_count\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 10s\ncondition: { gte: 3 }\ngenerate: true');
    expect(rs.match({ event: { action: 'deny', category: ['network'] } })[0]!.alert).toBe(true);
    expect(rs.match({ event: { action: 'allow', category: ['network'] } })[0]).toMatchObject({ alert: true, correlations: [] });
  });
  it('aliases group by different fields of different rules', () => {
    const rs = correlation('type: temporal\nrules: [deny, allow]\ngroup-by: [ip]\ntimespan: 10s\naliases:\n  ip:\n    deny: source.ip\n    allow: user.name');
    expect(rs.groupByFor('corr')).toEqual(['ip']);
    expect(rs.groupKeyFor('corr', 'allow-id', { user: { name: '7.7.7.7' } })).toEqual({ ip: '7.7.7.7' });
    expect(
      run(rs, [
        { t: 0, src: '7.7.7.7' },
        { t: 1, action: 'allow', user: '7.7.7.7' },
      ]).hits,
    ).toHaveLength(1);
    expect(
      run(rs, [
        { t: 0, src: '7.7.7.7' },
        { t: 1, action: 'allow', user: '8.8.8.8' },
      ]).hits,
    ).toHaveLength(0);
  });
  it('an event without a group-by value is counted, not grouped', () => {
    const rs = correlation('type: event_count\nrules: [deny]\ngroup-by: [user.name]\ntimespan: 10s\ncondition: { gte: 1 }');
    const { hits, engine } = run(rs, [{ t: 0 }]);
    expect(hits).toHaveLength(0);
    expect(engine.stats.missingGroup).toBe(1);
  });
});

describe('flatline', () => {
  const rs = () => correlation('type: flatline\nrules: [deny]\ngroup-by: [host.name]\ntimespan: 1h');
  it('reports each registered host that stays silent longer than the timespan, once', () => {
    const engine = new CorrelationEngine(rs(), {});
    const ev = (host: string) => ({ event: { action: 'deny', category: ['network'] }, host: { name: host } });
    expect(engine.feed('deny-id', ev('WEB01'), 0, 'a')).toEqual([]);
    expect(engine.advance(3_600_000)).toEqual([]);
    const hits = engine.advance(3_600_001);
    expect(hits.map((h) => h.group)).toEqual([{ 'host.name': 'web01' }, { 'host.name': 'db01' }]);
    expect(hits[0]).toMatchObject({ windowStart: 0, windowEnd: 3_600_000, refs: ['a'] });
    expect(engine.advance(9_000_000)).toEqual([]);
    // Heard from again: re-armed.
    engine.feed('deny-id', ev('web01'), 9_000_000, 'b');
    expect(engine.advance(9_000_000 + 3_600_001).map((h) => h.group)).toEqual([{ 'host.name': 'web01' }]);
  });
});

describe('partitioned use', () => {
  it('feeds one named correlation only, as an instance owning its soc.correlate partition does', () => {
    const rs = rulesFrom(
      `title: a\nid: a\nlayer: 2\ncorrelation:\n  type: event_count\n  rules: [deny]\n  group-by: [src_ip]\n  timespan: 10s\n  condition: { gte: 2 }\n---\ntitle: b\nid: b\nlayer: 2\ncorrelation:\n  type: event_count\n  rules: [deny]\n  group-by: [dst_port]\n  timespan: 10s\n  condition: { gte: 2 }\n---${BASE}`,
    ).ruleset;
    expect(rs.correlationsFedBy('deny-id')).toEqual(['a', 'b']);
    expect(rs.groupByFor('b')).toEqual(['dst_port']);
    const engine = new CorrelationEngine(rs, {});
    const ev = { event: { action: 'deny' }, source: { ip: '1.1.1.1' }, destination: { port: 22 } };
    expect(engine.feed('deny-id', ev, 0, 0, 'b')).toEqual([]);
    expect(engine.feed('deny-id', ev, 1, 1, 'b').map((h) => [h.rule.id, h.group])).toEqual([['b', { dst_port: '22' }]]);
    // A correlation that does not count the rule ignores it.
    expect(engine.feed('allow-id', ev, 2, 2, 'a')).toEqual([]);
    expect(engine.stats).toMatchObject({ missingGroup: 0, late: 0, groups: 0 });
  });
});

describe('hot swap', () => {
  it('keeps the windows of unchanged correlations and drops changed ones', () => {
    const a = count3();
    const engine = new CorrelationEngine(a, {});
    const event = { event: { action: 'deny', category: ['network'] }, source: { ip: '1.1.1.1' } };
    engine.feed('deny-id', event, 0, 0);
    engine.feed('deny-id', event, 1, 1);
    engine.setRuleSet(count3());
    expect(engine.feed('deny-id', event, 2, 2)).toHaveLength(1);
    engine.feed('deny-id', event, 3, 3);
    engine.feed('deny-id', event, 4, 4);
    engine.setRuleSet(count3('20s'));
    expect(engine.feed('deny-id', event, 5, 5)).toHaveLength(0);
    expect(engine.stats.groups).toBe(1);
    engine.setRuleSet(rulesFrom(BASE).ruleset);
    expect(engine.stats.groups).toBe(0);
  });
});

describe('early firing', () => {
  const MIN = 60_000;
  const sweep = () => correlation('type: value_count\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 1m\ncondition: { field: user.name, gte: 3 }');

  /** Feeds in arrival order with early firing on, then lets the watermark pass everything. */
  function early(ruleset: ReturnType<typeof correlation>, events: Ev[], lateness = 5 * MIN) {
    const engine = new CorrelationEngine(ruleset, { allowedLatenessMs: lateness, early: true });
    const hits: CorrelationHit[] = [];
    const arrivedAt: number[] = [];
    events.forEach((e, i) => {
      const event = {
        event: { action: e.action ?? 'deny', category: ['network'] },
        source: { ip: e.src ?? '1.1.1.1', bytes: e.bytes },
        user: { name: e.user },
        host: { name: e.host },
      };
      for (const m of ruleset.match(event))
        for (const h of engine.feed(m.rule.id, event, e.t, i)) {
          hits.push(h);
          arrivedAt.push(i);
        }
    });
    hits.push(...engine.advance(Math.max(...events.map((e) => e.t)) + 60 * MIN));
    return { hits: hits.filter((h) => h.rule.id === 'corr'), arrivedAt, engine };
  }
  /** What the reference (ordered, no early firing) run reports for the same arrivals, with the watermark past everything. */
  function ordered(ruleset: ReturnType<typeof correlation>, events: Ev[]) {
    return run(ruleset, events, { lateness: 5 * MIN, advanceTo: Math.max(...events.map((e) => e.t)) + 60 * MIN }).hits;
  }
  const strip = (h: CorrelationHit) => ({ group: h.group, refs: h.refs, eventCount: h.eventCount, windowStart: h.windowStart, windowEnd: h.windowEnd });

  it('raises the hit when the crossing event arrives, not when the watermark passes it, and confirms it identically', () => {
    const { hits, arrivedAt } = early(count3('1m'), [{ t: 0 }, { t: 5000 }, { t: 9000 }, { t: 60_000 }]);
    expect(hits.map((h) => h.phase)).toEqual(['early', 'confirm']);
    // Raised on the third event's arrival, with 5 minutes of allowed lateness still ahead.
    expect(arrivedAt[0]).toBe(2);
    expect(strip(hits[0]!)).toEqual(strip(hits[1]!));
    expect(strip(hits[1]!)).toEqual({ group: { src_ip: '1.1.1.1' }, refs: [0, 1, 2], eventCount: 3, windowStart: 0, windowEnd: 9000 });
  });

  it('fires early on the arrival that completes the window, whatever order the window arrived in', () => {
    const { hits, arrivedAt } = early(count3('1m'), [{ t: 0 }, { t: 9000 }, { t: 5000 }]);
    expect(hits.map((h) => h.phase)).toEqual(['early', 'confirm']);
    expect(arrivedAt[0]).toBe(2);
    expect(hits[1]).toMatchObject({ refs: [0, 2, 1], windowEnd: 9000 });
  });

  it('retracts an early hit that an older event arriving after it makes wrong, and raises the right one', () => {
    const events = [
      { t: 0, user: 'a' },
      { t: 20_000, user: 'b' },
      { t: 40_000, user: 'c' },
      { t: 30_000, user: 'd' },
    ];
    const { hits } = early(sweep(), events);
    expect(hits.map((h) => `${h.phase}:${h.windowEnd}`)).toEqual(['early:40000', 'early:30000', 'confirm:30000', 'retract:40000']);
    // What is left once the retraction is applied is exactly the ordered evaluation.
    expect(hits.filter((h) => h.phase === 'confirm' || h.phase === 'final').map(strip)).toEqual(ordered(sweep(), events).map(strip));
  });

  it('an older event that does not change the window leaves the early hit standing', () => {
    const { hits } = early(count3('1m'), [{ t: 100_000 }, { t: 101_000 }, { t: 102_000 }, { t: 10_000 }]);
    expect(hits.map((h) => h.phase)).toEqual(['early', 'confirm']);
  });

  it('under any shuffle within the lateness, confirmed and final hits are the ordered evaluation, and each early hit is settled once', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const events: Ev[] = Array.from({ length: 30 }, (_, i) => ({
        t: i * 4000 + Math.floor(random() * 3000),
        src: `10.0.0.${Math.floor(random() * 3)}`,
        user: `u${Math.floor(random() * 5)}`,
      }));
      // Shuffled within two minutes of event time: well inside the five-minute lateness.
      const shuffled = events
        .map((e) => ({ e, k: e.t + random() * 2 * MIN }))
        .sort((a, b) => a.k - b.k)
        .map((x) => x.e);
      for (const rs of [count3('20s'), sweep()]) {
        const { hits, engine } = early(rs, shuffled);
        const settled = hits.filter((h) => h.phase === 'confirm' || h.phase === 'final').map(strip);
        expect(settled).toEqual(ordered(rs, shuffled).map(strip));
        const raised = hits.filter((h) => h.phase === 'early').map((h) => JSON.stringify(strip(h)));
        const closed = hits.filter((h) => h.phase === 'confirm' || h.phase === 'retract').map((h) => JSON.stringify(strip(h)));
        expect(new Set(raised).size).toBe(raised.length);
        expect([...closed].sort()).toEqual([...raised].sort());
        expect(engine.stats.outstanding).toBe(0);
        // In event-time order nothing is ever retracted.
        expect(early(rs, events).hits.filter((h) => h.phase === 'retract')).toEqual([]);
      }
    }
  });

  it('temporal_ordered fires early once the sequence completes', () => {
    const rs = correlation('type: temporal_ordered\nrules: [deny, allow]\ngroup-by: [src_ip]\ntimespan: 10s');
    const { hits, arrivedAt } = early(rs, [
      { t: 0, action: 'allow' },
      { t: 1000, action: 'deny' },
      { t: 2000, action: 'allow' },
    ]);
    expect(hits.map((h) => h.phase)).toEqual(['early', 'confirm']);
    expect(arrivedAt[0]).toBe(2);
  });

  it('value_sum fires early only while its values are not negative', () => {
    const sum = correlation('type: value_sum\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 10s\nfield: source.bytes\ncondition: { gte: 100 }');
    expect(
      early(sum, [
        { t: 0, bytes: 60 },
        { t: 1000, bytes: 50 },
      ]).hits.map((h) => h.phase),
    ).toEqual(['early', 'confirm']);
    expect(
      early(sum, [
        { t: 0, bytes: -10 },
        { t: 500, bytes: 60 },
        { t: 1000, bytes: 50 },
      ]).hits.map((h) => h.phase),
    ).toEqual(['final']);
  });

  it('conditions that need the whole window wait for the watermark', () => {
    const lt = correlation('type: event_count\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 10s\ncondition: { lt: 3 }');
    const avg = correlation('type: value_avg\nrules: [deny]\ngroup-by: [src_ip]\ntimespan: 10s\nfield: source.bytes\ncondition: { gte: 10 }');
    expect(early(lt, [{ t: 0 }, { t: 1000 }]).hits.map((h) => h.phase)).toEqual(['final']);
    // An average can fall as events arrive: each window is reported on the watermark only.
    expect(
      early(avg, [
        { t: 0, bytes: 20 },
        { t: 1000, bytes: 20 },
      ]).hits.map((h) => h.phase),
    ).toEqual(['final', 'final']);
  });

  it('a reload that changes the correlation retracts its outstanding early hits', () => {
    const engine = new CorrelationEngine(count3('1m'), { allowedLatenessMs: 5 * MIN, early: true });
    const rs = count3('1m');
    const raised: CorrelationHit[] = [];
    for (const [i, t] of [0, 1000, 2000].entries()) {
      const event = { event: { action: 'deny', category: ['network'] }, source: { ip: '1.1.1.1' } };
      for (const m of rs.match(event)) raised.push(...engine.feed(m.rule.id, event, t, i));
    }
    expect(raised.map((h) => h.phase)).toEqual(['early']);
    engine.setRuleSet(count3('2m'));
    expect(engine.advance(0).map((h) => h.phase)).toEqual(['retract']);
    expect(engine.stats.outstanding).toBe(0);
  });
});
