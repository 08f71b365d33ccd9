import { createHash } from 'node:crypto';
import type { BusProducer } from '../../shared/bus/types.ts';
import type { Incident, IncidentChange } from '../../shared/incident.ts';
import { MAX_RESULT_WINDOW, type IncidentStore } from '../../shared/store/types.ts';

export const PURGE_AUDIT_ACTION = 'drill.purge';

/** Where the purge tells every console that the drill's incidents are gone (soc.incidents). */
export interface PurgeFeed {
  producer: BusProducer;
  topic: string;
}

/**
 * Removes one drill's alerts and incidents; real incidents are never touched (the store filters on the
 * drill id). The purge itself stays in the append-only audit trail, so that an inspector sees who
 * removed which drill and how much. With a feed, one `purged` change per incident goes to soc.incidents
 * after the removal, so that every open console page drops them at once instead of at its next reload.
 */
export async function purgeDrill(store: IncidentStore, drillId: string, actor: string, now = new Date(), feed?: PurgeFeed): Promise<{ alerts: number; incidents: number }> {
  const doomed = feed ? await incidentsOfDrill(store, drillId) : [];
  const removed = await store.purgeDrill(drillId);
  const at = now.toISOString();
  if (feed && doomed.length) {
    await feed.producer.send(
      feed.topic,
      doomed.map((incident) => ({ key: incident.id, value: JSON.stringify({ type: 'purged', at, incident: { ...incident, version: incident.version + 1, updated_at: at } } satisfies IncidentChange) })),
    );
  }
  await store.appendAudit({
    id: `drill-purge-${createHash('sha256').update(`${drillId}\u0000${at}`).digest('hex').slice(0, 24)}`,
    '@timestamp': at,
    actor,
    action: PURGE_AUDIT_ACTION,
    incident_id: null,
    source_ip: null,
    after: { drill: drillId, ...removed },
  }, { refresh: true });
  return removed;
}

async function incidentsOfDrill(store: IncidentStore, drillId: string): Promise<Incident[]> {
  const size = 500;
  const out: Incident[] = [];
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchIncidents({ drill: drillId, page, size });
    out.push(...res.incidents);
    if (out.length >= res.total || res.incidents.length < size) break;
  }
  return out;
}
