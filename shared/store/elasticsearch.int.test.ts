import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElasticsearchIncidentStore } from './elasticsearch.ts';
import { alertFixture, incidentFixture } from './fixtures.ts';
import { IncidentNotFoundError } from './types.ts';
import { testElasticsearch, uniqueName } from '../../test/support/services.ts';
import type { AuditEntry } from '../incident.ts';

describe('ElasticsearchIncidentStore (real Elasticsearch)', () => {
  const prefix = uniqueName('store');
  const client = testElasticsearch();
  const store = new ElasticsearchIncidentStore({ client, indexPrefix: prefix });

  beforeAll(async () => {
    await store.init();
  });
  afterAll(async () => {
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    for (const k of ['alerts', 'incidents', 'audit']) await client.indices.deleteIndexTemplate({ name: `${prefix}-${k}` });
    for (const k of ['settings', 'alerts-mappings', 'incidents-mappings', 'audit-mappings']) await client.cluster.deleteComponentTemplate({ name: `${prefix}-${k}` });
    await client.close();
  });

  it('pings the cluster', async () => {
    expect(await store.ping()).toBe(true);
    const nowhere = new ElasticsearchIncidentStore({ url: 'http://127.0.0.1:9', indexPrefix: prefix });
    expect(await nowhere.ping()).toBe(false);
    await nowhere.close();
  });

  it('init is repeatable and maps the ECS fields with their types', async () => {
    await store.init();
    const inc = incidentFixture({ id: 'map-1' });
    await store.upsertIncident(inc, { refresh: true });
    await store.writeAlerts([alertFixture(inc, 1)], { refresh: true });
    const m = await client.indices.getMapping({ index: `${prefix}-alerts-2026.11` });
    const props = Object.values(m)[0]!.mappings.properties as Record<string, any>;
    expect(props['@timestamp'].type).toBe('date');
    expect(props.incident_id.type).toBe('keyword');
    expect(props.event_count.type).toBe('long');
    expect(props.events.properties.source.properties.ip.type).toBe('ip');
    expect(props.events.properties.destination.properties.port.type).toBe('long');
    const im = await client.indices.getMapping({ index: `${prefix}-incidents` });
    const ip = Object.values(im)[0]!.mappings.properties as Record<string, any>;
    expect(ip.last_seen.type).toBe('date');
    expect(ip.status.type).toBe('keyword');
    expect(ip.layer.type).toBe('long');
    expect(ip.group.type).toBe('flattened');
  });

  it('writes alerts to monthly indices by deterministic id: twice the same input, the same documents', async () => {
    const inc = incidentFixture({ id: 'dedup-1', first_seen: '2026-10-31T23:59:59.000Z', last_seen: '2026-10-31T23:59:59.000Z' });
    const alerts = [alertFixture(inc, 0), alertFixture(inc, 1), alertFixture(inc, 2)];
    await store.writeAlerts(alerts, { refresh: true });
    await store.writeAlerts(alerts, { refresh: true });
    const got = await store.alertsOf('dedup-1');
    expect(got.map((a) => a.id)).toEqual(alerts.map((a) => a.id));
    const months = await client.cat.indices({ index: `${prefix}-alerts-*`, h: 'index', format: 'json' });
    expect(months.map((i) => i.index).sort()).toEqual(expect.arrayContaining([`${prefix}-alerts-2026.10`, `${prefix}-alerts-2026.11`]));
  });

  it('keeps an alert whose event carries a malformed ip instead of rejecting it', async () => {
    const inc = incidentFixture({ id: 'malformed-1' });
    const bad = alertFixture(inc, 1, { events: [{ event: { original: 'x' }, source: { ip: 'not-an-ip', port: 'x' } }] });
    await store.writeAlerts([bad], { refresh: true });
    expect((await store.alertsOf('malformed-1'))[0]!.events[0]).toMatchObject({ source: { ip: 'not-an-ip' } });
  });

  it('upsert creates at version 1, merges the correlator view and keeps what responders own', async () => {
    const inc = incidentFixture({ id: 'merge-1' });
    const created = await store.upsertIncident(inc);
    expect(created).toMatchObject({ created: true, changed: true });
    expect(created.incident.version).toBe(1);
    await store.updateIncident('merge-1', (c) => ({ ...c, status: 'acknowledged', assignee: 'lan', layer: 3 }));
    const again = await store.upsertIncident(inc);
    expect(again.changed).toBe(false);
    const later = await store.upsertIncident({ ...inc, applied: { 'soc.raw/0': 17 }, alert_count: 5, last_seen: '2026-11-20T04:00:00.000Z', host: ['web-02'], severity: 'critical' });
    expect(later.incident).toMatchObject({ status: 'acknowledged', assignee: 'lan', layer: 3, alert_count: 5, severity: 'critical', version: 3 });
    expect(later.incident.host).toEqual(['web-01', 'web-02']);
    expect(later.incident.last_seen).toBe('2026-11-20T04:00:00.000Z');
    const older = await store.upsertIncident({ ...inc, applied: { 'soc.raw/0': 9, 'soc.raw/1': 4 } });
    expect(older.incident.applied).toEqual({ 'soc.raw/0': 17, 'soc.raw/1': 4 });
  });

  it('upserts many incidents in one call: creates, merges and leaves alone, results in input order', async () => {
    await store.upsertIncident(incidentFixture({ id: 'many-old', alert_count: 2 }));
    await store.upsertIncident(incidentFixture({ id: 'many-same' }));
    const results = await store.upsertIncidents([
      incidentFixture({ id: 'many-new' }),
      incidentFixture({ id: 'many-old', alert_count: 7 }),
      incidentFixture({ id: 'many-same' }),
    ]);
    expect(results.map((r) => [r.incident.id, r.created, r.changed, r.incident.version, r.incident.alert_count])).toEqual([
      ['many-new', true, true, 1, 1],
      ['many-old', false, true, 2, 7],
      ['many-same', false, false, 1, 1],
    ]);
    expect((await store.getIncident('many-old'))!.alert_count).toBe(7);
    await expect(store.upsertIncidents([incidentFixture({ id: 'twice' }), incidentFixture({ id: 'twice' })])).rejects.toThrow(/twice/);
  });

  it('concurrent correlator bumps and responder actions never clobber each other', async () => {
    const inc = incidentFixture({ id: 'race-1' });
    await store.upsertIncident(inc);
    const bumps = Array.from({ length: 12 }, (_, i) =>
      store.upsertIncident({ ...inc, alert_count: i + 2, last_seen: new Date(Date.parse(inc.last_seen) + (i + 1) * 60_000).toISOString() }),
    );
    const comments = Array.from({ length: 12 }, (_, i) =>
      store.updateIncident('race-1', (c) => ({ ...c, timeline: [...c.timeline, { at: new Date().toISOString(), actor: `u${i}`, action: 'comment', note: `n${i}` }] })),
    );
    const ack = store.updateIncident('race-1', (c) => ({ ...c, status: 'acknowledged' }));
    await Promise.all([...bumps, ...comments, ack]);
    const final = (await store.getIncident('race-1'))!;
    expect(final.alert_count).toBe(13);
    expect(final.status).toBe('acknowledged');
    expect(final.timeline.map((t) => t.note).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `n${i}`).sort());
    // created at 1, then one version per change that changed something: 12 bumps + 12 comments + 1 ack at most.
    expect(final.version).toBeGreaterThanOrEqual(1 + 12 + 1);
    expect(final.version).toBeLessThanOrEqual(1 + 12 + 12 + 1);
  });

  it('updateIncident bumps the version, leaves the incident when mutate returns null, names a missing id', async () => {
    const inc = incidentFixture({ id: 'upd-1' });
    await store.upsertIncident(inc);
    const r = await store.updateIncident('upd-1', (c) => ({ ...c, assignee: 'minh' }), { now: () => new Date('2026-11-21T00:00:00Z') });
    expect(r.before.version).toBe(1);
    expect(r.after).toMatchObject({ version: 2, assignee: 'minh', updated_at: '2026-11-21T00:00:00.000Z' });
    const none = await store.updateIncident('upd-1', () => null);
    expect(none).toMatchObject({ changed: false, after: { version: 2 } });
    await expect(store.updateIncident('nope', (c) => c)).rejects.toBeInstanceOf(IncidentNotFoundError);
    expect(await store.getIncident('nope')).toBeNull();
  });

  it('searches by every filter with paging', async () => {
    const base = { first_seen: '2026-09-10T00:00:00.000Z', last_seen: '2026-09-10T01:00:00.000Z' };
    const incs = [
      incidentFixture({ ...base, id: 's-1', unit: 'so-yte', host: ['db-01'], layer: 1, severity: 'low', status: 'new' }),
      incidentFixture({ ...base, id: 's-2', unit: 'so-yte', host: ['db-02'], layer: 2, severity: 'high', status: 'acknowledged', drill: 'drill-42' }),
      incidentFixture({
        ...base,
        id: 's-3',
        unit: 'so-gtvt',
        host: ['web-09'],
        layer: 2,
        severity: 'critical',
        status: 'resolved',
        rule: { id: 'r-av', title: 'Malware outbreak across units', level: 'critical', layer: 2 },
        first_seen: '2026-09-12T00:00:00.000Z',
        last_seen: '2026-09-12T02:00:00.000Z',
      }),
    ];
    for (const i of incs) await store.upsertIncident(i, { refresh: true });
    const ids = async (f: Parameters<typeof store.searchIncidents>[0]) =>
      (await store.searchIncidents({ from: '2026-09-01T00:00:00Z', to: '2026-09-30T00:00:00Z', ...f })).incidents.map((i) => i.id).sort();
    expect(await ids({})).toEqual(['s-1', 's-2', 's-3']);
    expect(await ids({ status: ['new', 'acknowledged'] })).toEqual(['s-1', 's-2']);
    expect(await ids({ layer: '1' as never })).toEqual(['s-1']);
    expect(await ids({ severity: 'critical' })).toEqual(['s-3']);
    expect(await ids({ unit: 'so-yte' })).toEqual(['s-1', 's-2']);
    expect(await ids({ host: 'db-02' })).toEqual(['s-2']);
    expect(await ids({ rule: 'r-av' })).toEqual(['s-3']);
    expect(await ids({ rule: 'r-ssh-brute', group_key: 'source.ip=203.0.113.7', drill: 'none' })).toEqual(['s-1']);
    expect(await ids({ drill: 'drill-42' })).toEqual(['s-2']);
    expect(await ids({ drill: 'none' })).toEqual(['s-1', 's-3']);
    expect(await ids({ drill: 'any' })).toEqual(['s-2']);
    expect(await ids({ q: 'outbreak' })).toEqual(['s-3']);
    expect(await ids({ from: '2026-09-11T00:00:00Z' })).toEqual(['s-3']);
    expect(await ids({ to: '2026-09-11T00:00:00Z' })).toEqual(['s-1', 's-2']);
    const p1 = await store.searchIncidents({ from: '2026-09-01T00:00:00Z', to: '2026-09-30T00:00:00Z', size: 2, page: 1 });
    const p2 = await store.searchIncidents({ from: '2026-09-01T00:00:00Z', to: '2026-09-30T00:00:00Z', size: 2, page: 2 });
    expect(p1.total).toBe(3);
    expect(p1.incidents[0]!.id).toBe('s-3');
    expect([...p1.incidents, ...p2.incidents].map((i) => i.id).sort()).toEqual(['s-1', 's-2', 's-3']);
    await expect(store.searchIncidents({ page: 1000, size: 500 })).rejects.toThrow(/page/);
  });

  it('finds the latest incident of a rule, group key and drill without waiting for a refresh', async () => {
    const base = { rule: { id: 'r-latest', title: 'Latest', level: 'low' as const, layer: 1 }, group_key: 'host=db-09' };
    await store.upsertIncident(incidentFixture({ ...base, id: 'lt-old', first_seen: '2026-07-01T00:00:00.000Z', last_seen: '2026-07-01T00:10:00.000Z' }));
    await store.upsertIncident(incidentFixture({ ...base, id: 'lt-new', first_seen: '2026-07-02T00:00:00.000Z', last_seen: '2026-07-02T00:10:00.000Z' }));
    await store.upsertIncident(incidentFixture({ ...base, id: 'lt-drill', drill: 'd-9', first_seen: '2026-07-03T00:00:00.000Z', last_seen: '2026-07-03T00:10:00.000Z' }));
    const latest = await store.latestIncidents([
      { ruleId: 'r-latest', groupKey: 'host=db-09', drill: null },
      { ruleId: 'r-latest', groupKey: 'host=db-09', drill: 'd-9' },
      { ruleId: 'r-latest', groupKey: 'host=other', drill: null },
    ]);
    expect(latest.map((i) => i?.id ?? null)).toEqual(['lt-new', 'lt-drill', null]);
    expect(await store.latestIncidents([])).toEqual([]);
  });

  it('appends audit entries once per id and finds them', async () => {
    const entry: AuditEntry = {
      id: 'audit-1',
      '@timestamp': '2026-11-20T05:00:00.000Z',
      actor: 'lan',
      action: 'acknowledge',
      incident_id: 'merge-1',
      source_ip: '::ffff:127.0.0.1',
      before: { status: 'new' },
      after: { status: 'acknowledged' },
    };
    expect(await store.appendAudit(entry, { refresh: true })).toEqual({ created: true });
    expect(await store.appendAudit({ ...entry, actor: 'mallory' }, { refresh: true })).toEqual({ created: false });
    const page = await store.searchAudit({ incident_id: 'merge-1' });
    expect(page.total).toBe(1);
    expect(page.entries[0]).toMatchObject({ actor: 'lan', before: { status: 'new' } });
    expect(await client.indices.exists({ index: `${prefix}-audit-2026.11` })).toBe(true);
  });

  it('counts alerts per minute with empty buckets', async () => {
    const inc = incidentFixture({ id: 'histo-1', first_seen: '2026-08-01T10:00:00.000Z', last_seen: '2026-08-01T10:00:00.000Z' });
    await store.writeAlerts([alertFixture(inc, 0), alertFixture(inc, 10), alertFixture(inc, 130)], { refresh: true });
    const buckets = await store.alertHistogram({ from: '2026-08-01T10:00:00.000Z', to: '2026-08-01T10:04:00.000Z', intervalMinutes: 1 });
    expect(buckets).toEqual([
      { at: '2026-08-01T10:00:00.000Z', count: 2 },
      { at: '2026-08-01T10:01:00.000Z', count: 0 },
      { at: '2026-08-01T10:02:00.000Z', count: 1 },
      { at: '2026-08-01T10:03:00.000Z', count: 0 },
    ]);
  });

  it('purges one drill and nothing else', async () => {
    const drill = incidentFixture({ id: 'purge-d', drill: 'drill-purge' });
    const real = incidentFixture({ id: 'purge-r' });
    await store.upsertIncident(drill);
    await store.upsertIncident(real);
    await store.writeAlerts([alertFixture(drill, 0), alertFixture(drill, 1), alertFixture(real, 0)], { refresh: true });
    expect(await store.purgeDrill('drill-purge')).toEqual({ alerts: 2, incidents: 1 });
    expect(await store.getIncident('purge-d')).toBeNull();
    expect(await store.getIncident('purge-r')).not.toBeNull();
    expect(await store.alertsOf('purge-r')).toHaveLength(1);
    await expect(store.purgeDrill('none')).rejects.toThrow(/not a drill/);
  });
});
