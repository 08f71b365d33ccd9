import type { AuditEntry, Incident, Level } from '../../shared/incident.ts';
import { MAX_RESULT_WINDOW, type AuditFilter } from '../../shared/store/types.ts';
import { AUDIT_RULES, type AuditName } from './audits/findings.ts';
import { NATIONAL_EXPORT_ACTION, nationalDeadlines, type NationalDeadlines } from './deadlines.ts';
import { esc, printablePage } from './printable.ts';
import { searchAll, SYSTEM_ACTOR, type OperationsStore } from './trail.ts';

const LEVELS: Level[] = ['critical', 'high', 'medium', 'low', 'informational'];
const STATUSES: Incident['status'][] = ['new', 'acknowledged', 'resolved', 'false_positive'];

export interface Durations {
  count: number;
  /** Milliseconds; null when count is 0. */
  mean_ms: number | null;
  median_ms: number | null;
  p90_ms: number | null;
}

export interface Breakdown {
  incidents: number;
  by_severity: Record<Level, number>;
  by_status: Record<Incident['status'], number>;
  time_to_acknowledge: Durations;
  time_to_resolve: Durations;
}

export interface OperationsReport {
  period: { from: string; to: string };
  generated_at: string;
  /** Real incidents first seen in the period (drills apart). */
  total: Breakdown;
  by_layer: Record<'1' | '2' | '3' | '4', Breakdown>;
  by_unit: Record<string, Breakdown>;
  escalations: { total: number; automatic: number; by_responders: number; to_layer: Record<'2' | '3' | '4', number> };
  /** Unacknowledged incidents past their deadline when the report was made. */
  overdue_acknowledgements: { id: string; title: string; layer: number; unit: string | null; ack_due: string }[];
  national: { exported: number; deadlines: NationalDeadlines };
  audits: Record<AuditName, { opened: number; open_now: number; findings: string[] }>;
  drills: { drill: string; incidents: number }[];
  /** True when a search held more than the store serves in one go; counts are then a lower bound. */
  truncated: boolean;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function durations(values: number[]): Durations {
  if (!values.length) return { count: 0, mean_ms: null, median_ms: null, p90_ms: null };
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, mean_ms: Math.round(s.reduce((a, b) => a + b, 0) / s.length), median_ms: percentile(s, 50), p90_ms: percentile(s, 90) };
}

/** When responders first took the incident on (acknowledged it, or closed it straight away). */
function acknowledgedAt(i: Incident): number | null {
  const t = i.timeline.find((e) => e.actor !== SYSTEM_ACTOR && (e.action === 'acknowledge' || e.action === 'resolve' || e.action === 'false_positive'));
  return t ? Date.parse(t.at) : null;
}

function closedAt(i: Incident): number | null {
  if (i.status !== 'resolved' && i.status !== 'false_positive') return null;
  const t = i.timeline.findLast((e) => e.action === 'resolve' || e.action === 'false_positive');
  return t ? Date.parse(t.at) : null;
}

function breakdown(incidents: Incident[]): Breakdown {
  const by_severity = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
  const by_status = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Incident['status'], number>;
  const ack: number[] = [];
  const res: number[] = [];
  for (const i of incidents) {
    by_severity[i.severity]++;
    by_status[i.status]++;
    const first = Date.parse(i.first_seen);
    const a = acknowledgedAt(i);
    if (a !== null) ack.push(Math.max(0, a - first));
    const c = closedAt(i);
    if (c !== null) res.push(Math.max(0, c - first));
  }
  return { incidents: incidents.length, by_severity, by_status, time_to_acknowledge: durations(ack), time_to_resolve: durations(res) };
}

export interface ReportInput {
  from: Date;
  to: Date;
  now: Date;
  incidents: Incident[];
  drillIncidents: Incident[];
  escalations: AuditEntry[];
  exports: AuditEntry[];
  openAuditIncidents: Incident[];
  deadlines: NationalDeadlines;
  truncated: boolean;
}

