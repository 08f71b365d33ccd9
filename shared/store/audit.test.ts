import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../incident.ts';
import { appendAuditWithRetry } from './audit.ts';

const entry: AuditEntry = {
  id: 'au-1',
  '@timestamp': '2026-11-26T01:00:00.000Z',
  actor: 'lan',
  action: 'acknowledge',
  incident_id: 'i-1',
  source_ip: '127.0.0.1',
};

function store(failures: number) {
  const calls: AuditEntry[] = [];
  return {
    calls,
    async appendAudit(e: AuditEntry) {
      calls.push(e);
      if (calls.length <= failures) throw new Error('no shard available');
      return { created: true };
    },
  };
}

describe('appendAuditWithRetry', () => {
  it('rides out passing failures and writes the entry once they pass', async () => {
    const s = store(2);
    await appendAuditWithRetry(s, entry);
    expect(s.calls).toEqual([entry, entry, entry]);
  });

  it('lets the error surface after the last attempt', async () => {
    const s = store(10);
    await expect(appendAuditWithRetry(s, entry, 3)).rejects.toThrow('no shard available');
    expect(s.calls).toHaveLength(3);
  });
});
