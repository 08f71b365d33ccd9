import { createHash } from 'node:crypto';
import type { BusProducer } from '../../shared/bus/types.ts';
import type { Incident, IncidentChange } from '../../shared/incident.ts';
import type { Logger } from '../../shared/log.ts';
import { appendAuditWithRetry } from '../../shared/store/audit.ts';
import { MAX_RESULT_WINDOW, type IncidentFilter, type IncidentStore } from '../../shared/store/types.ts';

/** The actor of every change canhgac makes on its own (escalation, audits, exports). */
export const SYSTEM_ACTOR = 'canhgac';

/** What the operations jobs read and write: a narrow view of the store, so tests and callers need no more. */
export type OperationsStore = Pick<IncidentStore, 'getIncident' | 'updateIncident' | 'searchIncidents' | 'appendAudit' | 'searchAudit' | 'alertsOf'>;

export interface Trail {
  store: OperationsStore;
  producer: BusProducer;
  /** topicNames(prefix).incidents */
  incidentsTopic: string;
  now: () => Date;
  log: Logger;
}

export function auditId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/**
 * One change canhgac makes to an incident on its own: the store under optimistic concurrency (`mutate`
 * sees the fresh copy and returns null when there is nothing to do any more), then the audit trail with
 * before and after, then soc.incidents. Returns the incident after, or null when nothing changed.
 */
export async function changeIncident(trail: Trail, id: string, action: string, mutate: (current: Incident) => Incident | null): Promise<Incident | null> {
  const now = trail.now();
  const res = await trail.store.updateIncident(id, mutate, { now: () => now });
  if (!res.changed) return null;
  const at = now.toISOString();
  await appendAuditWithRetry(trail.store, {
    // The version makes the id unique per change and the same when a retry writes it again.
    id: auditId(action, id, String(res.after.version)),
    '@timestamp': at,
    actor: SYSTEM_ACTOR,
    action,
    incident_id: id,
    source_ip: null,
    before: res.before,
    after: res.after,
  });
  await publishChange(trail, { type: 'updated', at, incident: res.after });
  return res.after;
}

async function publishChange(trail: Pick<Trail, 'producer' | 'incidentsTopic'>, change: IncidentChange): Promise<void> {
  await trail.producer.send(trail.incidentsTopic, [{ key: change.incident.id, value: JSON.stringify(change) }]);
}

/** Every page of a search, up to the store's result window; `truncated` when more matched than it serves. */
export async function searchAll(store: OperationsStore, filter: Omit<IncidentFilter, 'page' | 'size'>): Promise<{ incidents: Incident[]; truncated: boolean }> {
  const size = 500;
  const incidents: Incident[] = [];
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchIncidents({ ...filter, page, size });
    incidents.push(...res.incidents);
    if (page * size >= res.total) return { incidents, truncated: false };
  }
  return { incidents, truncated: true };
}