/** The period's figures from what the store holds; pure, so it is tested on hand-made incidents. */
export function buildReport(r: ReportInput): OperationsReport {
  const inPeriod = (t: string) => Date.parse(t) >= r.from.getTime() && Date.parse(t) < r.to.getTime();
  const real = r.incidents.filter((i) => i.drill === null && inPeriod(i.first_seen));
  const by_layer = Object.fromEntries(
    (['1', '2', '3', '4'] as const).map((l) => [l, breakdown(real.filter((i) => String(i.layer) === l))]),
  ) as OperationsReport['by_layer'];
  const units = [...new Set(real.map((i) => i.unit ?? '(no unit)'))].sort();
  const by_unit = Object.fromEntries(units.map((u) => [u, breakdown(real.filter((i) => (i.unit ?? '(no unit)') === u))]));

  const esc = r.escalations.filter((e) => inPeriod(e['@timestamp']));
  const to_layer = { '2': 0, '3': 0, '4': 0 };
  for (const e of esc) {
    const layer = String((e.after as { layer?: number } | undefined)?.layer ?? '');
    if (layer in to_layer) to_layer[layer as keyof typeof to_layer]++;
  }

  const audits = Object.fromEntries(
    (Object.keys(AUDIT_RULES) as AuditName[]).map((a) => {
      const rule = AUDIT_RULES[a].id;
      const opened = real.filter((i) => i.rule.id === rule);
      const openNow = r.openAuditIncidents.filter((i) => i.rule.id === rule);
      const findings = [...new Set([...openNow, ...opened].map((i) => `${i.group_key} (${i.status})`))].sort();
      return [a, { opened: opened.length, open_now: openNow.length, findings }];
    }),
  ) as OperationsReport['audits'];

  const drills = new Map<string, number>();
  for (const i of r.drillIncidents) if (i.drill && inPeriod(i.first_seen)) drills.set(i.drill, (drills.get(i.drill) ?? 0) + 1);

  return {
    period: { from: r.from.toISOString(), to: r.to.toISOString() },
    generated_at: r.now.toISOString(),
    total: breakdown(real),
    by_layer,
    by_unit,
    escalations: {
      total: esc.length,
      automatic: esc.filter((e) => e.actor === SYSTEM_ACTOR).length,
      by_responders: esc.filter((e) => e.actor !== SYSTEM_ACTOR).length,
      to_layer,
    },
    overdue_acknowledgements: r.incidents
      .filter((i) => i.drill === null && i.status === 'new' && i.ack_due !== null && Date.parse(i.ack_due) < r.now.getTime())
      .sort((a, b) => Date.parse(a.ack_due!) - Date.parse(b.ack_due!))
      .map((i) => ({ id: i.id, title: i.rule.title, layer: i.layer, unit: i.unit, ack_due: i.ack_due! })),
    national: { exported: r.exports.filter((e) => inPeriod(e['@timestamp'])).length, deadlines: r.deadlines },
    audits,
    drills: [...drills.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([drill, incidents]) => ({ drill, incidents })),
    truncated: r.truncated,
  };
}

async function auditEntries(store: OperationsStore, filter: Omit<AuditFilter, 'page' | 'size'>): Promise<{ entries: AuditEntry[]; truncated: boolean }> {
  const entries: AuditEntry[] = [];
  const size = 500;
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchAudit({ ...filter, page, size });
    entries.push(...res.entries);
    if (page * size >= res.total) return { entries, truncated: false };
  }
  return { entries, truncated: true };
}

