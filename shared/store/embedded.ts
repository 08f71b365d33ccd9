import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AlertSchema, AuditEntrySchema, IncidentSchema, type Alert, type AuditEntry, type Incident } from '../incident.ts';
import { upsertOutcome } from './merge.ts';
import {
  AuditFilterSchema,
  IncidentFilterSchema,
  IncidentNotFoundError,
  type AuditFilter,
  type AuditPage,
  type HistogramBucket,
  type HistogramQuery,
  type IncidentFilter,
  type IncidentPage,
  type IncidentStore,
  type UpdateOptions,
  type UpdateResult,
  type UpsertResult,
  incidentKeyOf,
  type IncidentKey,
} from './types.ts';

/** An append-only journal of JSON documents; on load the last record of an id wins. */
class Journal<T extends { id: string }> {
  private fd: number;
  private records = 0;

  constructor(
    private readonly file: string,
    private readonly parse: (v: unknown) => T,
  ) {
    this.fd = openSync(file, 'a');
  }

  load(into: Map<string, T>): void {
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file, 'utf8');
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      // A last line without its newline was cut by a crash mid-write: it was never acknowledged.
      if (end < 0) break;
      const line = text.slice(start, end);
      start = end + 1;
      if (!line) continue;
      const rec = JSON.parse(line) as { deleted?: string } & Record<string, unknown>;
      if (typeof rec.deleted === 'string') into.delete(rec.deleted);
      else {
        const doc = this.parse(rec);
        into.set(doc.id, doc);
      }
      this.records++;
    }
  }

  /** Durable before it returns: a restart finds everything a write acknowledged. */
  append(docs: (T | { deleted: string })[]): void {
    if (!docs.length) return;
    writeSync(this.fd, docs.map((d) => `${JSON.stringify(d)}\n`).join(''));
    fsyncSync(this.fd);
    this.records += docs.length;
  }

  /** Rewrites the journal with the live documents only, when dead records outnumber them. */
  compact(live: Map<string, T>): void {
    if (this.records < 1000 || this.records < 2 * live.size) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, [...live.values()].map((d) => `${JSON.stringify(d)}\n`).join(''));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.fd);
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, 'a');
    this.records = live.size;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function words(q: string): string[] {
  return q.toLowerCase().split(/\s+/).filter(Boolean);
}

function searchableText(i: Incident): string {
  return [i.rule.title, i.rule.id, i.id, ...i.host, i.unit ?? '', i.assignee ?? '', i.group_key, i.runbook ?? '', ...i.timeline.map((t) => t.note ?? '')].join('\n').toLowerCase();
}

function drillMatches(drill: string | undefined, value: string | null): boolean {
  if (drill === undefined) return true;
  if (drill === 'none') return value === null;
  if (drill === 'any') return value !== null;
  return value === drill;
}

const byLastSeenDesc = (a: Incident, b: Incident) => Date.parse(b.last_seen) - Date.parse(a.last_seen) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The embedded default's store: the IncidentStore contract on journals in a data folder, held in
 * memory. One process owns the folder; everything acknowledged survives a restart.
 */
export class EmbeddedIncidentStore implements IncidentStore {
  private readonly incidents = new Map<string, Incident>();
  private readonly alerts = new Map<string, Alert>();
  private readonly audit = new Map<string, AuditEntry>();
  private journals?: { incidents: Journal<Incident>; alerts: Journal<Alert>; audit: Journal<AuditEntry> };

  constructor(private readonly dir: string) {}

  private get j() {
    if (!this.journals) throw new Error('the embedded store is not initialised: call init() first');
    return this.journals;
  }

  async init(): Promise<void> {
    if (this.journals) return;
    mkdirSync(this.dir, { recursive: true });
    const journals = {
      incidents: new Journal(join(this.dir, 'incidents.jsonl'), (v) => IncidentSchema.parse(v)),
      alerts: new Journal(join(this.dir, 'alerts.jsonl'), (v) => AlertSchema.parse(v)),
      audit: new Journal(join(this.dir, 'audit.jsonl'), (v) => AuditEntrySchema.parse(v)),
    };
    journals.incidents.load(this.incidents);
    journals.alerts.load(this.alerts);
    journals.audit.load(this.audit);
    journals.incidents.compact(this.incidents);
    this.journals = journals;
  }

  async writeAlerts(alerts: Alert[]): Promise<{ written: number }> {
    const docs = alerts.map((a) => AlertSchema.parse(a));
    this.j.alerts.append(docs);
    for (const a of docs) this.alerts.set(a.id, a);
    return { written: docs.length };
  }

  async upsertIncident(incident: Incident): Promise<UpsertResult> {
    const [result] = await this.upsertIncidents([incident]);
    return result!;
  }

  async upsertIncidents(incidents: Incident[]): Promise<UpsertResult[]> {
    return incidents.map((incident) => {
      const incoming = IncidentSchema.parse(incident);
      const result = upsertOutcome(this.incidents.get(incoming.id) ?? null, incoming);
      if (result.changed) this.put(result.incident);
      return result;
    });
  }

  private put(incident: Incident): void {
    this.j.incidents.append([incident]);
    this.incidents.set(incident.id, incident);
  }

