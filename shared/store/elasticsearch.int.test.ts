import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElasticsearchIncidentStore } from './elasticsearch.ts';
import { alertFixture, incidentFixture } from './fixtures.ts';
import { incidentStoreContract } from './contract.ts';
import { testElasticsearch, uniqueName } from '../../test/support/services.ts';

incidentStoreContract('Elasticsearch', async () => {
  const prefix = uniqueName('contract');
  const client = testElasticsearch();
  const store = new ElasticsearchIncidentStore({ client, indexPrefix: prefix });
  return {
    store,
    close: async () => {
      await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
      for (const k of ['alerts', 'incidents', 'audit']) await client.indices.deleteIndexTemplate({ name: `${prefix}-${k}` });
      for (const k of ['settings', 'alerts-mappings', 'incidents-mappings', 'audit-mappings'])
        await client.cluster.deleteComponentTemplate({ name: `${prefix}-${k}` });
      await client.close();
    },
  };
});

describe('ElasticsearchIncidentStore specifics (real Elasticsearch)', () => {
  const prefix = uniqueName('store');
  const client = testElasticsearch();
  const store = new ElasticsearchIncidentStore({ client, indexPrefix: prefix });

  beforeAll(async () => {
    await store.init();
  });
  afterAll(async () => {
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    for (const k of ['alerts', 'incidents', 'audit']) await client.indices.deleteIndexTemplate({ name: `${prefix}-${k}` });
    for (const k of ['settings', 'alerts-mappings', 'incidents-mappings', 'audit-mappings'])
      await client.cluster.deleteComponentTemplate({ name: `${prefix}-${k}` });
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

  it('writes alerts to monthly indices by the month of their timestamp', async () => {
    const inc = incidentFixture({ id: 'months-1', first_seen: '2026-10-31T23:59:59.000Z', last_seen: '2026-10-31T23:59:59.000Z' });
    const alerts = [alertFixture(inc, 0), alertFixture(inc, 1), alertFixture(inc, 2)];
    await store.writeAlerts(alerts, { refresh: true });
    const months = await client.cat.indices({ index: `${prefix}-alerts-*`, h: 'index', format: 'json' });
    expect(months.map((i) => i.index).sort()).toEqual(expect.arrayContaining([`${prefix}-alerts-2026.10`, `${prefix}-alerts-2026.11`]));
  });

  it('writes the audit trail to monthly indices', async () => {
    await store.appendAudit(
      { id: 'audit-month-1', '@timestamp': '2026-11-20T05:00:00.000Z', actor: 'lan', action: 'acknowledge', incident_id: null, source_ip: null },
      { refresh: true },
    );
    expect(await client.indices.exists({ index: `${prefix}-audit-2026.11` })).toBe(true);
  });
});
