import type { Alert, Incident, Level } from '../../../shared/incident.ts';
import { severityFor } from '../../../shared/incident.ts';
import { stableId } from '../../incidents/grouping.ts';
import type { PendingAlert } from '../../sinks/incidents.ts';
import { auditId, changeIncident, searchAll, SYSTEM_ACTOR, type Trail } from '../trail.ts';

/** The layer-3 audits; each has a rule identity of its own so its incidents group, route and report like any other. */
export type AuditName = 'coverage' | 'silent-source' | 'signature-age' | 'rule-health' | 'rule-speed';

export interface AuditRule {
  id: string;
  title: string;
  level: Level;
  runbook: string;
}

export const AUDIT_RULES: Record<AuditName, AuditRule> = {
  coverage: {
    id: 'canhgac-audit-coverage',
    title: 'Registered server without firewall or antivirus telemetry',
    level: 'medium',
    runbook:
      'Check that the server still logs (firewall and antivirus services running) and that its collector ships; the incident resolves itself when telemetry returns.',
  },
  'silent-source': {
    id: 'canhgac-audit-silent-source',
    title: 'Log source silent or losing lines',
    level: 'medium',
    runbook: 'Check the collector on the host (service up, spool not full, file rotated or moved); the incident resolves itself when the source speaks again.',
  },
  'signature-age': {
    id: 'canhgac-audit-signature-age',
    title: 'Antivirus signatures out of date',
    level: 'medium',
    runbook: 'Run the signature update on the server and check its access to the update mirror; the incident resolves itself after a successful update.',
  },
  'rule-health': {
    id: 'canhgac-audit-rule-health',
    title: 'Detection rule broken',
    level: 'low',
    runbook: 'Fix the rule file (canhgac rules lint names the line); until then its previous good version stays in force.',
  },
  'rule-speed': {
    id: 'canhgac-audit-rule-speed',
    title: 'Detection rule too slow',
    level: 'medium',
    runbook:
      'The rule overran its time per event repeatedly and is disabled. Move long inline value lists to an expand list (rules/lists/), narrow wildcards and regular expressions (canhgac rules lint warns about costly rules), then save the file: the new version loads enabled.',
  },
};

/** One thing an audit found wrong, identified by its group (the same gap found again is the same finding). */
export interface AuditFinding {
  audit: AuditName;
  group: Record<string, string>;
  host: string | null;
  /** A run's summary lists every host it found (host is then null). */
  hosts?: string[];
  unit: string | null;
  /** Raises the severity like any alert on that server (Decree 85/2016). */
  securityLevel?: number;
  message: string;
}

export const groupKeyOf = (group: Record<string, string>) =>
  Object.keys(group)
    .sort()
    .map((k) => `${k}=${group[k]}`)
    .join(',');

/** Where alerts become incidents: the correlator's IncidentSink fits (its write takes these). */
export interface AlertSink {
  write(pending: PendingAlert[]): Promise<unknown>;
}

/**
 * A finding as the alert of a synthetic layer-3 rule, so that it becomes an incident through the same
 * sink as detections (grouping, severity, deadlines, soc.incidents). Its input position is the audit run's
 * time: the sink's replay check needs a position that only grows.
 */
export function findingAlert(f: AuditFinding, at: Date): PendingAlert {
  const rule = AUDIT_RULES[f.audit];
  const groupKey = groupKeyOf(f.group);
  const ts = at.toISOString();
  const alert: Alert = {
    id: stableId('audit', rule.id, groupKey, ts),
    '@timestamp': ts,
    rule: { id: rule.id, title: rule.title, level: rule.level, layer: 3 },
    group: f.group,
    group_key: groupKey,
    incident_id: '',
    severity: severityFor(rule.level, f.securityLevel),
    host: f.hosts ?? (f.host ? [f.host] : []),
    unit: f.unit,
    drill: null,
    event_count: 1,
    event_ids: [],
    events: [
      {
        '@timestamp': ts,
        event: { kind: 'state', dataset: 'canhgac.audit', action: f.audit, original: f.message },
        ...(f.host ? { host: { name: f.host } } : {}),
        message: f.message,
      },
    ],
    window: { start: ts, end: ts },
  };
  return { alert, response: { runbook: rule.runbook, shareNational: false }, position: { stream: `audit/${f.audit}`, offset: at.getTime() } };
}

