import { createHash } from 'node:crypto';
import type { IncidentStore } from '../../shared/store/types.ts';

export const PURGE_AUDIT_ACTION = 'drill.purge';

/**
 * Removes one drill's alerts and incidents; real incidents are never touched (the store filters on the
 * drill id). The purge itself stays in the append-only audit trail, so that an inspector sees who
 * removed which drill and how much.
 */
export async function purgeDrill(store: IncidentStore, drillId: string, actor: string, now = new Date()): Promise<{ alerts: number; incidents: number }> {
  const removed = await store.purgeDrill(drillId);
  const at = now.toISOString();
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
