import { describe, expect, it } from 'vitest';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { DEFAULT_POLICY } from '../incidents/grouping.ts';
import { escalated, escalateOverdue, type EscalationPolicy } from './escalation.ts';
import { operationsHarness } from './test-support.ts';

const MIN = 60_000;
const policy: EscalationPolicy = {
  ackDueMsByLevel: DEFAULT_POLICY.ackDueMsByLevel,
  ackDueMsByLayer: { 3: 120 * MIN },
  reportDueMs: 5 * 24 * 60 * MIN,
  securityLevelOf: () => 2,
};

describe('escalation', () => {
  it('hands an unacknowledged incident to the next layer once its ack_due passed, with a new deadline', async () => {
    const h = await operationsHarness('2026-11-20T03:00:00.000Z');
    await h.store.upsertIncident(
      incidentFixture({
        id: 'late',
        layer: 1,
        rule: { id: 'r1', title: 'AV not cleaned', level: 'high', layer: 1 },
        severity: 'high',
        ack_due: '2026-11-20T03:30:00.000Z',
      }),
    );
    await h.store.upsertIncident(incidentFixture({ id: 'acked', layer: 1, status: 'acknowledged', ack_due: '2026-11-20T03:30:00.000Z' }));
    await h.store.upsertIncident(incidentFixture({ id: 'not-yet', layer: 2, ack_due: '2026-11-20T04:30:00.000Z' }));

    h.clock.set('2026-11-20T03:29:59.000Z');
    expect((await escalateOverdue(h.trail, policy)).escalated).toEqual([]);

    h.clock.set('2026-11-20T03:31:00.000Z');
    const run = await escalateOverdue(h.trail, policy);
    expect(run.escalated.map((i) => i.id)).toEqual(['late']);
    const late = (await h.store.getIncident('late'))!;
    expect(late).toMatchObject({ layer: 2, status: 'new', assignee: null, ack_due: '2026-11-20T04:01:00.000Z' });
    expect(late.timeline.at(-1)).toMatchObject({
      actor: 'canhgac',
      action: 'escalate',
      from: { layer: 1, ack_due: '2026-11-20T03:30:00.000Z' },
      to: { layer: 2 },
    });
    expect((await h.store.getIncident('acked'))!.layer).toBe(1);
    expect((await h.store.getIncident('not-yet'))!.layer).toBe(2);

    const audit = await h.store.searchAudit({ incident_id: 'late' });
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ actor: 'canhgac', action: 'escalate', before: { layer: 1 }, after: { layer: 2 } });
    const published = h.producer.changes('t.soc.incidents');
    expect(published.map((c) => [c.type, c.incident.id, c.incident.layer])).toEqual([['updated', 'late', 2]]);
    expect(h.producer.on('t.soc.incidents')[0]!.key).toBe('late');

    // The same run again changes nothing: the new deadline is not due yet.
    expect((await escalateOverdue(h.trail, policy)).escalated).toEqual([]);
    // Past the new deadline it climbs to layer 3, whose override gives two hours.
    h.clock.set('2026-11-20T04:02:00.000Z');
    await escalateOverdue(h.trail, policy);
    expect(await h.store.getIncident('late')).toMatchObject({ layer: 3, ack_due: '2026-11-20T06:02:00.000Z' });
  });

  it('stops at layer 4 and sets the national report deadline on the way there', async () => {
    const h = await operationsHarness('2026-11-20T10:00:00.000Z');
    await h.store.upsertIncident(
      incidentFixture({ id: 'l3', layer: 3, severity: 'medium', first_seen: '2026-11-20T03:00:00.000Z', ack_due: '2026-11-20T09:00:00.000Z' }),
    );
    await h.store.upsertIncident(incidentFixture({ id: 'drill-l3', layer: 3, drill: 'd1', ack_due: '2026-11-20T09:00:00.000Z' }));
    await escalateOverdue(h.trail, policy);
    expect(await h.store.getIncident('l3')).toMatchObject({ layer: 4, report_due: '2026-11-25T03:00:00.000Z', ack_due: '2026-11-20T14:00:00.000Z' });
    // A drill climbs too (the exercise measures it) but is never due to the national centre.
    expect(await h.store.getIncident('drill-l3')).toMatchObject({ layer: 4, report_due: null });

    h.clock.set('2026-11-21T10:00:00.000Z');
    expect((await escalateOverdue(h.trail, policy)).escalated).toEqual([]);
    expect((await h.store.getIncident('l3'))!.layer).toBe(4);
  });

  it('does not escalate an incident acknowledged between the search and the write', async () => {
    const inc = incidentFixture({ id: 'race', layer: 1, ack_due: '2026-11-20T03:00:00.000Z' });
    expect(escalated(inc, new Date('2026-11-20T03:00:01.000Z'), policy)).not.toBeNull();
    expect(escalated({ ...inc, status: 'acknowledged' }, new Date('2026-11-20T03:00:01.000Z'), policy)).toBeNull();
    expect(escalated({ ...inc, ack_due: null }, new Date('2026-11-20T03:00:01.000Z'), policy)).toBeNull();

    const h = await operationsHarness('2026-11-20T03:05:00.000Z');
    await h.store.upsertIncident(inc);
    const racing = {
      ...h.trail,
      store: {
        ...h.store,
        searchIncidents: h.store.searchIncidents.bind(h.store),
        searchAudit: h.store.searchAudit.bind(h.store),
        getIncident: h.store.getIncident.bind(h.store),
        appendAudit: h.store.appendAudit.bind(h.store),
        alertsOf: h.store.alertsOf.bind(h.store),
        updateIncident: async (id: string, mutate: Parameters<typeof h.store.updateIncident>[1]) => {
          // A responder acknowledges just before the escalation's write lands.
          await h.store.updateIncident(id, (i) => ({ ...i, status: 'acknowledged' }));
          return h.store.updateIncident(id, mutate);
        },
      },
    };
    expect((await escalateOverdue(racing, policy)).escalated).toEqual([]);
    expect(await h.store.getIncident('race')).toMatchObject({ layer: 1, status: 'acknowledged' });
    expect(h.producer.sent).toEqual([]);
    expect((await h.store.searchAudit({ incident_id: 'race' })).total).toBe(0);
  });
});
