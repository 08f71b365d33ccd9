import { createHash } from 'node:crypto';
import type { AuditEntry } from '../shared/incident.ts';

/** Content-derived id: writing the same entry twice (a retry) leaves one document. */
export function auditEntry(e: Omit<AuditEntry, 'id'>, discriminator: string): AuditEntry {
  const id = createHash('sha256')
    .update(JSON.stringify([e['@timestamp'], e.actor, e.action, e.incident_id, discriminator]))
    .digest('hex')
    .slice(0, 32);
  return { id, ...e };
}
