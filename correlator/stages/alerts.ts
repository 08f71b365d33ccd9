import type { NormalizedEvent } from '../../shared/event.ts';
import { severityFor, type Alert } from '../../shared/incident.ts';
import type { RuleInfo } from '../detection/model.ts';
import { stableId } from '../incidents/grouping.ts';
import type { PendingAlert } from '../sinks/incidents.ts';
import type { AssetLookup } from './rules.ts';

/** A correlation's hit as the alert needs it. */
export interface WindowHit {
  rule: RuleInfo;
  group: Record<string, string>;
  refs: string[];
  start: number;
  end: number;
  count: number;
  drill: string | null;
}

function ruleRef(rule: RuleInfo): Alert['rule'] {
  return { id: rule.id, title: rule.title, level: rule.level, layer: Math.min(4, Math.max(1, rule.layer)) };
}

function groupKey(group: Record<string, string>): string {
  return Object.keys(group)
    .sort()
    .map((k) => `${k}=${group[k]}`)
    .join(',');
}

function response(rule: RuleInfo): PendingAlert['response'] {
  return {
    runbook: rule.response.runbook ?? undefined,
    escalateAfterMs: rule.response.escalateAfterMs ?? undefined,
    shareNational: rule.response.shareNational,
  };
}

/** The highest security level among the hosts decides the severity; the first known unit names the owner. */
function assetContext(hosts: string[], assets: AssetLookup, fallbackUnit: string | null) {
  let level: number | undefined;
  let unit = fallbackUnit;
  for (const h of hosts) {
    const a = assets(h);
    if (a?.securityLevel !== undefined) level = Math.max(level ?? 0, a.securityLevel);
    unit ??= a?.unit ?? null;
  }
  return { level, unit };
}

/** A single-event rule's alert: grouped by host, one alert per event (id from rule and event). */
export function singleEventAlert(rule: RuleInfo, event: NormalizedEvent, stream: string, offset: number, assets: AssetLookup): PendingAlert {
  const host = event.host?.name ?? 'unknown';
  const ts = event['@timestamp'];
  const { level, unit } = assetContext([host], assets, event.labels?.unit ?? null);
  const group = { 'host.name': host };
  return {
    alert: {
      id: stableId('alert', rule.id, event.event.id ?? `${stream}/${offset}`),
      '@timestamp': new Date(Date.parse(ts)).toISOString(),
      rule: ruleRef(rule),
      group,
      group_key: groupKey(group),
      incident_id: '',
      severity: severityFor(rule.level, level),
      host: [host],
      unit,
      drill: event.labels?.drill ?? null,
      event_count: 1,
      event_ids: event.event.id ? [event.event.id] : [],
      events: [event as Record<string, unknown>],
      window: { start: new Date(Date.parse(ts)).toISOString(), end: new Date(Date.parse(ts)).toISOString() },
    },
    response: response(rule),
    position: { stream, offset },
  };
}

/** A correlation's alert: id from the rule, the group and the first event of the window. */
export function correlationAlert(hit: WindowHit, events: NormalizedEvent[], stream: string, offset: number, assets: AssetLookup, keep: number): PendingAlert {
  const hosts = [...new Set(events.map((e) => e.host?.name).filter((h): h is string => !!h))].sort();
  const drill = hit.drill;
  const { level, unit } = assetContext(hosts, assets, events.find((e) => e.labels?.unit)?.labels?.unit ?? null);
  const key = groupKey(hit.group);
  const end = new Date(hit.end).toISOString();
  return {
    alert: {
      id: stableId('correlation', hit.rule.id, key, drill ?? '', String(hit.start), hit.refs[0] ?? ''),
      '@timestamp': end,
      rule: ruleRef(hit.rule),
      group: hit.group,
      group_key: key,
      incident_id: '',
      severity: severityFor(hit.rule.level, level),
      host: hosts,
      unit,
      drill,
      event_count: hit.count,
      event_ids: hit.refs,
      events: events.slice(0, keep) as Record<string, unknown>[],
      window: { start: new Date(hit.start).toISOString(), end },
    },
    response: response(hit.rule),
    position: { stream, offset },
  };
}
