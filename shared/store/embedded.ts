import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { AlertSchema, AuditEntrySchema, IncidentSchema, type Alert, type AuditEntry, type Incident } from '../incident.ts';
import { ftsPhrase, parseFreeText } from './free-text.ts';
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
  type IncidentKey,
  type IncidentPage,
  type IncidentStore,
  type UpdateOptions,
  type UpdateResult,
  type UpsertResult,
} from './types.ts';

export interface EmbeddedStoreOptions {
  /** Alerts, and incidents closed for longer, are deleted after this many months (as on Elasticsearch). */
  retentionMonths?: number;
  /** The clock retention measures from (the soak benchmark runs a year at accelerated time). */
  now?: () => Date;
  /**
   * Reads only, beside a running start or on a copy (report, drill score): no folder or file is created,
   * no migration, import or retention runs; a missing database or another schema version is an error.
   */
  readOnly?: boolean;
  /** Called with what a pass of retention deleted, for the log. */
  onRetention?: (deleted: { alerts: number; incidents: number; before: string }) => void;
}

/** The database file inside the store folder. */
export const DATABASE_FILE = 'canhgac.sqlite';

/**
 * Schema versions, applied in order inside one transaction each; PRAGMA user_version records the last.
 * A release only ever appends a version, never edits one that shipped.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE incidents (
     id TEXT NOT NULL UNIQUE,
     rule_id TEXT NOT NULL,
     rule_title TEXT NOT NULL,
     group_key TEXT NOT NULL,
     status TEXT NOT NULL,
     layer INTEGER NOT NULL,
     severity TEXT NOT NULL,
     unit TEXT,
     drill TEXT,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL
   );
   CREATE TABLE incident_docs (incident INTEGER PRIMARY KEY, doc TEXT NOT NULL);
   CREATE INDEX incidents_by_time ON incidents (last_seen DESC, id);
   CREATE INDEX incidents_by_first_seen ON incidents (first_seen);
   CREATE INDEX incidents_by_span ON incidents (last_seen - first_seen);
   CREATE INDEX incidents_by_status ON incidents (status, last_seen DESC, id);
   CREATE INDEX incidents_by_layer ON incidents (layer, last_seen DESC, id);
   CREATE INDEX incidents_by_severity ON incidents (severity, last_seen DESC, id);
   CREATE INDEX incidents_by_unit ON incidents (unit, last_seen DESC, id);
   CREATE INDEX incidents_by_rule ON incidents (rule_id, last_seen DESC, id);
   CREATE INDEX incidents_by_rule_title ON incidents (rule_title, last_seen DESC, id);
   CREATE INDEX incidents_by_key ON incidents (rule_id, group_key, drill, last_seen DESC, id);
   CREATE INDEX incidents_by_drill ON incidents (drill, last_seen DESC, id);
   CREATE TABLE incident_hosts (host TEXT NOT NULL, incident INTEGER NOT NULL, PRIMARY KEY (host, incident)) WITHOUT ROWID;
   CREATE INDEX incident_hosts_by_incident ON incident_hosts (incident);
   CREATE VIRTUAL TABLE incident_text USING fts5(text, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
   CREATE TABLE alerts (
     id TEXT NOT NULL UNIQUE,
     incident_id TEXT NOT NULL,
     ts INTEGER NOT NULL,
     drill TEXT,
     doc TEXT NOT NULL
   );
   CREATE INDEX alerts_by_incident ON alerts (incident_id, ts, id);
   CREATE INDEX alerts_by_time ON alerts (ts);
   CREATE INDEX alerts_by_drill ON alerts (drill) WHERE drill IS NOT NULL;
   CREATE TABLE audit (
     id TEXT PRIMARY KEY,
     ts INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     incident_id TEXT,
     doc TEXT NOT NULL
   );
   CREATE INDEX audit_by_time ON audit (ts DESC, id);
   CREATE INDEX audit_by_incident ON audit (incident_id, ts DESC);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // Incident counts by the console's facets, kept by triggers: a list filtered by facets only (status,
  // layer, severity, unit, real or drill) gets its exact total from a few hundred rows, not by counting
  // every matching incident on each page. No INSERT OR IGNORE in the triggers: an upsert that fires them
  // imposes its own conflict policy on them, and the row already there failed the write.
  `CREATE TABLE incident_counts (
     status TEXT NOT NULL,
     layer INTEGER NOT NULL,
     severity TEXT NOT NULL,
     unit TEXT NOT NULL,
     drill INTEGER NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (status, layer, severity, unit, drill)
   ) WITHOUT ROWID;
   INSERT INTO incident_counts SELECT status, layer, severity, coalesce(unit, ''), drill IS NOT NULL, count(*) FROM incidents GROUP BY 1, 2, 3, 4, 5;
   CREATE TRIGGER incident_counts_insert AFTER INSERT ON incidents BEGIN
     INSERT INTO incident_counts SELECT new.status, new.layer, new.severity, coalesce(new.unit, ''), new.drill IS NOT NULL, 0
       WHERE NOT EXISTS (SELECT 1 FROM incident_counts
         WHERE status = new.status AND layer = new.layer AND severity = new.severity AND unit = coalesce(new.unit, '') AND drill = (new.drill IS NOT NULL));
     UPDATE incident_counts SET n = n + 1
       WHERE status = new.status AND layer = new.layer AND severity = new.severity AND unit = coalesce(new.unit, '') AND drill = (new.drill IS NOT NULL);
   END;
   CREATE TRIGGER incident_counts_delete AFTER DELETE ON incidents BEGIN
     UPDATE incident_counts SET n = n - 1
       WHERE status = old.status AND layer = old.layer AND severity = old.severity AND unit = coalesce(old.unit, '') AND drill = (old.drill IS NOT NULL);
   END;
   CREATE TRIGGER incident_counts_update AFTER UPDATE OF status, layer, severity, unit, drill ON incidents
   WHEN old.status IS NOT new.status OR old.layer IS NOT new.layer OR old.severity IS NOT new.severity OR old.unit IS NOT new.unit
     OR (old.drill IS NULL) IS NOT (new.drill IS NULL) BEGIN
     UPDATE incident_counts SET n = n - 1
       WHERE status = old.status AND layer = old.layer AND severity = old.severity AND unit = coalesce(old.unit, '') AND drill = (old.drill IS NOT NULL);
     INSERT INTO incident_counts SELECT new.status, new.layer, new.severity, coalesce(new.unit, ''), new.drill IS NOT NULL, 0
       WHERE NOT EXISTS (SELECT 1 FROM incident_counts
         WHERE status = new.status AND layer = new.layer AND severity = new.severity AND unit = coalesce(new.unit, '') AND drill = (new.drill IS NOT NULL));
     UPDATE incident_counts SET n = n + 1
       WHERE status = new.status AND layer = new.layer AND severity = new.severity AND unit = coalesce(new.unit, '') AND drill = (new.drill IS NOT NULL);
   END;`,
];

const CLOSED: Incident['status'][] = ['resolved', 'false_positive'];
/** Rows deleted per statement by retention and purges, so that the console's queries run in between. */
const DELETE_CHUNK = 5_000;
const RETENTION_EVERY_MS = 60 * 60_000;
/** Up to this many free-text matches, a search looks them up by rowid and sorts them; above, it walks the incidents newest first. */
const FTS_LOOKUP_MAX = 5_000;