  async updateIncident(id: string, mutate: (current: Incident) => Incident | null, opts: UpdateOptions = {}): Promise<UpdateResult> {
    const stored = this.incidents.get(id);
    if (!stored) throw new IncidentNotFoundError(id);
    const proposed = mutate(structuredClone(stored));
    if (!proposed) return { before: stored, after: stored, changed: false };
    const after = IncidentSchema.parse({ ...proposed, id, version: stored.version + 1, updated_at: (opts.now ?? (() => new Date()))().toISOString() });
    this.put(after);
    return { before: stored, after, changed: true };
  }

  async getIncident(id: string): Promise<Incident | null> {
    return structuredClone(this.incidents.get(id) ?? null);
  }

  async latestIncidents(keys: IncidentKey[]): Promise<(Incident | null)[]> {
    const wanted = new Map(keys.map((k) => [incidentKeyOf(k.ruleId, k.groupKey, k.drill), null as Incident | null]));
    for (const i of this.incidents.values()) {
      const k = incidentKeyOf(i.rule.id, i.group_key, i.drill);
      if (!wanted.has(k)) continue;
      const best = wanted.get(k);
      if (!best || byLastSeenDesc(i, best) < 0) wanted.set(k, i);
    }
    return keys.map((k) => structuredClone(wanted.get(incidentKeyOf(k.ruleId, k.groupKey, k.drill)) ?? null));
  }


  async searchIncidents(filter: IncidentFilter): Promise<IncidentPage> {
    const f = IncidentFilterSchema.parse(filter);
    const q = f.q ? words(f.q) : [];
    const hits = [...this.incidents.values()].filter((i) => {
      if (f.status?.length && !f.status.includes(i.status)) return false;
      if (f.layer?.length && !f.layer.includes(i.layer)) return false;
      if (f.severity?.length && !f.severity.includes(i.severity)) return false;
      if (f.unit && i.unit !== f.unit) return false;
      if (f.host && !i.host.includes(f.host)) return false;
      if (f.rule && i.rule.id !== f.rule && i.rule.title !== f.rule) return false;
      if (!drillMatches(f.drill, i.drill)) return false;
      if (f.from && Date.parse(i.last_seen) < Date.parse(f.from)) return false;
      if (f.to && Date.parse(i.first_seen) > Date.parse(f.to)) return false;
      if (q.length) {
        const text = searchableText(i);
        if (!q.every((w) => text.includes(w))) return false;
      }
      return true;
    });
    hits.sort(byLastSeenDesc);
    const start = (f.page - 1) * f.size;
    return { total: hits.length, page: f.page, size: f.size, incidents: structuredClone(hits.slice(start, start + f.size)) };
  }

  async alertsOf(incidentId: string, opts: { size?: number } = {}): Promise<Alert[]> {
    const found = [...this.alerts.values()].filter((a) => a.incident_id === incidentId);
    found.sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']) || (a.id < b.id ? -1 : 1));
    return structuredClone(found.slice(0, Math.min(opts.size ?? 500, 10_000)));
  }

  async alertHistogram(q: HistogramQuery): Promise<HistogramBucket[]> {
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    const step = q.intervalMinutes * 60_000;
    const first = Math.floor(from / step) * step;
    const counts = new Map<number, number>();
    for (let t = first; t < to; t += step) counts.set(t, 0);
    for (const a of this.alerts.values()) {
      const t = Date.parse(a['@timestamp']);
      if (t < from || t >= to || !drillMatches(q.drill, a.drill)) continue;
      const b = Math.floor(t / step) * step;
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([t, count]) => ({ at: new Date(t).toISOString(), count }));
  }

  async appendAudit(entry: AuditEntry): Promise<{ created: boolean }> {
    const e = AuditEntrySchema.parse(entry);
    if (this.audit.has(e.id)) return { created: false };
    this.j.audit.append([e]);
    this.audit.set(e.id, e);
    return { created: true };
  }

  async searchAudit(filter: AuditFilter): Promise<AuditPage> {
    const f = AuditFilterSchema.parse(filter);
    const hits = [...this.audit.values()].filter(
      (e) =>
        (!f.actor || e.actor === f.actor) &&
        (!f.action || e.action === f.action) &&
        (!f.incident_id || e.incident_id === f.incident_id) &&
        (!f.from || Date.parse(e['@timestamp']) >= Date.parse(f.from)) &&
        (!f.to || Date.parse(e['@timestamp']) <= Date.parse(f.to)),
    );
    hits.sort((a, b) => Date.parse(b['@timestamp']) - Date.parse(a['@timestamp']) || (a.id < b.id ? -1 : 1));
    const start = (f.page - 1) * f.size;
    return { total: hits.length, entries: structuredClone(hits.slice(start, start + f.size)) };
  }

  async purgeDrill(drillId: string): Promise<{ alerts: number; incidents: number }> {
    if (!drillId || drillId === 'none' || drillId === 'any') throw new Error(`'${drillId}' is not a drill id`);
    const purge = <T extends { id: string; drill: string | null }>(docs: Map<string, T>, journal: Journal<T>) => {
      const gone = [...docs.values()].filter((d) => d.drill === drillId).map((d) => d.id);
      journal.append(gone.map((id) => ({ deleted: id })));
      for (const id of gone) docs.delete(id);
      return gone.length;
    };
    return { alerts: purge(this.alerts, this.j.alerts), incidents: purge(this.incidents, this.j.incidents) };
  }

  async ping(): Promise<boolean> {
    return this.journals !== undefined;
  }

  async close(): Promise<void> {
    if (!this.journals) return;
    this.journals.incidents.close();
    this.journals.alerts.close();
    this.journals.audit.close();
    this.journals = undefined;
  }
}
