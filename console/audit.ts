import { createHash } from 'node:crypto';
import type { AuditEntry } from '../shared/incident.ts';
import type { IncidentStore } from '../shared/store/types.ts';

/** Content-derived id: writing the same entry twice (a retry) leaves one document. */
export function auditEntry(e: Omit<AuditEntry, 'id'>, discriminator: string): AuditEntry {
  const id = createHash('sha256').update(JSON.stringify([e['@timestamp'], e.actor, e.action, e.incident_id, discriminator])).digest('hex').slice(0, 32);
  return { id, ...e };
}

/** The audit trail must not lose an entry to a passing hiccup: a few retries, then the error surfaces. */
export async function appendAuditWithRetry(store: IncidentStore, entry: AuditEntry, attempts = 4): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await store.appendAudit(entry);
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** i));
    }
  }
}
