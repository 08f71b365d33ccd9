import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import { IncidentChangeSchema, type Alert } from '../../shared/incident.ts';
import { createLogger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import type { IncidentKey, IncidentStore } from '../../shared/store/types.ts';
import { DEFAULT_POLICY } from '../incidents/grouping.ts';
import { IncidentSink, type PendingAlert } from './incidents.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The embedded store, counting the round trips the sink makes. */
async function countingStore() {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-sink-'));
  dirs.push(dir);
  const store = new EmbeddedIncidentStore(dir);
  await store.init();
  const calls = { latest: 0, upserts: 0, alerts: 0 };
  const counted: IncidentStore = Object.assign(Object.create(store) as IncidentStore, {
    latestIncidents: (keys: IncidentKey[]) => (calls.latest++, store.latestIncidents(keys)),
    upsertIncidents: (incidents: Parameters<IncidentStore['upsertIncidents']>[0]) => (calls.upserts++, store.upsertIncidents(incidents)),
    writeAlerts: (alerts: Alert[]) => (calls.alerts++, store.writeAlerts(alerts)),
  });
  return { store: counted, calls };
}

function pending(src: string, minute: number, offset: number): PendingAlert {
  const ts = new Date(Date.parse('2026-11-26T01:00:00Z') + minute * 60_000).toISOString();
  return {
    alert: {
      id: `a-${src}-${minute}`,
      '@timestamp': ts,
      rule: { id: 'r-scan', title: 'Port scan', level: 'medium', layer: 2 },
      group: { 'source.ip': src },
      group_key: `source.ip=${src}`,
      incident_id: '',
      severity: 'medium',
      host: ['srv-01'],
      unit: null,
      drill: null,
      event_count: 3,
      event_ids: [],
      events: [],
      window: { start: ts, end: ts },
    },
    response: {},
    position: { stream: 'soc.correlate/0', offset },
  };
}

describe('IncidentSink', () => {
  it('folds a batch of alerts into incidents with one lookup and one write, and counts a replay once', async () => {
    const { store, calls } = await countingStore();
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 'inc', partitions: 1 }]);
    const sink = new IncidentSink(
      store,
      await bus.producer(),
      'inc',
      DEFAULT_POLICY,
      createLogger('test', {}, 'silent'),
      () => new Date('2026-11-26T03:00:00Z'),
    );
    // Two sources; the second source's last alert comes after the suppression window: a second incident.
    const batch = [
      pending('198.51.100.1', 0, 1),
      pending('198.51.100.2', 1, 2),
      pending('198.51.100.1', 5, 3),
      pending('198.51.100.2', 2, 4),
      pending('198.51.100.2', 200, 5),
    ];
    expect(await sink.write(batch)).toEqual({ alerts: 5, created: 3, updated: 0 });
    expect(calls).toEqual({ latest: 1, upserts: 1, alerts: 1 });
    const incidents = (await store.searchIncidents({ size: 10 })).incidents.map((i) => [i.group_key, i.alert_count, i.first_seen]).sort();
    expect(incidents).toEqual([
      ['source.ip=198.51.100.1', 2, '2026-11-26T01:00:00.000Z'],
      ['source.ip=198.51.100.2', 1, '2026-11-26T04:20:00.000Z'],
      ['source.ip=198.51.100.2', 2, '2026-11-26T01:01:00.000Z'],
    ]);
    expect(new Set(batch.map((p) => p.alert.incident_id)).size).toBe(3);
    const changes = bus.partitionsOf('inc')[0]!.map((m) => IncidentChangeSchema.parse(JSON.parse(m.value!)));
    expect(changes.map((c) => c.type)).toEqual(['created', 'created', 'created']);

    // The same input again (a restart re-reads it): nothing counted twice, answered from the cache.
    const again = [pending('198.51.100.1', 0, 1), pending('198.51.100.1', 5, 3)];
    await sink.write(again);
    expect(calls.latest).toBe(1);
    expect((await store.searchIncidents({ size: 10 })).incidents.find((i) => i.group_key === 'source.ip=198.51.100.1')!.alert_count).toBe(2);
    expect(again[1]!.alert.incident_id).toBe(batch[0]!.alert.incident_id);

    // A new sink (a restarted process) finds the latest incident of a key in the store and joins it.
    const fresh = new IncidentSink(
      store,
      await bus.producer(),
      'inc',
      DEFAULT_POLICY,
      createLogger('test', {}, 'silent'),
      () => new Date('2026-11-26T03:00:00Z'),
    );
    const next = pending('198.51.100.2', 210, 9);
    expect(await fresh.write([next])).toEqual({ alerts: 1, created: 0, updated: 1 });
    expect(calls.latest).toBe(2);
    expect(next.alert.incident_id).toBe(batch[4]!.alert.incident_id);
  });
});
