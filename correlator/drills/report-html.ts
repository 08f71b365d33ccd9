import { formatDuration, type ScoreReport } from './score.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const groupText = (g: Record<string, string>) =>
  Object.entries(g)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** A self-contained HTML page (no scripts, no network) that a team can keep with the drill's minutes. */
export function scoreReportHtml(r: ScoreReport): string {
  const s = r.summary;
  const outcome = { detected: 'in time', late: 'late', missed: 'missed' } as const;
  const expectedRows = r.expected
    .map(
      (e) =>
        `<tr class="${e.outcome}"><td>${esc(e.title)}<br><small>${esc(e.rule)}</small></td><td>${esc(groupText(e.group))}</td><td>${e.layer ?? '-'}</td>` +
        `<td>${esc(e.trigger)}</td><td>${formatDuration(e.time_to_detect_ms)}</td><td>${formatDuration(e.within_ms)}</td><td>${outcome[e.outcome]}</td><td>${e.incidents.length}</td></tr>`,
    )
    .join('\n');
  const responseRows = r.incidents
    .map((i) => {
      const unexpected = r.unexpected.includes(i.id);
      const escal = i.escalations.map((e) => `${e.from_layer ?? '?'}&rarr;${e.to_layer ?? '?'} (${esc(e.actor)})`).join(', ') || '-';
      const target =
        i.acknowledge_target_ms === null ? '-' : `${formatDuration(i.acknowledge_target_ms)}${i.acknowledged_in_target === false ? ' <b>missed</b>' : ''}`;
      return (
        `<tr${unexpected ? ' class="unexpected"' : ''}><td>${esc(i.rule.title)}${unexpected ? ' <small>(unexpected)</small>' : ''}<br><small>${esc(i.id)}</small></td><td>${esc(groupText(i.group))}</td>` +
        `<td>${esc(i.severity)}</td><td>${esc(i.status)}</td><td>${i.layer}</td><td>${esc(i.first_seen)}</td><td>${formatDuration(i.time_to_acknowledge_ms)}</td><td>${target}</td>` +
        `<td>${formatDuration(i.time_to_resolve_ms)}</td><td>${escal}</td></tr>`
      );
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Drill ${esc(r.drill)}: ${esc(r.scenario.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}
tr.missed td,tr.late td{background:#fde8e8}
tr.detected td{background:#e8f6ea}
tr.unexpected td{background:#fff6dd}
.verdict{font-size:1.2rem;font-weight:bold}
.pass{color:#17692a}.fail{color:#a11}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:bold}
</style></head><body>
<h1>Drill ${esc(r.drill)}</h1>
<p>Scenario <b>${esc(r.scenario.name)}</b>: ${esc(r.scenario.title)}</p>
<p class="verdict ${r.passed ? 'pass">PASSED: every expected incident was detected in time' : 'fail">FAILED: not every expected incident was detected in time'}</p>
<dl>
<dt>Expected</dt><dd>${s.expected}</dd>
<dt>Found</dt><dd>${s.found} (${s.detected_in_time} in time, ${s.late} late)</dd>
<dt>Missed</dt><dd>${s.missed}</dd>
<dt>Unexpected</dt><dd>${s.unexpected}</dd>
<dt>Acknowledged</dt><dd>${s.acknowledged} of ${s.incidents} (${s.acknowledged_in_target} within target; median ${formatDuration(s.median_time_to_acknowledge_ms)})</dd>
<dt>Resolved</dt><dd>${s.resolved} (median ${formatDuration(s.median_time_to_resolve_ms)})</dd>
<dt>Escalations</dt><dd>${s.escalations}</dd>
<dt>Time shift</dt><dd>${r.shift_ms} ms (${esc(r.shift_source)})</dd>
<dt>Scored at</dt><dd>${esc(r.scored_at)}</dd>
</dl>
<h2>Detections</h2>
<table><thead><tr><th>Expected incident</th><th>Group</th><th>Layer</th><th>Trigger</th><th>Time to detect</th><th>Within</th><th>Outcome</th><th>Incidents</th></tr></thead>
<tbody>
${expectedRows}
</tbody></table>
<h2>Response by the team</h2>
<table><thead><tr><th>Incident</th><th>Group</th><th>Severity</th><th>Status</th><th>Layer</th><th>First seen</th><th>Time to acknowledge</th><th>Target</th><th>Time to resolve</th><th>Escalations</th></tr></thead>
<tbody>
${responseRows || '<tr><td colspan="10">No incidents for this drill.</td></tr>'}
</tbody></table>
</body></html>
`;
}
