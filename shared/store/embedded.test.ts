import { mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedIncidentStore } from './embedded.ts';
import { alertFixture, incidentFixture } from './fixtures.ts';

describe('EmbeddedIncidentStore', () => {
  it('finds everything it acknowledged after a restart, and ignores a write cut by a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-embedded-'));
    const a = new EmbeddedIncidentStore(dir);
    await a.init();
    const inc = incidentFixture({ id: 'persist-1' });
    await a.upsertIncident(inc);
    await a.updateIncident('persist-1', (i) => ({ ...i, status: 'acknowledged', assignee: 'lan' }));
    await a.writeAlerts([alertFixture(inc, 1), alertFixture(inc, 2)]);
    await a.appendAudit({ id: 'au-1', '@timestamp': '2026-11-26T01:00:00.000Z', actor: 'lan', action: 'acknowledge', incident_id: 'persist-1', source_ip: '127.0.0.1' });
    await a.close();
    appendFileSync(join(dir, 'incidents.jsonl'), '{"id":"half-writ');

    const b = new EmbeddedIncidentStore(dir);
    await b.init();
    expect(await b.getIncident('persist-1')).toMatchObject({ status: 'acknowledged', assignee: 'lan', version: 2 });
    expect((await b.alertsOf('persist-1')).length).toBe(2);
    expect((await b.searchAudit({ incident_id: 'persist-1' })).total).toBe(1);
    expect(await b.appendAudit({ id: 'au-1', '@timestamp': '2026-11-26T01:00:00.000Z', actor: 'x', action: 'y', incident_id: null, source_ip: null })).toEqual({ created: false });
    await b.close();
  });

  it('purges one drill and keeps real incidents, also across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-embedded-'));
    const s = new EmbeddedIncidentStore(dir);
    await s.init();
    const real = incidentFixture({ id: 'real-1', drill: null });
    const drill = incidentFixture({ id: 'drill-1', drill: 'd-7' });
    await s.upsertIncident(real);
    await s.upsertIncident(drill);
    await s.writeAlerts([alertFixture(drill, 1), alertFixture(real, 1)]);
    expect(await s.purgeDrill('d-7')).toEqual({ alerts: 1, incidents: 1 });
    await s.close();
    const again = new EmbeddedIncidentStore(dir);
    await again.init();
    expect((await again.searchIncidents({})).incidents.map((i) => i.id)).toEqual(['real-1']);
    expect(await again.latestIncidents([{ ruleId: real.rule.id, groupKey: real.group_key, drill: null }])).toMatchObject([{ id: 'real-1' }]);
    await again.close();
  });
});
