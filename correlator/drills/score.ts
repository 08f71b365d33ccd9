import type { Incident, Level, TimelineEntry } from '../../shared/incident.ts';
import { MAX_RESULT_WINDOW, type IncidentStore } from '../../shared/store/types.ts';
import { REPLAY_AUDIT_ACTION } from './replay.ts';
import { triggerOf, type ExpectedIncident, type Scenario } from './scenario.ts';

export interface IncidentResponse {
  id: string;
  rule: { id: string; title: string; layer: number };
  group: Record<string, string>;
  severity: Level;
  status: Incident['status'];
  layer: number;
  first_seen: string;
  created_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  /** Wall-clock, from creation; null while it has not happened. */
  time_to_acknowledge_ms: number | null;
  time_to_resolve_ms: number | null;
  acknowledge_target_ms: number | null;
  /** null when there is no target for the severity, or it was never acknowledged and is still inside it. */
  acknowledged_in_target: boolean | null;
  escalations: { at: string; actor: string; from_layer: number | null; to_layer: number | null }[];
}

export interface ExpectedResult {
  rule: string;
  title: string;
  group: Record<string, string>;
  layer: number | null;
  within_ms: number;
  /** Trigger in the replay's timeline (recording trigger + shift). */
  trigger: string;
  outcome: 'detected' | 'late' | 'missed';
  /** Incidents that match this expectation, earliest first; the first one is the detection. */
  incidents: string[];
  time_to_detect_ms: number | null;
}

export interface ScoreReport {
  scenario: { name: string; title: string; file: string };
  drill: string;
  shift_ms: number;
  /** Where the shift came from: given by the caller, the replay's audit entry, or none found (0). */
  shift_source: 'given' | 'audit' | 'none';
  scored_at: string;
  expected: ExpectedResult[];
  unexpected: string[];
  incidents: IncidentResponse[];
  summary: {
    expected: number;
    found: number;
    detected_in_time: number;
    late: number;
    missed: number;
    unexpected: number;
    incidents: number;
    acknowledged: number;
    acknowledged_in_target: number;
    resolved: number;
    escalations: number;
    median_time_to_acknowledge_ms: number | null;
    median_time_to_resolve_ms: number | null;
  };
  /** Every expected incident was detected in time: the drill's exit status is 0. */
  passed: boolean;
}

/** All incidents of one drill, page by page (a drill never comes near the store's result window). */
export async function drillIncidents(store: IncidentStore, drillId: string): Promise<Incident[]> {
  const size = 500;
  const out: Incident[] = [];
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchIncidents({ drill: drillId, page, size });
    out.push(...res.incidents);
    if (res.incidents.length < size || out.length >= res.total) break;
  }
  return out;
}

/** The shift of the drill's latest replay, from the audit entry the replay command wrote. */
export async function replayShiftOf(store: IncidentStore, drillId: string): Promise<number | null> {
  const page = await store.searchAudit({ action: REPLAY_AUDIT_ACTION, size: 500 });
  const mine = page.entries
    .filter((e) => isRecord(e.after) && e.after.drill === drillId && typeof e.after.shiftMs === 'number')
    .sort((a, b) => b['@timestamp'].localeCompare(a['@timestamp']));
  return mine.length ? (mine[0]!.after as { shiftMs: number }).shiftMs : null;
}

/**
 * Scores a drill against its scenario (see scenario.ts for what the times mean). Reads the store only.
 * The shift is the one the recording was replayed with; absent, it is looked up in the audit trail.
 */
