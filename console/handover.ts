import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { esc, printablePage } from '../correlator/operations/printable.ts';
import type { Incident } from '../shared/incident.ts';
import { PACKAGE_ROOT } from '../shared/package-root.ts';
import { MAX_RESULT_WINDOW, type IncidentFilter, type IncidentStore } from '../shared/store/types.ts';

/** What a responder hands over: what came in since a time, what is still open, what is past a deadline now. */
export interface Handover {
  since: string;
  generated_at: string;
  came_in: Incident[];
  open: Incident[];
  overdue: Incident[];
}

/** Every incident a filter matches, page by page up to the store's result window. */
async function all(store: IncidentStore, filter: IncidentFilter): Promise<Incident[]> {
  const size = 500;
  const out: Incident[] = [];
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchIncidents({ ...filter, page, size });
    out.push(...res.incidents);
    if (out.length >= res.total || res.incidents.length < size) break;
  }
  return out;
}

/** The deadline an open incident is held to now: acknowledging while new, else reporting. */
export function dueOf(i: Incident): string | null {
  return (i.status === 'new' ? i.ack_due : null) ?? i.report_due;
}

export async function collectHandover(store: IncidentStore, since: string, drill: string, now: number): Promise<Handover> {
  const [active, open] = await Promise.all([all(store, { from: since, drill }), all(store, { status: ['new', 'acknowledged'], drill })]);
  return {
    since,
    generated_at: new Date(now).toISOString(),
    came_in: active.filter((i) => Date.parse(i.first_seen) >= Date.parse(since)),
    open,
    overdue: open.filter((i) => {
      const due = dueOf(i);
      return due !== null && Date.parse(due) < now;
    }),
  };
}

export type Language = 'en' | 'vi';

/** The page's own wording (console/page/i18n), so that the printed handover says what the screen says. */
const MESSAGES: Record<Language, Record<string, string>> = {
  en: JSON.parse(readFileSync(join(PACKAGE_ROOT, 'console', 'page', 'i18n', 'en.json'), 'utf8')),
  vi: JSON.parse(readFileSync(join(PACKAGE_ROOT, 'console', 'page', 'i18n', 'vi.json'), 'utf8')),
};

export interface HandoverPrint {
  lang: Language;
  /** IANA zone the times are shown in, named beside each time. */
  timeZone: string;
  user: string;
  /** The rule's title in `lang` (a rule's `vi:` title), else the incident's. */
  ruleTitle: (i: Incident) => string;
}

/** The shift handover as one printable page, in the look of `canhgac report`. */
export function handoverHtml(h: Handover, o: HandoverPrint): string {
  const m = MESSAGES[o.lang];
  const t = (key: string, vars: Record<string, string> = {}) => (m[key] ?? MESSAGES.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');
  const locale = o.lang === 'vi' ? 'vi-VN' : 'en-GB';
  const clock = new Intl.DateTimeFormat(locale, {
    timeZone: o.timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });
  const time = (iso: string | null) => (iso ? clock.format(new Date(iso)) : t('detail.none'));
  const count = new Intl.NumberFormat(locale);
  const heads = ['col.severity', 'col.layer', 'col.rule', 'col.unit', 'col.hosts', 'col.status', 'fact.assignee', 'fact.first_seen'];
  const section = (key: 'came_in' | 'open' | 'overdue', list: Incident[]) => {
    const due = key === 'overdue';
    const rows = list.map(
      (i) =>
        `<tr data-id="${esc(i.id)}"><td>${esc(t(`level.${i.severity}`))}</td><td>${count.format(i.layer)}</td>` +
        `<td>${i.drill ? `${esc(t('badge.drill'))} ${esc(i.drill)}: ` : ''}${esc(o.ruleTitle(i))}<br><code>${esc(i.id)}</code></td>` +
        `<td>${esc(i.unit ?? t('detail.none'))}</td><td>${esc(i.host.join(', ') || t('detail.none'))}</td><td>${esc(t(`status.${i.status}`))}</td>` +
        `<td>${esc(i.assignee ?? t('detail.none'))}</td><td>${esc(time(i.first_seen))}</td>${due ? `<td class="warn">${esc(time(dueOf(i)))}</td>` : ''}</tr>`,
    );
    const head = [...heads, ...(due ? ['handover.due'] : [])].map((k) => `<th>${esc(t(k))}</th>`).join('');
    return (
      `<h2 data-section="${key}">${esc(t(`handover.${key}`))} (${count.format(list.length)})</h2>` +
      (list.length ? `<table class="list"><tr>${head}</tr>${rows.join('')}</table>` : `<p>${esc(t('handover.none'))}</p>`)
    );
  };
  const body = [
    `<h1>${esc(t('handover.title'))}</h1>`,
    `<p>${esc(t('handover.generated', { since: time(h.since), at: time(h.generated_at), who: o.user }))}</p>`,
    section('overdue', h.overdue),
    section('came_in', h.came_in),
    section('open', h.open),
  ].join('\n');
  return printablePage({ lang: o.lang, title: `${t('handover.title')} ${time(h.since)}`, body });
}