export interface AuditOutcome {
  audit: AuditName;
  findings: AuditFinding[];
  /** Incidents opened by this run (new findings) and resolved (findings gone). */
  opened: string[];
  resolved: string[];
}

const OPEN: Incident['status'][] = ['new', 'acknowledged'];

/**
 * Audits whose findings of one run come as one incident listing its hosts: nine silent sources after a
 * restart are one thing to look at, not nine rows. The others (signatures, broken rules) stay one a finding.
 */
const SUMMARISED = new Set<AuditName>(['coverage', 'silent-source']);

/** One run's findings as one: every host, the highest security level, one line per finding. */
export function summariseFindings(audit: AuditName, findings: AuditFinding[]): AuditFinding[] {
  if (!SUMMARISED.has(audit) || findings.length === 0) return findings;
  const hosts = [...new Set(findings.flatMap((f) => (f.host ? [f.host] : [])))].sort();
  const units = new Set(findings.map((f) => f.unit));
  const levels = findings.flatMap((f) => (f.securityLevel === undefined ? [] : [f.securityLevel]));
  return [
    {
      audit,
      group: { 'canhgac.audit': audit },
      host: null,
      hosts,
      unit: units.size === 1 ? [...units][0]! : null,
      ...(levels.length ? { securityLevel: Math.max(...levels) } : {}),
      message: findings.map((f) => f.message).join('\n'),
    },
  ];
}

/**
 * Applies one audit's findings: a finding without an open incident opens one (through the sink) and is
 * written to the audit trail; an open incident of the audit whose finding is gone resolves itself.
 * `owns` limits the run to what this instance sees (soc.raw is keyed by host; host-less findings are
 * asked with null) so that several correlators do not raise each other's gaps.
 */
export async function applyFindings(
  trail: Trail,
  sink: AlertSink,
  audit: AuditName,
  findings: AuditFinding[],
  owns: (host: string | null) => boolean = () => true,
): Promise<AuditOutcome> {
  const now = trail.now();
  const rule = AUDIT_RULES[audit];
  const mine = findings.filter((f) => owns(f.host));
  const summary = summariseFindings(audit, mine);
  const { incidents } = await searchAll(trail.store, { rule: rule.id, status: OPEN, drill: 'none' });
  const open = new Map(
    incidents.filter((i) => (SUMMARISED.has(audit) ? i.host.some((h) => owns(h)) || !i.host.length : owns(i.host[0] ?? null))).map((i) => [i.group_key, i]),
  );
  const outcome: AuditOutcome = { audit, findings: mine, opened: [], resolved: [] };

  // A summary whose open incident lacks some of its hosts is written again: the incident gains them.
  const fresh = summary.filter((f) => {
    const known = open.get(groupKeyOf(f.group));
    return !known || (f.hosts ?? []).some((h) => !known.host.includes(h));
  });
  if (fresh.length) {
    const pending = fresh.map((f) => findingAlert(f, now));
    await sink.write(pending);
    for (const [k, p] of pending.entries()) {
      if (!open.has(p.alert.group_key)) outcome.opened.push(p.alert.incident_id);
      await trail.store.appendAudit({
        id: auditId(`audit.${audit}`, p.alert.id),
        '@timestamp': now.toISOString(),
        actor: SYSTEM_ACTOR,
        action: `audit.${audit}`,
        incident_id: p.alert.incident_id || null,
        source_ip: null,
        after: { finding: fresh[k]!.message, group: fresh[k]!.group, ...(fresh[k]!.hosts ? { hosts: fresh[k]!.hosts } : {}) },
      });
    }
  }

  const current = new Set(summary.map((f) => groupKeyOf(f.group)));
  for (const [key, incident] of open) {
    if (current.has(key)) continue;
    const after = await changeIncident(trail, incident.id, 'resolve', (cur) => {
      if (!OPEN.includes(cur.status)) return null;
      return {
        ...cur,
        status: 'resolved',
        timeline: [
          ...cur.timeline,
          { at: now.toISOString(), actor: SYSTEM_ACTOR, action: 'resolve', note: `${audit} audit: no longer found`, from: cur.status, to: 'resolved' },
        ],
      };
    });
    if (after) outcome.resolved.push(after.id);
  }
  if (outcome.opened.length || outcome.resolved.length)
    trail.log.info({ audit, opened: outcome.opened.length, resolved: outcome.resolved.length }, 'audit findings applied');
  return outcome;
}
