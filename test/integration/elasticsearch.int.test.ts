import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/incident.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { testElasticsearch, uniqueName } from '../support/services.ts';

function alert(i: number, ip: string): Alert {
  const ts = new Date(Date.UTC(2026, 10, 26, 1, 0, i)).toISOString();
  return {
    id: `alert-${i}`,
    '@timestamp': ts,
    rule: { id: 'r-ssh', title: 'SSH brute force', level: 'high', layer: 2 },
    group: { 'source.ip': ip },
    group_key: `source.ip=${ip}`,
    incident_id: 'inc-1',
    severity: 'high',
    host: ['srv-01'],
    unit: 'so-tttt',
    drill: null,
    event_count: 1,
    event_ids: [`e${i}`],
    events: [{ '@timestamp': ts, event: { kind: 'event', original: `line ${i}` }, source: { ip, port: 40000 + i }, destination: { ip: '10.0.0.5', port: 22 } }],
    window: { start: ts, end: ts },
  };
}

describe('Elasticsearch (real cluster)', () => {
  const es = testElasticsearch();
  const prefix = uniqueName('es');
  const store = new ElasticsearchIncidentStore({ client: es, indexPrefix: prefix });
  afterAll(async () => {
    await es.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await es.indices.deleteIndexTemplate({ name: `${prefix}-*` }).catch(() => undefined);
    await es.close();
  });

  it('indexes alerts through the ECS index template and searches them by CIDR, term and time', async () => {
    await store.init();
    await store.writeAlerts([alert(1, '203.0.113.7'), alert(2, '198.51.100.9'), alert(3, '203.0.113.200')], { refresh: true });
    const index = `${prefix}-alerts-2026.11`;
    const mapping = await es.indices.getMapping({ index });
    const props = mapping[index]!.mappings.properties!;
    expect(props['@timestamp']).toMatchObject({ type: 'date' });
    expect((props.events as { properties: Record<string, { properties: Record<string, unknown> }> }).properties.source!.properties.ip).toMatchObject({
      type: 'ip',
    });

    const byCidr = await es.search({ index: `${prefix}-alerts-*`, query: { term: { 'events.source.ip': '203.0.113.0/24' } }, sort: [{ '@timestamp': 'asc' }] });
    expect(byCidr.hits.hits.map((h) => h._id)).toEqual(['alert-1', 'alert-3']);
    const byLayerAndTime = await es.search({
      index: `${prefix}-alerts-*`,
      query: { bool: { filter: [{ term: { 'rule.layer': 2 } }, { range: { '@timestamp': { gte: '2026-11-26T01:00:02Z' } } }] } },
    });
    expect(byLayerAndTime.hits.hits.map((h) => h._id).sort()).toEqual(['alert-2', 'alert-3']);
  });

  it('writes the same alert twice as one document', async () => {
    await store.writeAlerts([alert(1, '203.0.113.7')], { refresh: true });
    const count = await es.count({ index: `${prefix}-alerts-*`, query: { term: { id: 'alert-1' } } });
    expect(count.count).toBe(1);
  });
});
