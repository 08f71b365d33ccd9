import type { AuditEntry } from '../../../shared/incident.ts';
import { replayAuditEntry, type ReplaySpeed } from '../replay.ts';

/** The audit entry of a replay of `lines` lines that ended at `at`, as `drill replay` writes it. */
export function replayEnded(drillId: string, at: Date, o: { lines?: number; speed?: ReplaySpeed; shiftMs?: number } = {}): AuditEntry {
  const lines = o.lines ?? 10;
  return replayAuditEntry(
    {
      sent: lines,
      drillId,
      shiftMs: o.shiftMs ?? 0,
      passes: 1,
      skipped: 0,
      stopped: false,
      lineNo: lines,
      summary: { lines, envelopes: lines, firstReceived: 0, lastReceived: 0 },
    },
    'recording.ndjson.gz',
    o.speed ?? 'max',
    'cli:test',
    at,
  );
}
