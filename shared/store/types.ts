import { z } from 'zod';
import { IncidentStatus, Layer, Level, type Alert, type AuditEntry, type Incident } from '../incident.ts';

/**
 * Where alerts, incidents and the audit trail live. The correlator writes through it, the console and the
 * drill scorer read through it. Elasticsearch implements it now; an embedded on-disk store can sit behind
 * the same interface later.
 */
export interface IncidentStore {
  /** Creates templates and the indices that must exist; safe to call on every start. */
  init(): Promise<void>;
  /** Writes alerts by their deterministic id: the same alerts twice leave the same documents, never duplicates. */
  writeAlerts(alerts: Alert[], opts?: WriteOptions): Promise<{ written: number }>;
  /**
   * Creates the incident, or merges the correlator's view into the stored one: counts and times grow,
   * what responders own (status, assignee, timeline, a raised layer) is kept.
   */
  upsertIncident(incident: Incident, opts?: WriteOptions): Promise<UpsertResult>;
  /** upsertIncident for several incidents (distinct ids) in one round trip; results in input order. */
  upsertIncidents(incidents: Incident[], opts?: WriteOptions): Promise<UpsertResult[]>;
  /**
   * Read-modify-write under optimistic concurrency: `mutate` receives the stored incident and returns the
   * next one (or null to leave it); a concurrent writer makes it run again on the fresh copy.
   */
  updateIncident(id: string, mutate: (current: Incident) => Incident | null, opts?: UpdateOptions): Promise<UpdateResult>;
  getIncident(id: string): Promise<Incident | null>;
  /** The most recent incident of each rule, group key and drill (null: real traffic), read fresh; null where none. */
  latestIncidents(keys: IncidentKey[]): Promise<(Incident | null)[]>;
  searchIncidents(filter: IncidentFilter): Promise<IncidentPage>;
  alertsOf(incidentId: string, opts?: { size?: number }): Promise<Alert[]>;
  /** Alerts per time bucket, for the console's chart. */
  alertHistogram(query: HistogramQuery): Promise<HistogramBucket[]>;
  /** Append-only: an entry with an id already present is left as it is. */
  appendAudit(entry: AuditEntry, opts?: WriteOptions): Promise<{ created: boolean }>;
  searchAudit(filter: AuditFilter): Promise<AuditPage>;
  /** Removes the alerts and incidents of one drill; real incidents are never touched. */
  purgeDrill(drillId: string): Promise<{ alerts: number; incidents: number }>;
  /** Answers whether the backing service is reachable. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** What alerts of one incident share: the incident a new alert joins is the latest of its key. */
export interface IncidentKey {
  ruleId: string;
  groupKey: string;
  drill: string | null;
}

/** One string per incident key, for maps and caches. */
export function incidentKeyOf(ruleId: string, groupKey: string, drill: string | null): string {
  return `${ruleId}\u0000${groupKey}\u0000${drill ?? ''}`;
}

export interface WriteOptions {
  /** Wait until the write is visible to searches (tests, and actions a page re-reads at once). */
  refresh?: boolean;
}

export interface UpdateOptions extends WriteOptions {
  /** How many times to re-run `mutate` after a concurrent change before giving up (default 20). */
  retries?: number;
  /** The clock used for updated_at (tests and replays pass their own). */
  now?: () => Date;
}

export interface UpsertResult {
  incident: Incident;
  created: boolean;
  /** False when the stored incident already held everything the input carried. */
  changed: boolean;
}

export interface UpdateResult {
  before: Incident;
  /** Equal to `before` when mutate returned null. */
  after: Incident;
  changed: boolean;
}

export class IncidentNotFoundError extends Error {
  override name = 'IncidentNotFoundError';
  constructor(readonly id: string) {
    super(`incident ${id} not found`);
  }
}

/** Gave up after `retries` concurrent changes in a row. */
export class IncidentConflictError extends Error {
  override name = 'IncidentConflictError';
  constructor(
    readonly id: string,
    attempts: number,
  ) {
    super(`incident ${id} kept changing under ${attempts} attempts to update it`);
  }
}

/** Deep paging is refused rather than served slowly: Elasticsearch's default max_result_window. */
export const MAX_RESULT_WINDOW = 10_000;

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

/** Layers arrive as strings in a query string; numbers from code. */
const LayerParam = z.union([
  Layer,
  z
    .string()
    .regex(/^[1-4]$/, 'a layer is 1, 2, 3 or 4')
    .transform(Number),
]);

/**
 * Search filter for incidents; also the console's query string schema.
 * drill: a drill id, `none` for real incidents only, `any` for drills only; absent for both.
 */
export const IncidentFilterSchema = z
  .object({
    status: oneOrMany(IncidentStatus).optional(),
    layer: oneOrMany(LayerParam).optional(),
    severity: oneOrMany(Level).optional(),
    unit: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    rule: z.string().min(1).optional(),
    /** With rule: the incidents of one group (the correlator finds the latest after a restart). */
    group_key: z.string().min(1).optional(),
    drill: z.string().min(1).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    q: z.string().min(1).max(500).optional(),
    page: z.coerce.number().int().min(1).default(1),
    size: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict()
  .refine((f) => f.page * f.size <= MAX_RESULT_WINDOW, {
    message: `page * size must stay within ${MAX_RESULT_WINDOW}; narrow the filter instead`,
    path: ['page'],
  });
export type IncidentFilter = z.input<typeof IncidentFilterSchema>;

export interface IncidentPage {
  total: number;
  page: number;
  size: number;
  incidents: Incident[];
}

export const AuditFilterSchema = z
  .object({
    actor: z.string().min(1).optional(),
    action: z.string().min(1).optional(),
    incident_id: z.string().min(1).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    page: z.coerce.number().int().min(1).default(1),
    size: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict()
  .refine((f) => f.page * f.size <= MAX_RESULT_WINDOW, { message: `page * size must stay within ${MAX_RESULT_WINDOW}`, path: ['page'] });
export type AuditFilter = z.input<typeof AuditFilterSchema>;

export interface AuditPage {
  total: number;
  entries: AuditEntry[];
}

export interface HistogramQuery {
  from: string;
  to: string;
  intervalMinutes: number;
  /** Same meaning as IncidentFilter.drill. */
  drill?: string;
}

export interface HistogramBucket {
  at: string;
  count: number;
}
