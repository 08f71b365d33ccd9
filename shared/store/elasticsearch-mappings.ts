/**
 * ECS mappings of the three kinds of documents. Root objects are `dynamic: false`: a field added to the
 * contracts later is kept in _source without a mapping change, and a hostile log line cannot grow the mapping.
 */
const keyword = { type: 'keyword', ignore_above: 1024 } as const;
const date = { type: 'date' } as const;
const long = { type: 'long' } as const;
const text = { type: 'text' } as const;
const titled = { type: 'text', fields: { keyword } } as const;
/** Event values come from logs: a malformed one must not reject the alert carrying it. */
const lenient = <T extends object>(m: T) => ({ ...m, ignore_malformed: true });

const ruleRef = { properties: { id: keyword, title: titled, level: keyword, layer: long } };

/**
 * group holds the group-by values of a correlation, whose names vary by rule. Flattened: every value is a
 * keyword searchable as group.<name>, and a new name never costs a mapping update on the write path.
 */
const group = { type: 'flattened' } as const;

const endpoint = { properties: { ip: lenient({ type: 'ip' }), port: lenient(long) } };

/** The normalized event (ARCHITECTURE.md, "The normalized event") as embedded in an alert. */
export const ecsEventProperties = {
  '@timestamp': lenient(date),
  event: {
    properties: {
      kind: keyword,
      category: keyword,
      type: keyword,
      action: keyword,
      outcome: keyword,
      dataset: keyword,
      module: keyword,
      id: keyword,
      code: keyword,
      severity: lenient(long),
      original: text,
      ingested: lenient(date),
    },
  },
  host: { properties: { name: keyword, ip: lenient({ type: 'ip' }) } },
  observer: { properties: { vendor: keyword, product: keyword, type: keyword } },
  source: endpoint,
  destination: endpoint,
  network: { properties: { transport: keyword, direction: keyword } },
  rule: { properties: { name: keyword } },
  file: { properties: { path: keyword, name: keyword, hash: { properties: { sha256: keyword } } } },
  threat: { properties: { software: { properties: { name: keyword } } } },
  user: { properties: { name: keyword, domain: keyword } },
  labels: { properties: { unit: keyword, drill: keyword } },
  error: { properties: { message: text } },
};

export const alertMappings = {
  dynamic: false,
  properties: {
    id: keyword,
    '@timestamp': date,
    rule: ruleRef,
    group,
    group_key: keyword,
    incident_id: keyword,
    severity: keyword,
    host: keyword,
    unit: keyword,
    drill: keyword,
    event_count: long,
    event_ids: keyword,
    events: { type: 'object', dynamic: false, properties: ecsEventProperties },
    window: { properties: { start: date, end: date } },
  },
};

export const incidentMappings = {
  dynamic: false,
  properties: {
    id: keyword,
    rule: ruleRef,
    group,
    group_key: keyword,
    status: keyword,
    layer: long,
    severity: keyword,
    unit: keyword,
    host: keyword,
    assignee: keyword,
    first_seen: date,
    last_seen: date,
    alert_count: long,
    drill: keyword,
    report_due: date,
    ack_due: date,
    share_national: { type: 'boolean' },
    runbook: text,
    timeline: {
      properties: { at: date, actor: keyword, action: keyword, note: text, from: { type: 'object', enabled: false }, to: { type: 'object', enabled: false } },
    },
    // Input positions keyed by topic/partition: bookkeeping for the correlator, never searched.
    applied: { type: 'object', enabled: false },
    version: long,
    updated_at: date,
  },
};

export const auditMappings = {
  dynamic: false,
  properties: {
    id: keyword,
    '@timestamp': date,
    actor: keyword,
    action: keyword,
    incident_id: keyword,
    source_ip: lenient({ type: 'ip' }),
    // Before and after are whole incidents: kept verbatim for the inspectors, not indexed.
    before: { type: 'object', enabled: false },
    after: { type: 'object', enabled: false },
  },
};