/** Gathers the period's incidents and audit entries from the store and builds the report. */
export async function collectReport(store: OperationsStore, period: { from: Date; to: Date }, now: Date, dueSoonMs: number): Promise<OperationsReport> {
  const range = { from: period.from.toISOString(), to: period.to.toISOString() };
  const real = await searchAll(store, { ...range, drill: 'none' });
  const drills = await searchAll(store, { ...range, drill: 'any' });
  const open = await searchAll(store, { status: ['new', 'acknowledged'], drill: 'none' });
  const escalations = await auditEntries(store, { ...range, action: 'escalate' });
  const exports = await auditEntries(store, { ...range, action: NATIONAL_EXPORT_ACTION });
  const deadlines = await nationalDeadlines(store, now, dueSoonMs);
  const auditRuleIds = new Set(Object.values(AUDIT_RULES).map((r) => r.id));
  return buildReport({
    from: period.from,
    to: period.to,
    now,
    incidents: [...real.incidents, ...open.incidents.filter((i) => !real.incidents.some((x) => x.id === i.id))],
    drillIncidents: drills.incidents,
    escalations: escalations.entries,
    exports: exports.entries,
    openAuditIncidents: open.incidents.filter((i) => auditRuleIds.has(i.rule.id)),
    deadlines,
    truncated: real.truncated || drills.truncated || open.truncated || escalations.truncated || exports.truncated || deadlines.truncated,
  });
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

/** Plain text, for mail and the terminal. */
export function reportText(r: OperationsReport): string {
  const out: string[] = [];
  const row = (name: string, b: Breakdown) =>
    `${pad(name, 34)}${pad(b.incidents, 6)}${LEVELS.map((l) => pad(b.by_severity[l], 5)).join('')}  ${pad(b.by_status.new, 5)}${pad(b.by_status.acknowledged, 5)}${pad(b.by_status.resolved + b.by_status.false_positive, 5)}  ${pad(`${formatDuration(b.time_to_acknowledge.median_ms)}/${formatDuration(b.time_to_acknowledge.p90_ms)}`, 14)}${formatDuration(b.time_to_resolve.median_ms)}/${formatDuration(b.time_to_resolve.p90_ms)}`;
  out.push(`canhgac operations report ${r.period.from} .. ${r.period.to} (generated ${r.generated_at})`);
  if (r.truncated) out.push('NOTE: the store held more than one report reads; counts are lower bounds.');
  out.push('');
  out.push(`${pad('', 34)}${pad('total', 6)}crit high med  low  info  new  ack  done  ack med/p90    resolve med/p90`);
  out.push(row('all incidents', r.total));
  for (const l of ['1', '2', '3', '4'] as const) out.push(row(`layer ${l}`, r.by_layer[l]));
  for (const [u, b] of Object.entries(r.by_unit)) out.push(row(u.slice(0, 33), b));
  out.push('');
  out.push(
    `Escalations: ${r.escalations.total} (${r.escalations.automatic} automatic, ${r.escalations.by_responders} by responders); to layer 2: ${r.escalations.to_layer['2']}, 3: ${r.escalations.to_layer['3']}, 4: ${r.escalations.to_layer['4']}`,
  );
  out.push(`Overdue acknowledgements now: ${r.overdue_acknowledgements.length}`);
  for (const o of r.overdue_acknowledgements) out.push(`  ${o.id}  layer ${o.layer}  due ${o.ack_due}  ${o.unit ?? ''}  ${o.title}`);
  out.push(
    `National centre: ${r.national.exported} export(s); ${r.national.deadlines.overdue.length} report(s) overdue, ${r.national.deadlines.due_soon.length} due soon`,
  );
  for (const d of r.national.deadlines.overdue) out.push(`  OVERDUE  ${d.id}  due ${d.report_due}  ${d.unit ?? ''}  ${d.title}`);
  for (const d of r.national.deadlines.due_soon) out.push(`  due soon ${d.id}  due ${d.report_due}  ${d.unit ?? ''}  ${d.title}`);
  out.push('Layer-3 audits:');
  for (const [a, s] of Object.entries(r.audits)) {
    out.push(`  ${pad(a, 15)} opened ${s.opened}, open now ${s.open_now}`);
    for (const f of s.findings) out.push(`    ${f}`);
  }
  out.push(`Drills held: ${r.drills.length ? r.drills.map((d) => `${d.drill} (${d.incidents} incidents)`).join(', ') : 'none'}`);
  return `${out.join('\n')}\n`;
}

const COLORS: Record<Level, string> = { critical: '#8b0000', high: '#d9480f', medium: '#e8a100', low: '#2f7ebc', informational: '#8a8a8a' };

/** A horizontal stacked bar per row (inline SVG: renders with no network and no script). */
function stackedBars(rows: [string, Breakdown][]): string {
  const max = Math.max(1, ...rows.map(([, b]) => b.incidents));
  const rowH = 22;
  const labelW = 230;
  const barW = 420;
  const parts: string[] = [];
  rows.forEach(([name, b], k) => {
    const y = k * rowH;
    parts.push(`<text x="0" y="${y + 15}" font-size="12">${esc(name)}</text>`);
    let x = labelW;
    for (const l of LEVELS) {
      const w = (b.by_severity[l] / max) * barW;
      if (w > 0)
        parts.push(
          `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${COLORS[l]}"><title>${l}: ${b.by_severity[l]}</title></rect>`,
        );
      x += w;
    }
    parts.push(`<text x="${(x + 4).toFixed(1)}" y="${y + 15}" font-size="12">${b.incidents}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${labelW + barW + 60}" height="${rows.length * rowH}">${parts.join('')}</svg>`;
}

function table(rows: [string, Breakdown][]): string {
  const head = `<tr><th></th><th>incidents</th>${LEVELS.map((l) => `<th>${l}</th>`).join('')}${STATUSES.map((s) => `<th>${s}</th>`).join('')}<th>ack median</th><th>ack p90</th><th>resolve median</th><th>resolve p90</th></tr>`;
  const body = rows
    .map(
      ([n, b]) =>
        `<tr><th>${esc(n)}</th><td>${b.incidents}</td>${LEVELS.map((l) => `<td>${b.by_severity[l]}</td>`).join('')}${STATUSES.map((s) => `<td>${b.by_status[s]}</td>`).join('')}<td>${formatDuration(b.time_to_acknowledge.median_ms)}</td><td>${formatDuration(b.time_to_acknowledge.p90_ms)}</td><td>${formatDuration(b.time_to_resolve.median_ms)}</td><td>${formatDuration(b.time_to_resolve.p90_ms)}</td></tr>`,
    )
    .join('');
  return `<table>${head}${body}</table>`;
}

/** One self-contained HTML page: inline style and SVG charts, no script, nothing fetched. */
export function reportHtml(r: OperationsReport): string {
  const layers = (['1', '2', '3', '4'] as const).map((l): [string, Breakdown] => [`layer ${l}`, r.by_layer[l]]);
  const units = Object.entries(r.by_unit);
  const list = (items: string[]) => (items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : '<p>none</p>');
  const legend = LEVELS.map((l) => `<span><i style="background:${COLORS[l]}"></i>${l}</span>`).join(' ');
  const body = `<h1>Operations report</h1>
<p>${esc(r.period.from)} .. ${esc(r.period.to)} &middot; generated ${esc(r.generated_at)}</p>
${r.truncated ? '<p class="warn">The store held more than one report reads; counts are lower bounds.</p>' : ''}
<h2>Incidents by layer</h2><p class="legend">${legend}</p>${stackedBars(layers)}${table([['all incidents', r.total], ...layers])}
<h2>Incidents by unit</h2>${units.length ? stackedBars(units) : ''}${table(units)}
<h2>Escalations</h2><p>${r.escalations.total} (${r.escalations.automatic} automatic, ${r.escalations.by_responders} by responders); to layer 2: ${r.escalations.to_layer['2']}, 3: ${r.escalations.to_layer['3']}, 4: ${r.escalations.to_layer['4']}</p>
<h2>Overdue acknowledgements</h2>${list(r.overdue_acknowledgements.map((o) => `${esc(o.title)} &middot; layer ${o.layer} &middot; ${esc(o.unit ?? '')} &middot; due ${esc(o.ack_due)} <code>${esc(o.id)}</code>`))}
<h2>National centre</h2><p>${r.national.exported} export(s) in the period.</p>
<h3 class="warn">Reports overdue</h3>${list(r.national.deadlines.overdue.map((d) => `${esc(d.title)} &middot; ${esc(d.unit ?? '')} &middot; due ${esc(d.report_due)} <code>${esc(d.id)}</code>`))}
<h3>Reports due soon</h3>${list(r.national.deadlines.due_soon.map((d) => `${esc(d.title)} &middot; ${esc(d.unit ?? '')} &middot; due ${esc(d.report_due)} <code>${esc(d.id)}</code>`))}
<h2>Layer-3 audits</h2>${Object.entries(r.audits)
    .map(([a, s]) => `<h3>${esc(a)}: opened ${s.opened}, open now ${s.open_now}</h3>${list(s.findings.map(esc))}`)
    .join('')}
<h2>Drills held</h2>${list(r.drills.map((d) => `${esc(d.drill)} (${d.incidents} incidents)`))}`;
  return printablePage({ lang: 'en', title: `canhgac report ${r.period.from} .. ${r.period.to}`, body });
}