/** The text the free-text search sees; the same fields Elasticsearch searches. */
function searchableText(i: Incident): string {
  return [i.rule.title, i.rule.id, i.id, ...i.host, i.unit ?? '', i.assignee ?? '', i.group_key, i.runbook ?? '', ...i.timeline.map((t) => t.note ?? '')].join(
    '\n',
  );
}

function drillCondition(drill: string | undefined, column: string, where: string[], params: SQLInputValue[]): void {
  if (drill === undefined) return;
  if (drill === 'none') where.push(`${column} IS NULL`);
  else if (drill === 'any') where.push(`${column} IS NOT NULL`);
  else {
    where.push(`${column} = ?`);
    params.push(drill);
  }
}

function monthsBefore(now: Date, months: number): Date {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
}

/**
 * The embedded default's store: the IncidentStore contract on SQLite (node:sqlite) in one file of the
 * store folder. WAL journal; every call is one transaction, so the correlator's batches are one commit
 * each. Correlator writes commit with synchronous=NORMAL (durable across a kill -9; the in-memory bus
 * loses its own in-flight events on power loss anyway); responder actions and the audit trail commit
 * with synchronous=FULL, so an acknowledgement survives a power cut too. Secondary indexes serve each
 * console filter; FTS5 serves `q`. A JSON journal of the previous embedded store is imported once.
 */