export async function scoreDrill(store: IncidentStore, scenario: Scenario, drillId: string, opts: { shiftMs?: number; now?: Date } = {}): Promise<ScoreReport> {
  let shift = opts.shiftMs ?? null;
  let shiftSource: ScoreReport['shift_source'] = shift === null ? 'none' : 'given';
  if (shift === null) {
    shift = await replayShiftOf(store, drillId);
    shiftSource = shift === null ? 'none' : 'audit';
  }
  const shiftMs = shift ?? 0;
  const now = opts.now ?? new Date();
  const incidents = (await drillIncidents(store, drillId)).sort((a, b) => a.first_seen.localeCompare(b.first_seen) || a.id.localeCompare(b.id));
  const matched = new Set<string>();
  const expected = scenario.expected.map((exp): ExpectedResult => {
    const hits = incidents.filter((i) => matches(exp, i));
    for (const h of hits) matched.add(h.id);
    const trigger = triggerOf(scenario, exp) + shiftMs;
    const first = hits[0];
    const ttd = first ? Date.parse(first.first_seen) - trigger : null;
    return {
      rule: exp.rule,
      title: exp.title ?? first?.rule.title ?? exp.rule,
      group: exp.group,
      layer: exp.layer ?? null,
      within_ms: exp.within,
      trigger: new Date(trigger).toISOString(),
      outcome: ttd === null ? 'missed' : ttd <= exp.within ? 'detected' : 'late',
      incidents: hits.map((h) => h.id),
      time_to_detect_ms: ttd,
    };
  });
  const responses = incidents.map((i) => responseOf(i, scenario, now));
  const tta = responses.flatMap((r) => (r.time_to_acknowledge_ms === null ? [] : [r.time_to_acknowledge_ms]));
  const ttr = responses.flatMap((r) => (r.time_to_resolve_ms === null ? [] : [r.time_to_resolve_ms]));
  const count = (o: ExpectedResult['outcome']) => expected.filter((e) => e.outcome === o).length;
  const unexpected = incidents.filter((i) => !matched.has(i.id)).map((i) => i.id);
  return {
    scenario: { name: scenario.name, title: scenario.title, file: scenario.file },
    drill: drillId,
    shift_ms: shiftMs,
    shift_source: shiftSource,
    scored_at: now.toISOString(),
    expected,
    unexpected,
    incidents: responses,
    summary: {
      expected: expected.length,
      found: expected.length - count('missed'),
      detected_in_time: count('detected'),
      late: count('late'),
      missed: count('missed'),
      unexpected: unexpected.length,
      incidents: incidents.length,
      acknowledged: tta.length,
      acknowledged_in_target: responses.filter((r) => r.acknowledged_in_target === true).length,
      resolved: ttr.length,
      escalations: responses.reduce((n, r) => n + r.escalations.length, 0),
      median_time_to_acknowledge_ms: median(tta),
      median_time_to_resolve_ms: median(ttr),
    },
    passed: expected.every((e) => e.outcome === 'detected'),
  };
}

function matches(exp: ExpectedIncident, i: Incident): boolean {
  if (i.rule.id !== exp.rule) return false;
  if (exp.layer !== undefined && i.rule.layer !== exp.layer) return false;
  return Object.entries(exp.group).every(([k, v]) => i.group[k] === v);
}

const firstAction = (timeline: TimelineEntry[], actions: string[]) =>
  timeline.filter((t) => actions.includes(t.action)).sort((a, b) => a.at.localeCompare(b.at))[0];

function responseOf(i: Incident, scenario: Scenario, now: Date): IncidentResponse {
  const created = firstAction(i.timeline, ['created'])?.at ?? i.first_seen;
  const ack = firstAction(i.timeline, ['acknowledge'])?.at ?? null;
  const resolved = firstAction(i.timeline, ['resolve', 'false_positive'])?.at ?? null;
  const since = (t: string | null) => (t === null ? null : Date.parse(t) - Date.parse(created));
  const target = scenario.response.acknowledge[i.severity] ?? null;
  const tta = since(ack);
  const inTarget = target === null ? null : tta !== null ? tta <= target : now.getTime() - Date.parse(created) > target ? false : null;
  return {
    id: i.id,
    rule: { id: i.rule.id, title: i.rule.title, layer: i.rule.layer },
    group: i.group,
    severity: i.severity,
    status: i.status,
    layer: i.layer,
    first_seen: i.first_seen,
    created_at: created,
    acknowledged_at: ack,
    resolved_at: resolved,
    time_to_acknowledge_ms: tta,
    time_to_resolve_ms: since(resolved),
    acknowledge_target_ms: target,
    acknowledged_in_target: inTarget,
    escalations: i.timeline
      .filter((t) => t.action === 'escalate')
      .map((t) => ({ at: t.at, actor: t.actor, from_layer: layerIn(t.from), to_layer: layerIn(t.to) })),
  };
}

