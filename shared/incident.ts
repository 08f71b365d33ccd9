import { z } from 'zod';

/** Alerts, incidents, their changes on soc.incidents and the audit trail (ARCHITECTURE.md, "Incidents"). */
export const Level = z.enum(['informational', 'low', 'medium', 'high', 'critical']);
export type Level = z.infer<typeof Level>;
export const Layer = z.number().int().min(1).max(4);
export const IncidentStatus = z.enum(['new', 'acknowledged', 'resolved', 'false_positive']);
export type IncidentStatus = z.infer<typeof IncidentStatus>;

export const RuleRef = z.object({
  id: z.string(),
  title: z.string(),
  level: Level,
  layer: Layer,
});

export const AlertSchema = z.object({
  /** Deterministic: the same input processed twice yields the same id. */
  id: z.string(),
  '@timestamp': z.iso.datetime({ offset: true }),
  rule: RuleRef,
  /** The group-by values of a correlation, or the host for single-event rules. */
  group: z.record(z.string(), z.string()),
  group_key: z.string(),
  incident_id: z.string(),
  severity: Level,
  host: z.array(z.string()).default([]),
  unit: z.string().nullable().default(null),
  drill: z.string().nullable().default(null),
  event_count: z.number().int().nonnegative(),
  /** Ids of the triggering events (event.id), and the first few events themselves for the console. */
  event_ids: z.array(z.string()).default([]),
  events: z.array(z.record(z.string(), z.unknown())).default([]),
  window: z.object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) }),
  /**
   * Set on a correlation alert raised early that the ordered evaluation did not confirm (events arrived
   * out of order): kept, marked, never counted in an incident.
   */
  retracted: z.object({ at: z.iso.datetime({ offset: true }), reason: z.string() }).optional(),
});
export type Alert = z.infer<typeof AlertSchema>;

export const TimelineEntry = z.object({
  at: z.iso.datetime({ offset: true }),
  actor: z.string(),
  action: z.string(),
  note: z.string().optional(),
  /** Why a responder escalated or closed the incident (the console asks for it). */
  reason: z.string().optional(),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** An early alert counted in an incident before the ordered evaluation confirmed it. */
export const ProvisionalAlertSchema = z.object({
  alert: AlertSchema,
  response: z.object({ runbook: z.string().optional(), escalateAfterMs: z.number().optional(), shareNational: z.boolean().optional() }),
  position: z.object({ stream: z.string(), offset: z.number() }),
  /** When it was first counted (correlator clock): folding it again gives the same incident. */
  at: z.iso.datetime({ offset: true }),
});
export type ProvisionalAlert = z.infer<typeof ProvisionalAlertSchema>;

const IncidentFields = z.object({
  id: z.string(),
  rule: RuleRef,
  group: z.record(z.string(), z.string()),
  group_key: z.string(),
  status: IncidentStatus,
  /** The owner now: the rule's layer, raised by escalation. */
  layer: Layer,
  severity: Level,
  unit: z.string().nullable(),
  host: z.array(z.string()),
  assignee: z.string().nullable(),
  first_seen: z.iso.datetime({ offset: true }),
  last_seen: z.iso.datetime({ offset: true }),
  alert_count: z.number().int().positive(),
  drill: z.string().nullable(),
  report_due: z.iso.datetime({ offset: true }).nullable(),
  ack_due: z.iso.datetime({ offset: true }).nullable(),
  share_national: z.boolean(),
  runbook: z.string().nullable(),
  timeline: z.array(TimelineEntry),
  /**
   * The last input position (topic/partition -> offset) whose alert this incident counted, so that a
   * replay after a crash skips alerts already counted instead of counting them twice.
   */
  applied: z.record(z.string(), z.number().int()).default({}),
  /** Bumped by every change, so that a reader can tell which of two copies is newer. */
  version: z.number().int().nonnegative(),
  updated_at: z.iso.datetime({ offset: true }),
});

export const IncidentSchema = IncidentFields.extend({
  /**
   * While early alerts await the ordered evaluation: the incident as the confirmed alerts alone make it
   * (null: none yet) and the early alerts folded on top of it, in the order they came. Gone once every
   * early alert is confirmed or retracted; the incident is then exactly what the ordered run writes.
   */
  provisional: z.object({ settled: IncidentFields.nullable(), alerts: z.array(ProvisionalAlertSchema) }).optional(),
  /** Set when the only alerts that raised it were early alerts the ordered evaluation retracted. */
  withdrawn: z.object({ at: z.iso.datetime({ offset: true }), reason: z.string() }).optional(),
});
export type Incident = z.infer<typeof IncidentSchema>;
export type SettledIncident = z.infer<typeof IncidentFields>;

/** A message on soc.incidents (key = incident id). */
export const IncidentChangeSchema = z.object({
  type: z.enum(['created', 'updated', 'purged']),
  at: z.iso.datetime({ offset: true }),
  incident: IncidentSchema,
});
export type IncidentChange = z.infer<typeof IncidentChangeSchema>;

/** Append-only audit trail entry: who did what, when, from where, before and after. */
export const AuditEntrySchema = z.object({
  id: z.string(),
  '@timestamp': z.iso.datetime({ offset: true }),
  actor: z.string(),
  action: z.string(),
  incident_id: z.string().nullable(),
  source_ip: z.string().nullable(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

const LEVELS: Level[] = ['informational', 'low', 'medium', 'high', 'critical'];

export function levelRank(l: Level): number {
  return LEVELS.indexOf(l);
}

/**
 * Severity rises with the asset's security level (Decree 85/2016, levels 1-5):
 * levels 1-2 keep the rule's level, 3-4 raise it one step, 5 raises it two; never above critical.
 */
export function severityFor(ruleLevel: Level, assetSecurityLevel: number | undefined): Level {
  const bump = assetSecurityLevel === undefined || assetSecurityLevel <= 2 ? 0 : assetSecurityLevel <= 4 ? 1 : 2;
  return LEVELS[Math.min(LEVELS.length - 1, levelRank(ruleLevel) + bump)]!;
}
