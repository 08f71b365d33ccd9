import { createHash } from 'node:crypto';
import type { BusProducer } from '../../shared/bus/types.ts';
import type { IncidentChange } from '../../shared/incident.ts';
import { MAX_RESULT_WINDOW, type IncidentStore } from '../../shared/store/types.ts';

export const PURGE_AUDIT_ACTION = 'drill.purge';

/** Where the purge announces each removed incident, so that open console pages drop it. */
export interface PurgeAnnouncement {
  producer: BusProducer;
  incidentsTopic: string;
}

/**
 * Removes one drill's alerts and incidents; real incidents are never touched (the store filters on the
 * drill id). The purge itself stays in the append-only audit trail, so that an inspector sees who
 * removed which drill and how much. With `announce`, a `purged` change per removed incident follows on
 * soc.incidents (the console's change feed removes it from open pages).
 */
export async function purgeDrill(
  store: IncidentStore,
  drillId: string,
  actor: string,
  now = new Date(),
  announce?: PurgeAnnouncement,
): Promise<{ alerts: number; incidents: number }> {
  const doomed = announce ? await drillIncidents(store, drillId) : [];
  const removed = await store.purgeDrill(drillId);
  const at = now.toISOString();
  await store.appendAudit(
    {
      id: `drill-purge-${createHash('sha256').update(`${drillId}\u0000${at}`).digest('hex').slice(0, 24)}`,
      '@timestamp': at,
      actor,
      action: PURGE_AUDIT_ACTION,
      incident_id: null,
      source_ip: null,
      after: { drill: drillId, ...removed },
    },
    { refresh: true },
  );
  if (announce && doomed.length) {
    const changes: IncidentChange[] = doomed.map((incident) => ({
      type: 'purged',
      at,
      incident: { ...incident, version: incident.version + 1, updated_at: at },
    }));
    await announce.producer.send(
      announce.incidentsTopic,
      changes.map((c) => ({ key: c.incident.id, value: JSON.stringify(c) })),
    );
  }
  return removed;
}

async function drillIncidents(store: IncidentStore, drillId: string) {
  const size = 500;
  const found = [];
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchIncidents({ drill: drillId, page, size });
    found.push(...res.incidents);
    if (page * size >= res.total) break;
  }
  return found;
}
