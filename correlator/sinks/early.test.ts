import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import { IncidentChangeSchema, type Incident } from '../../shared/incident.ts';
import { createLogger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { DEFAULT_POLICY } from '../incidents/grouping.ts';
import { escalated } from '../operations/escalation.ts';
import { IncidentSink, type AlertPhase, type PendingAlert } from './incidents.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A sink on the embedded store and the in-memory bus, with a clock the test moves. */
async function sinkAt(start: string) {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-early-'));
  dirs.push(dir);
  const store = new EmbeddedIncidentStore(dir);
  await store.init();
  const bus = new MemoryBus(1);
  let now = new Date(start);
  const sink = new IncidentSink(store, await bus.producer(), 'soc.incidents', DEFAULT_POLICY, createLogger('early-test', {}, 'silent'), () => now);
  const changes = async () =>
    bus
      .partitionsOf('soc.incidents')
      .flat()
      .map((m) => IncidentChangeSchema.parse(JSON.parse(m.value!)));
  return { store, sink, changes, set: (t: string) => void (now = new Date(t)) };
}

function alert(id: string, end: string, phase?: AlertPhase, offset = 1): PendingAlert {
  return {
    alert: {
      id,
      '@timestamp': end,
      rule: { id: 'r-brute', title: 'SSH brute force', level: 'medium', layer: 2 },
      group: { 'source.ip': '198.51.100.9' },
      group_key: 'source.ip=198.51.100.9',
      incident_id: '',
      severity: 'medium',
      host: ['srv-01'],
      unit: null,
      drill: null,
      event_count: 5,
      event_ids: [],
      events: [],
      window: { start: end, end },
    },
    response: { escalateAfterMs: 15 * 60_000 },
    position: { stream: 'soc.correlate/0', offset },
    ...(phase ? { phase } : {}),
  };
}

/** What must be the same as the ordered run's: everything but the bookkeeping of versions and the timeline. */
const content = ({ version: _v, updated_at: _u, timeline: _t, ...rest }: Incident) => rest;

describe('IncidentSink with early alerts', () => {
  it('shows an early alert at once and ends, once confirmed, exactly as the ordered run writes the incident', async () => {
    const early = await sinkAt('2026-11-26T10:00:00Z');
    await early.sink.write([alert('a1', '2026-11-26T09:55:00.000Z', 'early')]);
    const shown = (await early.store.searchIncidents({})).incidents;
    expect(shown).toHaveLength(1);
    expect(shown[0]!.provisional?.alerts.map((p) => p.alert.id)).toEqual(['a1']);
    expect((await early.changes()).map((c) => c.type)).toEqual(['created']);
    early.set('2026-11-26T10:05:00Z');
    await early.sink.write([alert('a1', '2026-11-26T09:55:00.000Z', 'confirm', 9)]);

    const ordered = await sinkAt('2026-11-26T10:00:00Z');
    await ordered.sink.write([alert('a1', '2026-11-26T09:55:00.000Z', undefined, 9)]);
    const [mine] = (await early.store.searchIncidents({})).incidents;
    const [reference] = (await ordered.store.searchIncidents({})).incidents;
    expect(mine!.provisional).toBeUndefined();
    expect(content(mine!)).toEqual(content(reference!));
    expect(mine!.alert_count).toBe(1);
  });

  it('counts an early alert raised again after a restart once', async () => {
    const s = await sinkAt('2026-11-26T10:00:00Z');
    await s.sink.write([alert('a1', '2026-11-26T09:55:00.000Z', 'early')]);
    const restarted = new IncidentSink(
      s.store,
      await new MemoryBus(1).producer(),
      'soc.incidents',
      DEFAULT_POLICY,
      createLogger('early-test', {}, 'silent'),
      () => new Date('2026-11-26T10:01:00Z'),
    );
    await restarted.write([alert('a1', '2026-11-26T09:55:00.000Z', 'early')]);
    await restarted.write([alert('a1', '2026-11-26T09:55:00.000Z', 'confirm', 9)]);
    const [i] = (await s.store.searchIncidents({})).incidents;
    expect(i).toMatchObject({ alert_count: 1, ack_due: '2026-11-26T10:15:00.000Z' });
  });

  it('retracts an early alert the ordered run did not confirm: its incident is withdrawn, visibly, and the right one raised', async () => {
    const s = await sinkAt('2026-11-26T10:00:00Z');
    await s.sink.write([alert('wrong', '2026-11-26T09:56:00.000Z', 'early')]);
    const raised = (await s.store.searchIncidents({})).incidents[0]!;
    s.set('2026-11-26T10:05:00Z');
    await s.sink.write([alert('right', '2026-11-26T09:55:30.000Z', undefined, 9), alert('wrong', '2026-11-26T09:56:00.000Z', 'retract', 9)]);
    const all = (await s.store.searchIncidents({})).incidents;
    const withdrawn = all.find((i) => i.id === raised.id)!;
    expect(withdrawn.withdrawn?.reason).toMatch(/did not confirm/);
    expect(withdrawn.status).toBe('false_positive');
    expect(withdrawn.timeline.at(-1)).toMatchObject({ actor: 'canhgac', action: 'withdraw' });
    const live = all.filter((i) => !i.withdrawn);
    const reference = await sinkAt('2026-11-26T10:05:00Z');
    await reference.sink.write([alert('right', '2026-11-26T09:55:30.000Z', undefined, 9)]);
    expect(live.map(content)).toEqual((await reference.store.searchIncidents({})).incidents.map(content));
    const [retracted] = await s.store.alertsOf(raised.id);
    expect(retracted).toMatchObject({ id: 'wrong', retracted: { reason: expect.stringMatching(/did not confirm/) } });
    // The console hears of both: the withdrawal and the incident that replaces it.
    expect((await s.changes()).map((c) => [c.type, c.incident.id === raised.id ? 'raised' : 'other', !!c.incident.withdrawn])).toEqual([
      ['created', 'raised', false],
      ['updated', 'raised', true],
      ['created', 'other', false],
    ]);
  });

  it('corrects, on the incident it raised, an early alert whose window a late line moved; no second incident', async () => {
    const s = await sinkAt('2026-11-26T10:00:00Z');
    await s.sink.write([alert('x', '2026-11-26T09:56:00.000Z', 'early')]);
    const raised = (await s.store.searchIncidents({})).incidents[0]!;
    s.set('2026-11-26T10:05:00Z');
    // As the engine reports it: the ordered evaluation confirms the id with its own end, then retracts what was announced.
    await s.sink.write([alert('x', '2026-11-26T09:55:30.000Z', 'confirm', 9), alert('x', '2026-11-26T09:56:00.000Z', 'retract', 9)]);
    const all = (await s.store.searchIncidents({})).incidents;
    expect(all.map((i) => i.id)).toEqual([raised.id]);
    expect(all[0]!.withdrawn).toBeUndefined();
    expect(all[0]!.timeline.at(-1)).toMatchObject({ actor: 'canhgac', action: 'correct', note: expect.stringMatching(/corrected/) });
    const reference = await sinkAt('2026-11-26T10:00:00Z');
    await reference.sink.write([alert('x', '2026-11-26T09:55:30.000Z', undefined, 9)]);
    expect(all.map(content)).toEqual((await reference.store.searchIncidents({})).incidents.map(content));
    expect((await s.changes()).map((c) => [c.type, c.incident.id === raised.id])).toEqual([
      ['created', true],
      ['updated', true],
    ]);
  });

  it('writes nothing of an early alert corrected or retracted in the batch that raised it', async () => {
    const s = await sinkAt('2026-11-26T10:00:00Z');
    // The ordered evaluation rewrites the early alert (same id, an earlier end) and retracts what it announced.
    await s.sink.write([
      alert('x', '2026-11-26T09:56:00.000Z', 'early', 1),
      alert('x', '2026-11-26T09:55:30.000Z', undefined, 9),
      alert('x', '2026-11-26T09:56:00.000Z', 'retract', 9),
      alert('gone', '2026-11-26T09:57:00.000Z', 'early', 10),
      alert('gone', '2026-11-26T09:57:00.000Z', 'retract', 10),
    ]);
    const reference = await sinkAt('2026-11-26T10:00:00Z');
    await reference.sink.write([alert('x', '2026-11-26T09:55:30.000Z', undefined, 9)]);
    const all = (await s.store.searchIncidents({})).incidents;
    expect(all.map(content)).toEqual((await reference.store.searchIncidents({})).incidents.map(content));
    expect((await s.changes()).map((c) => c.type)).toEqual(['created']);
  });

  it('takes a retracted early alert out of an incident it joined, leaving the incident as the ordered run has it', async () => {
    const s = await sinkAt('2026-11-26T10:00:00Z');
    await s.sink.write([alert('first', '2026-11-26T09:50:00.000Z')]);
    s.set('2026-11-26T10:01:00Z');
    await s.sink.write([alert('wrong', '2026-11-26T09:56:00.000Z', 'early', 2)]);
    expect((await s.store.searchIncidents({})).incidents[0]).toMatchObject({ alert_count: 2, last_seen: '2026-11-26T09:56:00.000Z' });
    s.set('2026-11-26T10:05:00Z');
    await s.sink.write([alert('wrong', '2026-11-26T09:56:00.000Z', 'retract', 9)]);
    const [i] = (await s.store.searchIncidents({})).incidents;
    const reference = await sinkAt('2026-11-26T10:00:00Z');
    await reference.sink.write([alert('first', '2026-11-26T09:50:00.000Z')]);
    expect(content(i!)).toEqual(content((await reference.store.searchIncidents({})).incidents[0]!));
    expect(i!.timeline.at(-1)).toMatchObject({ action: 'retract' });
  });
});

describe('deadlines from when the incident is raised', () => {
  it('an incident raised at 10:00 for events stamped 09:55 with escalate_after 15m escalates at 10:15, not 10:10', async () => {
    const s = await sinkAt('2026-11-26T10:00:00Z');
    await s.sink.write([alert('a1', '2026-11-26T09:55:00.000Z', 'early')]);
    const [i] = (await s.store.searchIncidents({})).incidents;
    expect(i!.ack_due).toBe('2026-11-26T10:15:00.000Z');
    const policy = { ackDueMsByLevel: DEFAULT_POLICY.ackDueMsByLevel, reportDueMs: DEFAULT_POLICY.reportDueMs, securityLevelOf: () => 2 };
    expect(escalated(i!, new Date('2026-11-26T10:10:00Z'), policy)).toBeNull();
    expect(escalated(i!, new Date('2026-11-26T10:14:59Z'), policy)).toBeNull();
    expect(escalated(i!, new Date('2026-11-26T10:15:00Z'), policy)).toMatchObject({ layer: 3 });
  });
});

describe('IncidentSink after a restart', () => {
  it('folds into the incident that replaced a withdrawn one, not into the withdrawn one', async () => {
    const s = await sinkAt('2026-11-26T10:00:00Z');
    await s.sink.write([alert('wrong', '2026-11-26T09:56:00.000Z', 'early')]);
    s.set('2026-11-26T10:05:00Z');
    await s.sink.write([alert('right', '2026-11-26T09:55:30.000Z', undefined, 9), alert('wrong', '2026-11-26T09:56:00.000Z', 'retract', 9)]);
    const restarted = new IncidentSink(
      s.store,
      await new MemoryBus(1).producer(),
      'soc.incidents',
      DEFAULT_POLICY,
      createLogger('early-test', {}, 'silent'),
      () => new Date('2026-11-26T10:06:00Z'),
    );
    await restarted.write([alert('next', '2026-11-26T09:57:00.000Z', undefined, 10)]);
    const live = (await s.store.searchIncidents({})).incidents.filter((i) => !i.withdrawn);
    expect(live.map((i) => i.alert_count)).toEqual([2]);
  });
});
