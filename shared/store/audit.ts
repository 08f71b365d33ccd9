import type { AuditEntry } from '../incident.ts';
import type { IncidentStore } from './types.ts';

/**
 * The audit trail must not lose an entry to a passing hiccup: a few retries, then the error surfaces.
 * Entries have content-derived ids, so a retry after a write that did land leaves one document.
 */
export async function appendAuditWithRetry(store: Pick<IncidentStore, 'appendAudit'>, entry: AuditEntry, attempts = 4): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await store.appendAudit(entry);
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 50 * 2 ** i));
    }
  }
}
