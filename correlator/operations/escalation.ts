import type { Incident, Level } from '../../shared/incident.ts';
import { withReportDue } from './deadlines.ts';
import type { SecurityLevelOf } from './national/qualify.ts';
import { changeIncident, searchAll, SYSTEM_ACTOR, type Trail } from './trail.ts';

export const MAX_LAYER = 4;

export interface EscalationPolicy {
  /** Time the next layer has to acknowledge, by severity (the grouping's per-severity defaults). */
  ackDueMsByLevel: Record<Level, number>;
  /** Overrides by the layer the incident goes to (a provincial SOC answers faster than an assessor). */
  ackDueMsByLayer?: Partial<Record<number, number>>;
  /** Deadline to report nationally, set when escalation hands an incident to layer 4. */
  reportDueMs: number;
  securityLevelOf: SecurityLevelOf;
}

/**
 * The incident handed to the next layer when it is still new (nobody acknowledged it) past its ack_due;
 * null when it is not due. It stays new and unassigned for the next layer, with a new deadline from now.
 */
export function escalated(incident: Incident, now: Date, policy: EscalationPolicy): Incident | null {
  if (incident.status !== 'new' || incident.layer >= MAX_LAYER || incident.ack_due === null) return null;
  if (Date.parse(incident.ack_due) > now.getTime()) return null;
  const layer = incident.layer + 1;
  const ackMs = policy.ackDueMsByLayer?.[layer] ?? policy.ackDueMsByLevel[incident.severity];
  const ackDue = new Date(now.getTime() + ackMs).toISOString();
  const next: Incident = {
    ...incident,
    layer,
    assignee: null,
    ack_due: ackDue,
    timeline: [
      ...incident.timeline,
      {
        at: now.toISOString(),
        actor: SYSTEM_ACTOR,
        action: 'escalate',
        note: `not acknowledged by ${incident.ack_due}: handed to layer ${layer}`,
        from: { layer: incident.layer, ack_due: incident.ack_due, assignee: incident.assignee },
        to: { layer, ack_due: ackDue },
      },
    ],
  };
  return layer === MAX_LAYER ? (withReportDue(next, policy.securityLevelOf, policy.reportDueMs, now) ?? next) : next;
}

export interface EscalationRun {
  /** Incidents handed to the next layer by this run, as stored after the change. */
  escalated: Incident[];
  /** Unacknowledged incidents looked at. */
  checked: number;
  /** The store served only part of the unacknowledged incidents; the next run sees the rest. */
  truncated: boolean;
}

/**
 * The scheduled escalation: every unacknowledged incident below layer 4 past its ack_due goes one layer
 * up, recorded in its timeline and the audit trail and published. Safe with several instances running
 * it: the condition is checked again on the fresh copy, so only one of them escalates an incident.
 */
export async function escalateOverdue(trail: Trail, policy: EscalationPolicy): Promise<EscalationRun> {
  const now = trail.now();
  const { incidents, truncated } = await searchAll(trail.store, { status: 'new', layer: [1, 2, 3] });
  const run: EscalationRun = { escalated: [], checked: incidents.length, truncated };
  for (const candidate of incidents) {
    if (!escalated(candidate, now, policy)) continue;
    try {
      const after = await changeIncident(trail, candidate.id, 'escalate', (current) => escalated(current, now, policy));
      if (after) run.escalated.push(after);
    } catch (err) {
      // One incident that cannot be written must not hold back the others; the next run retries it.
      trail.log.warn({ incident: candidate.id, err: (err as Error).message }, 'escalation failed');
    }
  }
  if (run.escalated.length) trail.log.info({ escalated: run.escalated.map((i) => ({ id: i.id, layer: i.layer })) }, 'incidents escalated');
  if (truncated) trail.log.warn({ checked: run.checked }, 'more unacknowledged incidents than one run reads; the next run continues');
  return run;
}
