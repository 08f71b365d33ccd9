import { levelRank, type Incident, type TimelineEntry } from '../incident.ts';
import type { UpsertResult } from './types.ts';

/** What an upsert stores: the input as a new incident, the stored copy as it is, or both merged. */
export function upsertOutcome(stored: Incident | null, incoming: Incident): UpsertResult {
  if (!stored) return { incident: { ...incoming, version: 1 }, created: true, changed: true };
  const merged = mergeCorrelated(stored, incoming);
  if (sameContent(merged, stored)) return { incident: stored, created: false, changed: false };
  return { incident: { ...merged, version: stored.version + 1, updated_at: later(incoming.updated_at, stored.updated_at) }, created: false, changed: true };
}

/**
 * The correlator's latest view of an incident merged into the stored copy. The correlator owns the
 * evidence (counts, times, hosts, severity); responders own status, assignee, the timeline and an
 * escalated layer, so those are never taken back from the input. Any store implementation uses this.
 */
export function mergeCorrelated(stored: Incident, incoming: Incident): Incident {
  return {
    ...stored,
    rule: incoming.rule,
    group: { ...stored.group, ...incoming.group },
    severity: levelRank(incoming.severity) > levelRank(stored.severity) ? incoming.severity : stored.severity,
    unit: stored.unit ?? incoming.unit,
    host: [...new Set([...stored.host, ...incoming.host])].sort(),
    first_seen: earlier(stored.first_seen, incoming.first_seen),
    last_seen: later(stored.last_seen, incoming.last_seen),
    alert_count: Math.max(stored.alert_count, incoming.alert_count),
    layer: Math.max(stored.layer, incoming.layer),
    report_due: stored.report_due ?? incoming.report_due,
    ack_due: stored.ack_due ?? incoming.ack_due,
    share_national: stored.share_national || incoming.share_national,
    runbook: incoming.runbook ?? stored.runbook,
    timeline: mergeTimelines(stored.timeline, incoming.timeline),
    applied: mergeApplied(stored.applied, incoming.applied),
    // The correlator's view of its early alerts replaces the stored one: confirmed ones leave it.
    provisional: incoming.provisional,
  };
}

/** Per input partition, the furthest offset either copy counted. */
function mergeApplied(stored: Record<string, number>, incoming: Record<string, number>): Record<string, number> {
  const out = { ...stored };
  for (const [k, v] of Object.entries(incoming)) out[k] = Math.max(out[k] ?? v, v);
  return out;
}

/** Whether two copies differ in anything but the bookkeeping fields. */
export function sameContent(a: Incident, b: Incident): boolean {
  const strip = ({ version: _v, updated_at: _u, ...rest }: Incident) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function mergeTimelines(stored: TimelineEntry[], incoming: TimelineEntry[]): TimelineEntry[] {
  const key = (e: TimelineEntry) => `${e.at}\u0000${e.actor}\u0000${e.action}`;
  const seen = new Set(stored.map(key));
  const added = incoming.filter((e) => !seen.has(key(e)));
  if (!added.length) return stored;
  return [...stored, ...added].sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}

function earlier(a: string, b: string): string {
  return Date.parse(b) < Date.parse(a) ? b : a;
}

function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}
