import { errors, type Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { AlertSchema, AuditEntrySchema, IncidentSchema, type Alert, type AuditEntry, type Incident } from '../incident.ts';
import { ElasticsearchConfigSchema, type ElasticsearchConfig, type IndexShape } from '../config.ts';
import { checkElasticsearchConnection, elasticsearchClient } from './elasticsearch-connection.ts';
import { alertMappings, auditMappings, incidentMappings } from './elasticsearch-mappings.ts';
import { SIMPLE_QUERY_FLAGS } from './free-text.ts';
import { upsertOutcome } from './merge.ts';
import {
  AuditFilterSchema,
  IncidentConflictError,
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
  type IncidentKey,
  type UpsertResult,
  type WriteOptions,
} from './types.ts';

export interface ElasticsearchStoreOptions {
  /** Names every template and index: `<prefix>-alerts-YYYY.MM`, `<prefix>-incidents`, `<prefix>-audit-YYYY.MM`. */
  indexPrefix: string;
  client?: Client;
  /** Close the given client on close() (a client built from the config for this store alone). */
  ownsClient?: boolean;
  url?: string;
  username?: string;
  password?: string;
  /** Primary shards and replicas per index family; one shard and a replica where a second node exists by default. */
  shapes?: Partial<Record<'alerts' | 'incidents' | 'audit', IndexShape>>;
  /** The config the client was built from: init() then checks TLS and credentials first, naming what is wrong. */
  config?: ElasticsearchConfig;
}

const DEFAULT_SHAPE: IndexShape = { shards: 1, replicas: '0-1' };

function shapeSettings(s: IndexShape): Record<string, unknown> {
  return typeof s.replicas === 'number'
    ? { number_of_shards: s.shards, number_of_replicas: s.replicas, auto_expand_replicas: false }
    : { number_of_shards: s.shards, auto_expand_replicas: s.replicas };
}

/** YYYY.MM of a timestamp in UTC: monthly indices make a 12-month retention a matter of dropping indices. */
function month(ts: string): string {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

const isConflict = (err: unknown) => err instanceof errors.ResponseError && err.statusCode === 409;

/**
 * The incident store on Elasticsearch (plain indices and composable templates; no ingest pipelines or
 * scripts, so it runs on any distribution). Incidents are one index rather than monthly: an incident is
 * a mutable document that stays open across month ends, and optimistic concurrency needs a realtime GET
 * by id on a known index. Alerts and the audit trail are append-mostly and go to monthly indices.
 */
export class ElasticsearchIncidentStore implements IncidentStore {
  readonly client: Client;
  private readonly prefix: string;
  private readonly ownsClient: boolean;
  private readonly shapes: ElasticsearchStoreOptions['shapes'];
  private readonly config: ElasticsearchConfig | undefined;

  constructor(opts: ElasticsearchStoreOptions) {
    this.prefix = opts.indexPrefix;
    this.shapes = opts.shapes;
    this.config = opts.config;
    this.ownsClient = opts.ownsClient ?? !opts.client;
    this.client =
      opts.client ??
      elasticsearchClient(ElasticsearchConfigSchema.parse({ url: opts.url ?? 'http://127.0.0.1:9200', username: opts.username, password: opts.password }));
  }

  static fromConfig(config: ElasticsearchConfig, indexPrefix = config.indexPrefix): ElasticsearchIncidentStore {
    return new ElasticsearchIncidentStore({ client: elasticsearchClient(config), indexPrefix, shapes: config.indices, config, ownsClient: true });
  }

  get indices() {
    const p = this.prefix;
    return {
      alerts: (ts: string) => `${p}-alerts-${month(ts)}`,
      alertsPattern: `${p}-alerts-*`,
      incidents: `${p}-incidents`,
      audit: (ts: string) => `${p}-audit-${month(ts)}`,
      auditPattern: `${p}-audit-*`,
    };
  }

  async init(): Promise<void> {
    if (this.config) await checkElasticsearchConnection(this.client, this.config);
    if (this.config?.manageTemplates !== false) await this.putTemplates();
    // This month's indices too, so that the first alert or action after a start does not wait for an index creation.
    const now = new Date().toISOString();
    for (const index of [this.indices.incidents, this.indices.alerts(now), this.indices.audit(now)]) {
      try {
        await this.client.indices.create({ index });
      } catch (err) {
        if (!(err instanceof errors.ResponseError && err.body?.error?.type === 'resource_already_exists_exception')) throw err;
      }
    }
  }

  /**
   * The index templates: settings, shards and replicas per family, mappings. `lifecycle` names an ILM
   * policy for the monthly families (alerts, audit), for sites that prefer ILM to dropping old months.
   */
  async putTemplates(opts: { lifecycle?: string } = {}): Promise<void> {
    const p = this.prefix;
    await this.client.cluster.putComponentTemplate({ name: `${p}-settings`, template: { settings: { refresh_interval: '1s' } } });
    const kinds = [
      { name: 'alerts' as const, pattern: this.indices.alertsPattern, mappings: alertMappings },
      { name: 'incidents' as const, pattern: this.indices.incidents, mappings: incidentMappings },
      { name: 'audit' as const, pattern: this.indices.auditPattern, mappings: auditMappings },
    ];
    for (const k of kinds) {
      await this.client.cluster.putComponentTemplate({ name: `${p}-${k.name}-mappings`, template: { mappings: k.mappings as estypes.MappingTypeMapping } });
      const shape = this.shapes?.[k.name];
      const lifecycle = opts.lifecycle && k.name !== 'incidents' ? { 'index.lifecycle.name': opts.lifecycle } : {};
      try {
        await this.client.cluster.putComponentTemplate({
          name: `${p}-${k.name}-shape`,
          create: !shape && !opts.lifecycle,
          template: { settings: { ...shapeSettings(shape ?? DEFAULT_SHAPE), ...lifecycle } },
        });
      } catch (err) {
        // create: the family's shape is already set (by `canhgac es setup` or a component configured with it).
        if (!(err instanceof errors.ResponseError && err.statusCode === 400 && /already exists/.test(JSON.stringify(err.body)))) throw err;
      }
      await this.client.indices.putIndexTemplate({
        name: `${p}-${k.name}`,
        index_patterns: [k.pattern],
        composed_of: [`${p}-settings`, `${p}-${k.name}-shape`, `${p}-${k.name}-mappings`],
        // Templates of two prefixes may overlap ("x-alerts-*" matches "x-alerts-y-alerts-1"); equal priorities
        // would be refused, and the longer prefix is the more specific one.
        priority: 100 + p.length,
        _meta: { managed_by: 'canhgac' },
      });
    }
  }

  async writeAlerts(alerts: Alert[], opts: WriteOptions = {}): Promise<{ written: number }> {
    if (!alerts.length) return { written: 0 };
    const operations = alerts.flatMap((a) => [{ index: { _index: this.indices.alerts(a['@timestamp']), _id: a.id } }, a]);
    const res = await this.client.bulk({ operations, refresh: opts.refresh ? 'wait_for' : false });
    if (res.errors) {
      const failed = res.items.map((i) => i.index).filter((i) => i?.error);
      const first = failed[0]!;
      throw new Error(`${failed.length} of ${alerts.length} alerts not written; first: ${first._id}: ${first.error?.type}: ${first.error?.reason}`);
    }
    return { written: alerts.length };
  }

  async getIncident(id: string): Promise<Incident | null> {
    const got = await this.fetch(id);
    return got?.incident ?? null;
  }

  private async fetch(id: string): Promise<{ incident: Incident; seqNo: number; primaryTerm: number } | null> {
    const res = await this.client.get<unknown>({ index: this.indices.incidents, id }, { ignore: [404] });
    if (!res.found) return null;
    const parsed = IncidentSchema.safeParse(res._source);
    if (!parsed.success)
      throw new Error(`stored incident ${id} does not match the contract: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    return { incident: parsed.data, seqNo: res._seq_no!, primaryTerm: res._primary_term! };
  }

  async upsertIncident(incident: Incident, opts: WriteOptions = {}): Promise<UpsertResult> {
    const [result] = await this.upsertIncidents([incident], opts);
    return result!;
  }

  /**
   * One realtime multi-get and one bulk write for the lot, each write conditional on the copy it merged
   * (or a create): an incident a responder changed meanwhile is read and merged again, alone.
   */
  async upsertIncidents(incidents: Incident[], opts: WriteOptions = {}): Promise<UpsertResult[]> {
    const incoming = incidents.map((i) => IncidentSchema.parse(i));
    if (new Set(incoming.map((i) => i.id)).size !== incoming.length) throw new Error('upsertIncidents: an incident id appears twice; merge them first');
    const results: UpsertResult[] = new Array(incoming.length);
    let todo = incoming.map((_, i) => i);
    for (let attempt = 1; todo.length; attempt++) {
      const stored = await this.fetchMany(todo.map((i) => incoming[i]!.id));
      const operations: object[] = [];
      const written: number[] = [];
      todo.forEach((i, k) => {
        const s = stored[k];
        const result = upsertOutcome(s?.incident ?? null, incoming[i]!);
        results[i] = result;
        if (!result.changed) return;
        operations.push(
          s
            ? { index: { _index: this.indices.incidents, _id: result.incident.id, if_seq_no: s.seqNo, if_primary_term: s.primaryTerm } }
            : { create: { _index: this.indices.incidents, _id: result.incident.id } },
          result.incident,
        );
        written.push(i);
      });
      if (!operations.length) break;
      const res = await this.client.bulk({ operations, refresh: refresh(opts) });
      const conflicts: number[] = [];
      res.items.forEach((item, k) => {
        const r = item.index ?? item.create;
        if (!r?.error) return;
        if (r.status === 409) conflicts.push(written[k]!);
        else throw new Error(`incident ${r._id} not written: ${r.error.type}: ${r.error.reason}`);
      });
      if (conflicts.length && attempt > DEFAULT_RETRIES) throw new IncidentConflictError(incoming[conflicts[0]!]!.id, attempt);
      if (conflicts.length) await backoff(attempt);
      todo = conflicts;
    }
    return results;
  }

  private async fetchMany(ids: string[]): Promise<({ incident: Incident; seqNo: number; primaryTerm: number } | null)[]> {
    const res = await this.client.mget<unknown>({ index: this.indices.incidents, ids });
    return res.docs.map((d, k) => {
      if (!('found' in d) || !d.found) {
        if ('error' in d) throw new Error(`incident ${ids[k]} not read: ${d.error.type}: ${d.error.reason}`);
        return null;
      }
      const parsed = IncidentSchema.safeParse(d._source);
      if (!parsed.success)
        throw new Error(`stored incident ${d._id} does not match the contract: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      return { incident: parsed.data, seqNo: d._seq_no!, primaryTerm: d._primary_term! };
    });
  }

  async updateIncident(id: string, mutate: (current: Incident) => Incident | null, opts: UpdateOptions = {}): Promise<UpdateResult> {
    const retries = opts.retries ?? DEFAULT_RETRIES;
    const now = opts.now ?? (() => new Date());
    for (let attempt = 1; ; attempt++) {
      const stored = await this.fetch(id);
      if (!stored) throw new IncidentNotFoundError(id);
      const proposed = mutate(structuredClone(stored.incident));
      if (!proposed) return { before: stored.incident, after: stored.incident, changed: false };
      const after = IncidentSchema.parse({ ...proposed, id, version: stored.incident.version + 1, updated_at: now().toISOString() });
      try {
        await this.client.index({
          index: this.indices.incidents,
          id,
          document: after,
          if_seq_no: stored.seqNo,
          if_primary_term: stored.primaryTerm,
          refresh: refresh(opts),
        });
        return { before: stored.incident, after, changed: true };
      } catch (err) {
        if (!isConflict(err)) throw err;
        if (attempt > retries) throw new IncidentConflictError(id, attempt);
        await backoff(attempt);
      }
    }
  }

  async latestIncidents(keys: IncidentKey[]): Promise<(Incident | null)[]> {
    if (!keys.length) return [];
    // Searches see only refreshed documents; the correlator asks this on cache misses, once per batch.
    await this.client.indices.refresh({ index: this.indices.incidents });
    const res = await this.client.msearch<unknown>({
      index: this.indices.incidents,
      searches: keys.flatMap((k): estypes.MsearchRequestItem[] => [
        {},
        {
          query: { bool: { filter: [{ term: { 'rule.id': k.ruleId } }, { term: { group_key: k.groupKey } }, drillQuery(k.drill ?? 'none')!] } },
          sort: [{ last_seen: 'desc' }, { id: 'asc' }],
          size: 1,
        },
      ]),
    });
    return res.responses.map((r, k) => {
      if ('error' in r) throw new Error(`latest incident of ${keys[k]!.ruleId} ${keys[k]!.groupKey} not read: ${r.error.type}: ${r.error.reason}`);
      const hit = r.hits.hits[0];
      return hit ? IncidentSchema.parse(hit._source) : null;
    });
  }

  async searchIncidents(filter: IncidentFilter): Promise<IncidentPage> {
    const f = IncidentFilterSchema.parse(filter);
    const must: estypes.QueryDslQueryContainer[] = [];
    const terms = (field: string, values: unknown[] | undefined) => values?.length && must.push({ terms: { [field]: values as string[] } });
    terms('status', f.status);
    terms('layer', f.layer);
    terms('severity', f.severity);
    if (f.unit) must.push({ term: { unit: f.unit } });
    if (f.host) must.push({ term: { host: f.host } });
    if (f.rule) must.push({ bool: { should: [{ term: { 'rule.id': f.rule } }, { term: { 'rule.title.keyword': f.rule } }] } });
    if (f.group_key) must.push({ term: { group_key: f.group_key } });
    const drill = drillQuery(f.drill);
    if (drill) must.push(drill);
    // An incident is in the range when its activity [first_seen, last_seen] overlaps it.
    if (f.from) must.push({ range: { last_seen: { gte: f.from } } });
    if (f.to) must.push({ range: { first_seen: { lte: f.to } } });
    if (f.q) {
      must.push({
        simple_query_string: {
          query: f.q,
          fields: ['rule.title', 'rule.id', 'id', 'host', 'unit', 'assignee', 'group_key', 'timeline.note', 'runbook'],
          default_operator: 'and',
          flags: SIMPLE_QUERY_FLAGS,
          lenient: true,
        },
      });
    }
    const res = await this.client.search<unknown>({
      index: this.indices.incidents,
      query: { bool: { filter: must } },
      sort: [{ last_seen: 'desc' }, { id: 'asc' }],
      from: (f.page - 1) * f.size,
      size: f.size,
      track_total_hits: true,
    });
    return {
      total: totalOf(res.hits.total),
      page: f.page,
      size: f.size,
      incidents: res.hits.hits.map((h) => IncidentSchema.parse(h._source)),
    };
  }

  async alertsOf(incidentId: string, opts: { size?: number } = {}): Promise<Alert[]> {
    const res = await this.client.search<unknown>({
      index: this.indices.alertsPattern,
      query: { term: { incident_id: incidentId } },
      sort: [{ '@timestamp': 'asc' }, { id: 'asc' }],
      size: Math.min(opts.size ?? 500, 10_000),
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    return res.hits.hits.map((h) => AlertSchema.parse(h._source));
  }

  async alertHistogram(q: HistogramQuery): Promise<HistogramBucket[]> {
    const filter: estypes.QueryDslQueryContainer[] = [{ range: { '@timestamp': { gte: q.from, lt: q.to } } }];
    const drill = drillQuery(q.drill);
    if (drill) filter.push(drill);
    const res = await this.client.search({
      index: this.indices.alertsPattern,
      size: 0,
      query: { bool: { filter } },
      aggs: {
        per: {
          date_histogram: {
            field: '@timestamp',
            fixed_interval: `${q.intervalMinutes}m`,
            min_doc_count: 0,
            extended_bounds: { min: Date.parse(q.from), max: Date.parse(q.to) - 1 },
          },
        },
      },
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    const per = res.aggregations?.per as estypes.AggregationsDateHistogramAggregate | undefined;
    const buckets = (per?.buckets ?? []) as estypes.AggregationsDateHistogramBucket[];
    return buckets.map((b) => ({ at: new Date(Number(b.key)).toISOString(), count: b.doc_count }));
  }

  async appendAudit(entry: AuditEntry, opts: WriteOptions = {}): Promise<{ created: boolean }> {
    const e = AuditEntrySchema.parse(entry);
    try {
      await this.client.index({ index: this.indices.audit(e['@timestamp']), id: e.id, document: e, op_type: 'create', refresh: refresh(opts) });
      return { created: true };
    } catch (err) {
      if (isConflict(err)) return { created: false };
      throw err;
    }
  }

  async searchAudit(filter: AuditFilter): Promise<AuditPage> {
    const f = AuditFilterSchema.parse(filter);
    const must: estypes.QueryDslQueryContainer[] = [];
    if (f.actor) must.push({ term: { actor: f.actor } });
    if (f.action) must.push({ term: { action: f.action } });
    if (f.incident_id) must.push({ term: { incident_id: f.incident_id } });
    if (f.from || f.to) must.push({ range: { '@timestamp': { gte: f.from, lte: f.to } } });
    const res = await this.client.search<unknown>({
      index: this.indices.auditPattern,
      query: { bool: { filter: must } },
      sort: [{ '@timestamp': 'desc' }, { id: 'asc' }],
      from: (f.page - 1) * f.size,
      size: f.size,
      track_total_hits: true,
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    return { total: totalOf(res.hits.total), entries: res.hits.hits.map((h) => AuditEntrySchema.parse(h._source)) };
  }

  /** Search-and-bulk-delete in batches: the distribution under test has no _delete_by_query (reindex module). */
  async purgeDrill(drillId: string): Promise<{ alerts: number; incidents: number }> {
    if (!drillId || drillId === 'none' || drillId === 'any') throw new Error(`'${drillId}' is not a drill id`);
    const purge = async (index: string) => {
      let deleted = 0;
      for (;;) {
        await this.client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
        const res = await this.client.search({
          index,
          query: { term: { drill: drillId } },
          _source: false,
          size: 1000,
          ignore_unavailable: true,
          allow_no_indices: true,
        });
        const hits = res.hits.hits;
        if (!hits.length) return deleted;
        const bulk = await this.client.bulk({ operations: hits.map((h) => ({ delete: { _index: h._index, _id: h._id! } })), refresh: true });
        if (bulk.errors)
          throw new Error(`purge of drill ${drillId} in ${index} failed: ${JSON.stringify(bulk.items.find((i) => i.delete?.error)?.delete?.error)}`);
        deleted += hits.length;
      }
    };
    return { alerts: await purge(this.indices.alertsPattern), incidents: await purge(this.indices.incidents) };
  }

  async ping(): Promise<boolean> {
    // Cluster health rather than ping(): the root endpoint is missing from some distributions. No
    // retries: a health check says how the cluster is now, at once, not after the client's backoff
    // (seconds of it for a node that refuses connections).
    try {
      const h = await this.client.cluster.health({ timeout: '2s' }, { maxRetries: 0 });
      return h.status !== 'red';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}

const DEFAULT_RETRIES = 20;

function refresh(opts: WriteOptions): 'wait_for' | false {
  return opts.refresh ? 'wait_for' : false;
}

function drillQuery(drill: string | undefined): estypes.QueryDslQueryContainer | null {
  if (drill === undefined) return null;
  if (drill === 'none') return { bool: { must_not: { exists: { field: 'drill' } } } };
  if (drill === 'any') return { exists: { field: 'drill' } };
  return { term: { drill } };
}

function totalOf(total: number | estypes.SearchTotalHits | undefined): number {
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

/** Jittered, so that two writers racing on one incident do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(200, 5 * attempt) + Math.random() * 10));
}
