import { createHash } from 'node:crypto';
import type { Alert, Incident, Level } from '../../shared/incident.ts';

/** How alerts become incidents: suppression window, deadlines. All durations in milliseconds. */
export interface IncidentPolicy {
  suppressionMs: number;
  /** Time allowed to report a qualifying incident to the national centre (default 5 days). */
  reportDueMs: number;
  /** Acknowledgement deadline when the rule gives none (response.escalate_after). */
  ackDueMsByLevel: Record<Level, number>;
}

const MINUTE = 60_000;
export const DEFAULT_POLICY: IncidentPolicy = {
  suppressionMs: 60 * MINUTE,
  reportDueMs: 5 * 24 * 60 * MINUTE,
  ackDueMsByLevel: { critical: 15 * MINUTE, high: 30 * MINUTE, medium: 4 * 60 * MINUTE, low: 24 * 60 * MINUTE, informational: 72 * 60 * MINUTE },
};

export interface RuleResponse {
  runbook?: string;
  escalateAfterMs?: number;
  shareNational?: boolean;
}

export interface AlertPosition {
  /** "topic/partition" of the input message that produced the alert. */
  stream: string;
  offset: number;
}

export type Outcome = { kind: 'created'; incident: Incident } | { kind: 'updated'; incident: Incident } | { kind: 'skipped'; reason: 'already-counted' };

export function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Alert ids remembered per incident: a timer-triggered alert re-emitted after a restart is recognised. */
const RECENT_ALERTS = 64;
const ALERT_KEY = 'alert:';

/** The positions counted plus this alert's id, keeping only the most recent alert ids. */
function applyPosition(applied: Record<string, number>, at: AlertPosition, alert: Alert): Record<string, number> {
  const next = { ...applied, [at.stream]: at.offset, [`${ALERT_KEY}${alert.id}`]: Date.parse(alert['@timestamp']) };
  const ids = Object.keys(next).filter((k) => k.startsWith(ALERT_KEY));
  if (ids.length > RECENT_ALERTS) {
    ids.sort((a, b) => next[a]! - next[b]!);
    for (const k of ids.slice(0, ids.length - RECENT_ALERTS)) delete next[k];
  }
  return next;
}

const LEVEL_ORDER: Level[] = ['informational', 'low', 'medium', 'high', 'critical'];
const maxLevel = (a: Level, b: Level): Level => (LEVEL_ORDER.indexOf(a) >= LEVEL_ORDER.indexOf(b) ? a : b);
const closed = (i: Incident) => i.status === 'resolved' || i.status === 'false_positive';

/**
 * Folds one alert into the current incident of its rule and group key. Deterministic: the same alerts
 * in the same order give the same incidents, and an alert already counted (per input position) is skipped.
 * Deadlines (acknowledge, national report) count from `now`, when the incident is first raised, not from
 * the events' time: events stamped 09:55 that raise an incident at 10:00 with a 15-minute deadline leave
 * the responders 15 minutes. A drill's incidents too: responders answer in real minutes at any replay speed.
 */
export function foldAlert(current: Incident | null, alert: Alert, response: RuleResponse, at: AlertPosition, policy: IncidentPolicy, now: Date): Outcome {
  const alertTime = Date.parse(alert['@timestamp']);
  const nowIso = now.toISOString();
  // Counted before: the same alert (by id), or any alert from input older than the last one counted.
  // One input message can raise several alerts, so an equal position alone proves nothing.
  if (current && ((current.applied[at.stream] ?? -1) > at.offset || `${ALERT_KEY}${alert.id}` in current.applied))
    return { kind: 'skipped', reason: 'already-counted' };
  const joins =
    current &&
    !closed(current) &&
    alertTime - Date.parse(current.last_seen) <= policy.suppressionMs &&
    alertTime >= Date.parse(current.first_seen) - policy.suppressionMs;
  if (current && joins) {
    const lastSeen = Math.max(Date.parse(current.last_seen), alertTime);
    const firstSeen = Math.min(Date.parse(current.first_seen), alertTime);
    return {
      kind: 'updated',
      incident: {
        ...current,
        severity: maxLevel(current.severity, alert.severity),
        host: [...new Set([...current.host, ...alert.host])].sort(),
        first_seen: new Date(firstSeen).toISOString(),
        last_seen: new Date(lastSeen).toISOString(),
        alert_count: current.alert_count + 1,
        applied: applyPosition(current.applied, at, alert),
        version: current.version + 1,
        updated_at: nowIso,
      },
    };
  }
  const ackMs = response.escalateAfterMs ?? policy.ackDueMsByLevel[alert.severity];
  const shareNational = response.shareNational ?? false;
  return {
    kind: 'created',
    incident: {
      // Named after its first alert's id, not its time: an early alert that the ordered evaluation corrects
      // (a late line moved the window's end) keeps its id, so the correction lands on the incident it raised.
      id: stableId(alert.rule.id, alert.group_key, alert.drill ?? '', alert.id),
      rule: alert.rule,
      group: alert.group,
      group_key: alert.group_key,
      status: 'new',
      layer: alert.rule.layer,
      severity: alert.severity,
      unit: alert.unit,
      host: [...alert.host].sort(),
      assignee: null,
      first_seen: alert['@timestamp'],
      last_seen: alert['@timestamp'],
      alert_count: 1,
      drill: alert.drill,
      // Drills are never reported to the national centre.
      report_due: shareNational && !alert.drill ? new Date(now.getTime() + policy.reportDueMs).toISOString() : null,
      ack_due: new Date(now.getTime() + ackMs).toISOString(),
      share_national: shareNational,
      runbook: response.runbook ?? null,
      timeline: [{ at: nowIso, actor: 'canhgac', action: 'created', note: `first alert at ${alert['@timestamp']}` }],
      applied: applyPosition({}, at, alert),
      version: 1,
      updated_at: nowIso,
    },
  };
}
