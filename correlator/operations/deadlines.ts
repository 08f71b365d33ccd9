import type { Incident } from '../../shared/incident.ts';
import { qualifiesNational, type SecurityLevelOf } from './national/qualify.ts';
import { searchAll, SYSTEM_ACTOR, type OperationsStore } from './trail.ts';

/** The timeline action of a successful national export; an incident with one has been reported. */
export const NATIONAL_EXPORT_ACTION = 'national_export';

export function nationallyReported(incident: Incident): boolean {
  return incident.timeline.some((t) => t.action === NATIONAL_EXPORT_ACTION);
}

/**
 * The incident with report_due set when it qualifies for the national centre and has none yet (the
 * grouping sets it only for share_national rules): detection time plus the allowed delay, noted on the
 * timeline. Null when nothing changes.
 */
export function withReportDue(incident: Incident, securityLevelOf: SecurityLevelOf, reportDueMs: number, now: Date): Incident | null {
  if (incident.report_due !== null || !qualifiesNational(incident, securityLevelOf)) return null;
  const due = new Date(Date.parse(incident.first_seen) + reportDueMs).toISOString();
  return {
    ...incident,
    report_due: due,
    timeline: [
      ...incident.timeline,
      { at: now.toISOString(), actor: SYSTEM_ACTOR, action: 'report_due', note: `to be reported to the national centre by ${due}`, to: due },
    ],
  };
}

export interface DeadlineEntry {
  id: string;
  title: string;
  unit: string | null;
  severity: Incident['severity'];
  layer: number;
  report_due: string;
  /** Negative once overdue. */
  remaining_ms: number;
}

export interface NationalDeadlines {
  at: string;
  overdue: DeadlineEntry[];
  due_soon: DeadlineEntry[];
  /** True when the store served only part of the incidents with a deadline. */
  truncated: boolean;
}

/**
 * Incidents that must be reported nationally and are not yet: overdue, and due within `soonMs`.
 * Drills never have a deadline.
 */
export async function nationalDeadlines(store: OperationsStore, now: Date, soonMs: number): Promise<NationalDeadlines> {
  const { incidents, truncated } = await searchAll(store, { drill: 'none' });
  const entries = incidents
    .filter((i) => i.report_due !== null && !nationallyReported(i))
    .map(
      (i): DeadlineEntry => ({
        id: i.id,
        title: i.rule.title,
        unit: i.unit,
        severity: i.severity,
        layer: i.layer,
        report_due: i.report_due!,
        remaining_ms: Date.parse(i.report_due!) - now.getTime(),
      }),
    )
    .sort((a, b) => a.remaining_ms - b.remaining_ms || (a.id < b.id ? -1 : 1));
  return {
    at: now.toISOString(),
    overdue: entries.filter((e) => e.remaining_ms < 0),
    due_soon: entries.filter((e) => e.remaining_ms >= 0 && e.remaining_ms <= soonMs),
    truncated,
  };
}