export class EmbeddedIncidentStore implements IncidentStore {
  private db?: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private retentionTimer?: NodeJS.Timeout;
  private retentionRunning?: Promise<unknown>;
  /** What this init imported from JSON journals, with what it skipped (file:line or file: id); null when nothing. */
  imported: { files: string[]; skipped: string[] } | null = null;

  constructor(
    private readonly dir: string,
    private readonly opts: EmbeddedStoreOptions = {},
  ) {}

  get file(): string {
    return join(this.dir, DATABASE_FILE);
  }

  private get d(): DatabaseSync {
    if (!this.db) throw new Error('the embedded store is not initialised: call init() first');
    return this.db;
  }

  private sql(text: string): StatementSync {
    let s = this.statements.get(text);
    if (!s) {
      s = this.d.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /** Runs `fn` in one write transaction; `durable` commits with a full fsync. */
  private write<T>(fn: () => T, durable = false): T {
    const db = this.d;
    if (durable) db.exec('PRAGMA synchronous = FULL');
    db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      db.exec('COMMIT');
      return out;
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    } finally {
      if (durable) db.exec('PRAGMA synchronous = NORMAL');
    }
  }

  async init(): Promise<void> {
    if (this.db) return;
    if (this.opts.readOnly) return this.openReadOnly();
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new Error(`the store folder ${this.dir} cannot be created: ${(err as Error).message}`);
    }
    const fresh = !existsSync(this.file);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(this.file, { timeout: 5_000 });
      db.exec('PRAGMA journal_mode = WAL');
    } catch (err) {
      throw new Error(`the store database ${this.file} cannot be opened: ${(err as Error).message}`);
    }
    // Responders' data: readable by the service account only (the -wal and -shm files follow the database's mode).
    if (fresh) chmodSync(this.file, 0o600);
    db.exec('PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000');
    this.db = db;
    this.migrate();
    this.importJournals();
    await this.applyRetention();
    this.retentionTimer = setInterval(() => void this.applyRetention(), RETENTION_EVERY_MS);
    this.retentionTimer.unref();
  }

  private openReadOnly(): void {
    if (!existsSync(this.file))
      throw new Error(`no embedded store in ${this.dir} (no ${DATABASE_FILE}): is it the store folder of a canhgac start data folder?`);
    const db = new DatabaseSync(this.file, { readOnly: true, timeout: 5_000 });
    const at = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    if (at !== MIGRATIONS.length) {
      db.close();
      throw new Error(
        `${this.file} has schema version ${at}, this canhgac reads ${MIGRATIONS.length}: ${at > MIGRATIONS.length ? 'upgrade canhgac' : 'run canhgac start once to migrate it'}`,
      );
    }
    this.db = db;
  }

  /** The schema version this build writes. */
  static get schemaVersion(): number {
    return MIGRATIONS.length;
  }

  private migrate(): void {
    const db = this.d;
    const at = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    if (at > MIGRATIONS.length) throw new Error(`${this.file} has schema version ${at}, newer than this canhgac (${MIGRATIONS.length}): upgrade canhgac`);
    for (let v = at; v < MIGRATIONS.length; v++) {
      this.write(() => {
        db.exec(MIGRATIONS[v]!);
        db.exec(`PRAGMA user_version = ${v + 1}`);
      }, true);
    }
  }

  /**
   * The JSON journals of the previous embedded store (incidents.jsonl, alerts.jsonl, audit.jsonl), read
   * once: in one transaction with a marker, then renamed to *.imported. A line cut by a crash, or one that
   * no longer parses, is skipped with its file and line named in the error list rather than failing a start.
   */
  private importJournals(): void {
    const names = ['incidents.jsonl', 'alerts.jsonl', 'audit.jsonl'];
    const present = names.filter((n) => existsSync(join(this.dir, n)));
    if (!present.length) return;
    const done = this.sql(`SELECT value FROM meta WHERE key = 'journal_imported'`).get();
    if (!done) {
      const skipped: string[] = [];
      this.write(() => {
        for (const name of present) {
          const docs = new Map<string, unknown>();
          readFileSync(join(this.dir, name), 'utf8')
            .split('\n')
            .forEach((line, n) => {
              if (!line.trim()) return;
              try {
                const rec = JSON.parse(line) as { deleted?: unknown; id?: unknown };
                if (typeof rec.deleted === 'string') docs.delete(rec.deleted);
                else if (typeof rec.id === 'string') docs.set(rec.id, rec);
              } catch {
                skipped.push(`${name}:${n + 1}`);
              }
            });
          for (const [id, doc] of docs) {
            if (name === 'incidents.jsonl') {
              const parsed = IncidentSchema.safeParse(doc);
              if (parsed.success) this.putIncident(parsed.data);
              else skipped.push(`${name}: incident ${id}`);
            } else if (name === 'alerts.jsonl') {
              const parsed = AlertSchema.safeParse(doc);
              if (parsed.success) this.putAlert(parsed.data);
              else skipped.push(`${name}: alert ${id}`);
            } else {
              const parsed = AuditEntrySchema.safeParse(doc);
              if (parsed.success) this.putAudit(parsed.data);
              else skipped.push(`${name}: audit entry ${id}`);
            }
          }
        }
        this.sql(`INSERT INTO meta (key, value) VALUES ('journal_imported', ?)`).run(JSON.stringify({ at: new Date().toISOString(), files: present, skipped }));
      }, true);
      this.imported = { files: present, skipped };
    }
    for (const name of present) renameSync(join(this.dir, name), join(this.dir, `${name}.imported`));
  }

  private putIncident(i: Incident): void {
    const row = this.sql(
      `INSERT INTO incidents (id, rule_id, rule_title, group_key, status, layer, severity, unit, drill, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET rule_id = excluded.rule_id, rule_title = excluded.rule_title, group_key = excluded.group_key,
         status = excluded.status, layer = excluded.layer, severity = excluded.severity, unit = excluded.unit, drill = excluded.drill,
         first_seen = excluded.first_seen, last_seen = excluded.last_seen
       RETURNING rowid`,
    ).get(i.id, i.rule.id, i.rule.title, i.group_key, i.status, i.layer, i.severity, i.unit, i.drill, Date.parse(i.first_seen), Date.parse(i.last_seen)) as {
      rowid: number;
    };
    const rowid = row.rowid;
    this.sql('INSERT OR REPLACE INTO incident_docs (incident, doc) VALUES (?, ?)').run(rowid, JSON.stringify(i));
    this.sql('DELETE FROM incident_hosts WHERE incident = ?').run(rowid);
    for (const h of new Set(i.host)) this.sql('INSERT INTO incident_hosts (host, incident) VALUES (?, ?)').run(h, rowid);
    this.sql('DELETE FROM incident_text WHERE rowid = ?').run(rowid);
    this.sql('INSERT INTO incident_text (rowid, text) VALUES (?, ?)').run(rowid, searchableText(i));
  }

  private putAlert(a: Alert): void {
    this.sql(
      `INSERT INTO alerts (id, incident_id, ts, drill, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, ts = excluded.ts, drill = excluded.drill, doc = excluded.doc`,
    ).run(a.id, a.incident_id, Date.parse(a['@timestamp']), a.drill, JSON.stringify(a));
  }

  private putAudit(e: AuditEntry): boolean {
    const r = this.sql('INSERT INTO audit (id, ts, actor, action, incident_id, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING').run(
      e.id,
      Date.parse(e['@timestamp']),
      e.actor,
      e.action,
      e.incident_id ?? null,
      JSON.stringify(e),
    );
    return Number(r.changes) > 0;
  }

  private stored(id: string): Incident | null {
    const row = this.sql('SELECT d.doc FROM incidents i JOIN incident_docs d ON d.incident = i.rowid WHERE i.id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Incident) : null;
  }

  async writeAlerts(alerts: Alert[]): Promise<{ written: number }> {
    const docs = alerts.map((a) => AlertSchema.parse(a));
    if (docs.length)
      this.write(() => {
        for (const a of docs) this.putAlert(a);
      });
    return { written: docs.length };
  }

  async upsertIncident(incident: Incident): Promise<UpsertResult> {
    const [result] = await this.upsertIncidents([incident]);
    return result!;
  }

  async upsertIncidents(incidents: Incident[]): Promise<UpsertResult[]> {
    const incoming = incidents.map((i) => IncidentSchema.parse(i));
    if (new Set(incoming.map((i) => i.id)).size !== incoming.length) throw new Error('upsertIncidents: an incident id appears twice; merge them first');
    return this.write(() =>
      incoming.map((i) => {
        const result = upsertOutcome(this.stored(i.id), i);
        if (result.changed) this.putIncident(result.incident);
        return result;
      }),
    );
  }

  /** Read, mutate and write in one transaction: no other writer, in this process or another, interleaves. */
  async updateIncident(id: string, mutate: (current: Incident) => Incident | null, opts: UpdateOptions = {}): Promise<UpdateResult> {
    return this.write(() => {
      const stored = this.stored(id);
      if (!stored) throw new IncidentNotFoundError(id);
      const proposed = mutate(structuredClone(stored));
      if (!proposed) return { before: stored, after: stored, changed: false };
      const after = IncidentSchema.parse({ ...proposed, id, version: stored.version + 1, updated_at: (opts.now ?? (() => new Date()))().toISOString() });
      this.putIncident(after);
      return { before: stored, after, changed: true };
    }, true);
  }

  async getIncident(id: string): Promise<Incident | null> {
    return this.stored(id);
  }

  async latestIncidents(keys: IncidentKey[]): Promise<(Incident | null)[]> {
    const s = this.sql(
      'SELECT d.doc FROM (SELECT rowid AS r FROM incidents WHERE rule_id = ? AND group_key = ? AND drill IS ? ORDER BY last_seen DESC, id LIMIT 1) JOIN incident_docs d ON d.incident = r',
    );
    return keys.map((k) => {
      const row = s.get(k.ruleId, k.groupKey, k.drill) as { doc: string } | undefined;
      return row ? (JSON.parse(row.doc) as Incident) : null;
    });
  }

  async searchIncidents(filter: IncidentFilter): Promise<IncidentPage> {
    const f = IncidentFilterSchema.parse(filter);
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    const anyOf = (column: string, values: (string | number)[] | undefined) => {
      if (!values?.length) return;
      where.push(values.length === 1 ? `${column} = ?` : `${column} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    const distinct = <T>(values: T[] | undefined) => (values ? [...new Set(values)] : undefined);
    const facets: [string, (string | number)[] | undefined][] = [
      ['status', distinct(f.status)],
      ['layer', distinct(f.layer)],
      ['severity', distinct(f.severity)],
    ];
    // A condition whose index reads in last_seen order already (one value, a time range) gives the page
    // without a sort. Without one, the first column given several values (new and acknowledged: the open
    // incidents) is read one value at a time (pageRows), and the ordered ranges are merged.
    const ordered = Boolean(f.unit || f.rule || f.group_key || f.from || f.to || (f.drill && f.drill !== 'any')) || facets.some(([, v]) => v?.length === 1);
    const split = ordered ? undefined : facets.find(([, values]) => values && values.length > 1);
    for (const [column, values] of facets) if (column !== split?.[0]) anyOf(column, values);
    if (f.unit) anyOf('unit', [f.unit]);
    if (f.host) {
      where.push('incidents.rowid IN (SELECT incident FROM incident_hosts WHERE host = ?)');
      params.push(f.host);
    }
    if (f.rule) this.ruleCondition(f.rule, where, params);
    if (f.group_key) anyOf('group_key', [f.group_key]);
    drillCondition(f.drill, 'drill', where, params);
    if (f.from || f.to) this.timeConditions(f.from, f.to, where, params);
    let matched: number | null = null;
    // The free-text condition: counted one way, paged another (below).
    let text: { page: string; match: string } | null = null;
    if (f.q) {
      const terms = parseFreeText(f.q);
      const wanted = terms.filter((t) => !t.exclude);
      const unwanted = terms.filter((t) => t.exclude);
      if (unwanted.length) {
        where.push('incidents.rowid NOT IN (SELECT rowid FROM incident_text WHERE incident_text MATCH ?)');
        params.push(unwanted.map(ftsPhrase).join(' OR '));
      }
      if (wanted.length) {
        const match = wanted.map(ftsPhrase).join(' AND ');
        matched = Number((this.sql('SELECT count(*) AS n FROM incident_text WHERE incident_text MATCH ?').get(match) as { n: number }).n);
        // The count visits each match once, from the text index (CROSS JOIN keeps it the outer loop whatever
        // the other conditions). A page of few matches looks them up by rowid and sorts them; a page of many
        // (+rowid: not a rowid lookup) gathers the matching rowids once and walks the incidents newest first
        // (an index in that order), keeping those in the set, so that it stops after its rows instead of
        // sorting every match. (Asking FTS5 row by row costs a prefix query its whole expansion each time.)
        text = {
          page: `${matched <= FTS_LOOKUP_MAX ? '' : '+'}incidents.rowid IN (SELECT rowid FROM incident_text WHERE incident_text MATCH ?)`,
          match,
        };
      }
    }
    const offset = (f.page - 1) * f.size;
    let total: number;
    const facetsOnly = !f.host && !f.rule && !f.group_key && !f.from && !f.to && !f.q && (f.drill === undefined || f.drill === 'none' || f.drill === 'any');
    if (matched !== null && !split && where.length === 0) total = matched;
    else if (matched === 0) total = 0;
    else if (facetsOnly) total = this.facetCount(facets, f.unit, f.drill);
    else {
      const all = [...(split ? [`${split[0]} IN (${split[1]!.map(() => '?').join(', ')})`] : []), ...where];
      const allParams = [...(split ? split[1]! : []), ...params];
      const from = text ? 'incident_text CROSS JOIN incidents ON incidents.rowid = incident_text.rowid' : 'incidents';
      if (text) {
        all.unshift('incident_text MATCH ?');
        allParams.unshift(text.match);
      }
      total = Number(
        (this.d.prepare(`SELECT count(*) AS n FROM ${from} ${all.length ? `WHERE ${all.join(' AND ')}` : ''}`).get(...allParams) as { n: number }).n,
      );
    }
    if (text) {
      where.push(text.page);
      params.push(text.match);
    }
    const rows = total <= offset ? [] : this.pageRows(where, params, split, f.size, offset);
    return { total, page: f.page, size: f.size, incidents: rows.map((r) => JSON.parse(r.doc) as Incident) };
  }

  /** The number of incidents with these facets, from the counts the triggers keep (migration 2). */
  private facetCount(facets: [string, (string | number)[] | undefined][], unit: string | undefined, drill: string | undefined): number {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    for (const [column, values] of facets) {
      if (!values?.length) continue;
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    }
    if (unit) {
      where.push('unit = ?');
      params.push(unit);
    }
    if (drill) where.push(`drill = ${drill === 'any' ? 1 : 0}`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return Number((this.d.prepare(`SELECT coalesce(sum(n), 0) AS n FROM incident_counts ${clause}`).get(...params) as { n: number }).n);
  }

  /**
   * The documents of one page, newest activity first: the page's rowids on the narrow incidents table, then
   * the documents of those rows only. With a split column, one ordered arm per value in a UNION ALL, which
   * SQLite merges in order, so that the page stops after its rows.
   */
  private pageRows(
    where: string[],
    params: SQLInputValue[],
    split: [string, (string | number)[] | undefined] | undefined,
    size: number,
    offset: number,
  ): { doc: string }[] {
    const arm = (extra: string[]) => {
      const all = [...extra, ...where];
      return `SELECT rowid AS r, last_seen, id FROM incidents ${all.length ? `WHERE ${all.join(' AND ')}` : ''}`;
    };
    const values = split?.[1] ?? [];
    const arms = split ? values.map(() => arm([`${split[0]} = ?`])).join(' UNION ALL ') : arm([]);
    const armParams = split ? values.flatMap((v) => [v, ...params]) : params;
    return this.d
      .prepare(
        `SELECT d.doc FROM (${arms} ORDER BY last_seen DESC, id LIMIT ? OFFSET ?) AS p
         JOIN incident_docs d ON d.incident = p.r ORDER BY p.last_seen DESC, p.id`,
      )
      .all(...armParams, size, offset) as { doc: string }[];
  }

  /**
   * `rule` names a rule by id or by title. Where no incident has it as the other one, the condition is a
   * single equality, which its index serves in last_seen order; the OR of both needs a sort.
   */
  private ruleCondition(rule: string, where: string[], params: SQLInputValue[]): void {
    const asTitle = this.sql('SELECT 1 FROM incidents WHERE rule_title = ? AND rule_id <> ? LIMIT 1').get(rule, rule);
    const asId = this.sql('SELECT 1 FROM incidents WHERE rule_id = ? AND rule_title <> ? LIMIT 1').get(rule, rule);
    if (asTitle && asId) {
      where.push('(rule_id = ? OR rule_title = ?)');
      params.push(rule, rule);
    } else {
      where.push(asTitle ? 'rule_title = ?' : 'rule_id = ?');
      params.push(rule);
    }
  }

  /**
   * An incident is in [from, to] when its activity overlaps it: last_seen >= from and first_seen <= to.
   * No incident lasts longer than the longest stored one (span), so last_seen <= to + span and
   * first_seen >= from - span hold too: with both bounds on last_seen, its index reads only the range,
   * newest first, and a page stops after its rows.
   */
  private timeConditions(from: string | undefined, to: string | undefined, where: string[], params: SQLInputValue[]): void {
    const span = Number((this.sql('SELECT max(last_seen - first_seen) AS span FROM incidents').get() as { span: number | null }).span ?? 0);
    if (from) {
      where.push('last_seen >= ?', 'first_seen >= ?');
      params.push(Date.parse(from), Date.parse(from) - span);
    }
    if (to) {
      where.push('first_seen <= ?', 'last_seen <= ?');
      params.push(Date.parse(to), Date.parse(to) + span);
    }
  }

  async alertsOf(incidentId: string, opts: { size?: number } = {}): Promise<Alert[]> {
    const rows = this.sql('SELECT doc FROM alerts WHERE incident_id = ? ORDER BY ts, id LIMIT ?').all(incidentId, Math.min(opts.size ?? 500, 10_000)) as {
      doc: string;
    }[];
    return rows.map((r) => JSON.parse(r.doc) as Alert);
  }

  async alertHistogram(q: HistogramQuery): Promise<HistogramBucket[]> {
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    const step = q.intervalMinutes * 60_000;
    const where = ['ts >= ?', 'ts < ?'];
    const params: SQLInputValue[] = [from, to];
    drillCondition(q.drill, 'drill', where, params);
    const rows = this.d.prepare(`SELECT (ts / ${step}) * ${step} AS at, count(*) AS n FROM alerts WHERE ${where.join(' AND ')} GROUP BY at`).all(...params) as {
      at: number;
      n: number;
    }[];
    const counts = new Map<number, number>();
    for (let t = Math.floor(from / step) * step; t < to; t += step) counts.set(t, 0);
    for (const r of rows) counts.set(Number(r.at), Number(r.n));
    return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([t, count]) => ({ at: new Date(t).toISOString(), count }));
  }

  async appendAudit(entry: AuditEntry): Promise<{ created: boolean }> {
    const e = AuditEntrySchema.parse(entry);
    return { created: this.write(() => this.putAudit(e), true) };
  }

  async searchAudit(filter: AuditFilter): Promise<AuditPage> {
    const f = AuditFilterSchema.parse(filter);
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    const eq = (column: string, v: string | undefined) => {
      if (v === undefined) return;
      where.push(`${column} = ?`);
      params.push(v);
    };
    eq('actor', f.actor);
    eq('action', f.action);
    eq('incident_id', f.incident_id);
    if (f.from) {
      where.push('ts >= ?');
      params.push(Date.parse(f.from));
    }
    if (f.to) {
      where.push('ts <= ?');
      params.push(Date.parse(f.to));
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = Number((this.d.prepare(`SELECT count(*) AS n FROM audit ${clause}`).get(...params) as { n: number }).n);
    const rows = this.d.prepare(`SELECT doc FROM audit ${clause} ORDER BY ts DESC, id LIMIT ? OFFSET ?`).all(...params, f.size, (f.page - 1) * f.size) as {
      doc: string;
    }[];
    return { total, entries: rows.map((r) => JSON.parse(r.doc) as AuditEntry) };
  }

  async purgeDrill(drillId: string): Promise<{ alerts: number; incidents: number }> {
    if (!drillId || drillId === 'none' || drillId === 'any') throw new Error(`'${drillId}' is not a drill id`);
    const alerts = await this.deleteInChunks('SELECT rowid FROM alerts WHERE drill = ?', [drillId], 'alerts');
    const incidents = await this.deleteInChunks('SELECT rowid FROM incidents WHERE drill = ?', [drillId], 'incidents');
    return { alerts, incidents };
  }

  /** Deletes the rows `select` finds, a chunk per transaction, yielding to the event loop between chunks. */
  private async deleteInChunks(select: string, params: SQLInputValue[], table: 'alerts' | 'incidents'): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = this.write(() => {
        const ids = (this.d.prepare(`${select} LIMIT ${DELETE_CHUNK}`).all(...params) as { rowid: number }[]).map((r) => r.rowid);
        for (const rowid of ids) {
          if (table === 'incidents') {
            this.sql('DELETE FROM incident_docs WHERE incident = ?').run(rowid);
            this.sql('DELETE FROM incident_hosts WHERE incident = ?').run(rowid);
            this.sql('DELETE FROM incident_text WHERE rowid = ?').run(rowid);
          }
          this.sql(`DELETE FROM ${table} WHERE rowid = ?`).run(rowid);
        }
        return ids.length;
      });
      deleted += n;
      if (n < DELETE_CHUNK) return deleted;
      await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * Deletes alerts older than the retention, and incidents closed (resolved, false positive) whose last
   * activity is older: open incidents stay whatever their age. The audit trail is kept.
   */
  async applyRetention(): Promise<{ alerts: number; incidents: number; before: string }> {
    if (this.retentionRunning) await this.retentionRunning;
    const before = monthsBefore((this.opts.now ?? (() => new Date()))(), this.opts.retentionMonths ?? 12);
    const run = (async () => {
      const cutoff = before.getTime();
      const alerts = await this.deleteInChunks('SELECT rowid FROM alerts WHERE ts < ?', [cutoff], 'alerts');
      const incidents = await this.deleteInChunks(
        `SELECT rowid FROM incidents WHERE last_seen < ? AND status IN (${CLOSED.map(() => '?').join(', ')})`,
        [cutoff, ...CLOSED],
        'incidents',
      );
      return { alerts, incidents, before: before.toISOString() };
    })();
    this.retentionRunning = run;
    try {
      const out = await run;
      if (out.alerts || out.incidents) this.opts.onRetention?.(out);
      return out;
    } finally {
      this.retentionRunning = undefined;
    }
  }

  /** Gives back the page cache's memory (it fills up again as queries need it). */
  shrinkMemory(): void {
    this.db?.exec('PRAGMA shrink_memory');
  }

  async ping(): Promise<boolean> {
    return this.db?.isOpen ?? false;
  }

  async close(): Promise<void> {
    if (!this.db) return;
    clearInterval(this.retentionTimer);
    if (this.retentionRunning) await this.retentionRunning.catch(() => undefined);
    this.statements.clear();
    // A clean close folds the WAL back into the database, so the next open has nothing to replay.
    if (!this.opts.readOnly) this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.db.close();
    this.db = undefined;
  }
}
