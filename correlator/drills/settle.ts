import type { IncidentStore } from '../../shared/store/types.ts';
import { REPLAY_AUDIT_ACTION } from './replay.ts';
import { drillIncidents } from './score.ts';

/**
 * How long nothing of a drill must change before `drill purge` and `drill score` of a deployment take
 * its incidents as final. The correlators run elsewhere and cannot be asked whether the drill is closed
 * (as `canhgac start` asks its own, Correlator.drillSettled); they close a drill's last windows once its
 * input has been quiet for 2 s, on a 2 s timer, and then write its last alerts: well within this.
 */
export const DRILL_QUIET_MS = 8000;

/** How long purge and score wait for a drill to go quiet before they give up. */
export const DRILL_QUIET_TIMEOUT_MS = 60_000;

/** The latest sign of a drill's activity in the store: its replay's end (audit trail) or a change to one of its incidents; -Infinity for none. */
export async function lastDrillChange(store: IncidentStore, drillId: string): Promise<number> {
  let last = -Infinity;
  const replays = await store.searchAudit({ action: REPLAY_AUDIT_ACTION, size: 500 });
  for (const e of replays.entries) {
    const after = e.after as { drill?: unknown } | null;
    if (after?.drill === drillId) last = Math.max(last, Date.parse(e['@timestamp']));
  }
  for (const i of await drillIncidents(store, drillId)) last = Math.max(last, Date.parse(i.updated_at));
  return last;
}

export interface QuietOptions {
  quietMs?: number;
  timeoutMs?: number;
  /** Called when the drill changed lately and the wait begins, with how long it may last at most. */
  onWait?: (remainingMs: number) => void;
}

/**
 * Resolves true once nothing of the drill changed for `quietMs` (at once for a drill long finished),
 * false when it still changes after `timeoutMs`: a replay still sending, or a correlator far behind.
 */
export async function untilDrillQuiet(store: IncidentStore, drillId: string, o: QuietOptions = {}): Promise<boolean> {
  const quietMs = o.quietMs ?? DRILL_QUIET_MS;
  const deadline = Date.now() + (o.timeoutMs ?? DRILL_QUIET_TIMEOUT_MS);
  let told = false;
  for (;;) {
    const since = Date.now() - (await lastDrillChange(store, drillId));
    if (since >= quietMs) return true;
    if (Date.now() >= deadline) return false;
    if (!told) o.onWait?.(deadline - Date.now());
    told = true;
    await new Promise((r) => setTimeout(r, Math.min(quietMs - since, 500, Math.max(0, deadline - Date.now()))));
  }
}