function layerIn(v: unknown): number | null {
  return isRecord(v) && typeof v.layer === 'number' ? v.layer : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

/** 90s, 4m 05s, 1h 02m: how a person reads a duration in a report. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  const sign = ms < 0 ? '-' : '';
  let s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${sign}${s}s`;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h ? `${sign}${h}h ${String(m).padStart(2, '0')}m` : `${sign}${m}m ${String(s).padStart(2, '0')}s`;
}

/** The report as plain text for the terminal. */
export function formatScoreText(r: ScoreReport): string {
  const out: string[] = [];
  out.push(`Drill ${r.drill} — scenario ${r.scenario.name}: ${r.scenario.title}`);
  out.push(`Shift ${r.shift_ms} ms (${r.shift_source === 'none' ? 'no replay found in the audit trail; 0 assumed' : r.shift_source})`);
  out.push('');
  out.push('Expected detections');
  for (const e of r.expected) {
    const group = Object.entries(e.group)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const mark = e.outcome === 'detected' ? 'OK  ' : e.outcome === 'late' ? 'LATE' : 'MISS';
    out.push(
      `  ${mark} ${e.title}${group ? ` [${group}]` : ''}: time to detect ${formatDuration(e.time_to_detect_ms)} (within ${formatDuration(e.within_ms)})${e.incidents.length > 1 ? `, ${e.incidents.length} incidents` : ''}`,
    );
  }
  if (r.unexpected.length) {
    out.push('');
    out.push('Unexpected incidents');
    for (const id of r.unexpected) {
      const i = r.incidents.find((x) => x.id === id)!;
      out.push(
        `  ${i.rule.title} [${Object.entries(i.group)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}] ${i.severity}, first seen ${i.first_seen}`,
      );
    }
  }
  out.push('');
  out.push('Response');
  for (const i of r.incidents) {
    const target =
      i.acknowledge_target_ms === null ? '' : ` (target ${formatDuration(i.acknowledge_target_ms)}${i.acknowledged_in_target === false ? ', MISSED' : ''})`;
    const esc = i.escalations.length ? `, escalated ${i.escalations.map((e) => `${e.from_layer ?? '?'}->${e.to_layer ?? '?'}`).join(', ')}` : '';
    out.push(
      `  ${i.id.slice(0, 12)} ${i.rule.title} ${i.severity} ${i.status}: acknowledge ${formatDuration(i.time_to_acknowledge_ms)}${target}, resolve ${formatDuration(i.time_to_resolve_ms)}${esc}`,
    );
  }
  const s = r.summary;
  out.push('');
  out.push(
    `Summary: ${s.expected} expected, ${s.found} found (${s.detected_in_time} in time, ${s.late} late), ${s.missed} missed, ${s.unexpected} unexpected; ` +
      `${s.acknowledged}/${s.incidents} acknowledged (${s.acknowledged_in_target} in target, median ${formatDuration(s.median_time_to_acknowledge_ms)}), ` +
      `${s.resolved} resolved (median ${formatDuration(s.median_time_to_resolve_ms)}), ${s.escalations} escalations`,
  );
  out.push(r.passed ? 'PASSED: every expected incident was detected in time' : 'FAILED: not every expected incident was detected in time');
  return out.join('\n');
}
