import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import { MemoryBus } from '../../shared/bus/memory.ts';
import type { Bus } from '../../shared/bus/types.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import type { IncidentStore } from '../../shared/store/types.ts';
import { topicNames, type Topics } from '../../shared/topics.ts';
import { PACKAGE_ROOT } from '../../shared/package-root.ts';
import { AssetRegister } from '../detection/assets.ts';
import { loadRuleSet } from '../detection/ruleset.ts';
import type { BeatsInputConfig } from '../inputs/beats.ts';
import { DEFAULT_POLICY } from '../incidents/grouping.ts';
import { Correlator } from '../service.ts';
import { assetLookup } from '../stages/rules.ts';
import { kafkaBrokers, testElasticsearch, uniqueName } from '../../test/support/services.ts';
import { SCENARIO_RULES } from './scenario.ts';

export interface Summary {
  incidents: string[];
  alerts: string[];
}

/** What early firing left marked: incidents withdrawn and alerts retracted (ids), and incidents still provisional. */
export interface Retractions {
  withdrawn: string[];
  retracted: string[];
  provisional: string[];
}

/**
 * Every incident and alert reduced to what must not change between runs (ids, counts, windows). Alerts
 * retracted and incidents withdrawn (early firing that the ordered evaluation did not confirm) stay in
 * the store, marked; they are set apart, since the ordered run never wrote them.
 */
export async function summarize(store: IncidentStore, marked?: Retractions): Promise<Summary> {
  const incidents = [];
  for (let page = 1; ; page++) {
    const p = await store.searchIncidents({ size: 500, page });
    incidents.push(...p.incidents);
    if (p.incidents.length < 500) break;
  }
  const alerts = (await Promise.all(incidents.map((i) => store.alertsOf(i.id, { size: 10_000 })))).flat();
  if (marked) {
    marked.withdrawn = incidents
      .filter((i) => i.withdrawn)
      .map((i) => i.id)
      .sort();
    marked.retracted = alerts
      .filter((a) => a.retracted)
      .map((a) => a.id)
      .sort();
    marked.provisional = incidents
      .filter((i) => i.provisional)
      .map((i) => i.id)
      .sort();
  }
  return {
    incidents: incidents
      .filter((i) => !i.withdrawn)
      .map((i) => JSON.stringify([i.id, i.rule.id, i.group_key, i.alert_count, i.first_seen, i.last_seen, i.severity, i.layer]))
      .sort(),
    alerts: alerts
      .filter((a) => !a.retracted)
      .map((a) => JSON.stringify([a.id, a.rule.id, a.group_key, a.incident_id, a.event_count, a.window.start, a.window.end]))
      .sort(),
  };
}

export interface CorrelatorTestOptions {
  /** Rule folders (default: the scenario's). */
  rules?: string[];
  tickMs?: number;
  allowedLatenessMs?: number;
  eventsPerAlert?: number;
  /** Default true, as the correlator runs; the reference run turns it off (the ordered evaluation alone). */
  earlyFiring?: boolean;
  log?: Logger;
  beats?: BeatsInputConfig[];
  /** A register beside the rules folder's own (the bundled drills' data centre: drillAssets()). */
  extraAssets?: AssetRegister;
}

/** The asset register of the bundled drills' data centre (rules/drills/assets.yml), the demo's sample. */
export function drillAssets(): AssetRegister {
  const { register, findings } = AssetRegister.load(join(PACKAGE_ROOT, 'rules', 'drills', 'assets.yml'));
  if (!register) throw new Error(JSON.stringify(findings));
  return register;
}

/** A correlator as the tests and the benchmark run it: three partitions per topic, the default policy. */
export function correlatorFor(bus: Bus, store: IncidentStore, topics: Topics, groupId: string, o: CorrelatorTestOptions = {}): Correlator {
  const { ruleset } = loadRuleSet(o.rules ?? [SCENARIO_RULES], { extraAssets: o.extraAssets });
  const rules = () => ruleset;
  return new Correlator({
    bus,
    store,
    topics,
    rules,
    assets: assetLookup(rules),
    groupId,
    partitions: { raw: 3, correlate: 3, incidents: 1 },
    allowedLatenessMs: o.allowedLatenessMs ?? 5 * 60_000,
    earlyFiring: o.earlyFiring,
    eventsPerAlert: o.eventsPerAlert ?? 10,
    policy: DEFAULT_POLICY,
    timezone: 'Asia/Ho_Chi_Minh',
    log: o.log ?? createLogger('correlator-test'),
    tickMs: o.tickMs ?? 300,
    ...(o.beats ? { beats: o.beats } : {}),
  });
}

/** Where a correlator runs in a test: its bus, its store and the topics, with what a test needs around them. */
export interface Backend {
  bus: Bus;
  store: IncidentStore;
  topics: Topics;
  /** Makes the store's latest writes visible to searches. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** The in-memory bus with the embedded store: a correlator with no services, for unit tests. */
export async function memoryBackend(name: string): Promise<Backend> {
  const store = new EmbeddedIncidentStore(mkdtempSync(join(tmpdir(), `canhgac-${name}-`)));
  return { bus: new MemoryBus(3), store, topics: topicNames(`${name}.`), settle: async () => undefined, close: () => store.close() };
}

/** Kafka with Elasticsearch, on a prefix of its own (topics and indices; integration tests only: needs the services). */
export async function servicesBackend(name: string): Promise<Backend & { prefix: string }> {
  const prefix = uniqueName(name);
  const es = testElasticsearch();
  return {
    prefix,
    bus: new KafkaBus({ brokers: kafkaBrokers(), clientId: `${name}-test`, topicPrefix: '', ssl: false }, createLogger(`${name}-test`)),
    store: new ElasticsearchIncidentStore({ client: es, indexPrefix: prefix }),
    topics: topicNames(`${prefix}.`),
    settle: async () => void (await es.indices.refresh({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true })),
    close: async () => {
      await es.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
      await es.close();
    },
  };
}

/** Both backends a correlator runs on, for describe.each in integration tests. */
export function backends(name: string): [string, () => Promise<Backend>][] {
  return [
    ['in-memory bus + embedded store', () => memoryBackend(name)],
    ['Kafka + Elasticsearch', () => servicesBackend(name)],
  ];
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The reference result: the scenario through the in-memory bus and the embedded store, undisturbed, by
 * the ordered evaluation alone (no early firing): what every run must end as.
 */
export async function referenceRun(
  messages: { key: string; value: string }[],
  o: { rules?: string[]; allowedLatenessMs?: number; quietMs?: number } = {},
): Promise<Summary> {
  const store = new EmbeddedIncidentStore(mkdtempSync(join(tmpdir(), 'canhgac-reference-')));
  const bus = new MemoryBus(3);
  const topics = topicNames('ref.');
  const c = correlatorFor(bus, store, topics, 'reference', { earlyFiring: false, rules: o.rules, allowedLatenessMs: o.allowedLatenessMs });
  await c.start();
  const producer = await bus.producer();
  await producer.send(topics.raw, messages);
  let last = '';
  let stableSince = Date.now();
  const result = await until('the reference run to settle', 60_000 + (o.quietMs ?? 0), async () => {
    const s = await summarize(store);
    const key = JSON.stringify(s);
    if (key !== last) {
      last = key;
      stableSince = Date.now();
      return undefined;
    }
    // Live event times close their windows only as the wall clock passes them: quiet for longer than that.
    return Date.now() - stableSince > (o.quietMs ?? 1500) && s.incidents.length > 0 ? s : undefined;
  });
  await c.stop();
  await store.close();
  return result;
}

/** A config file for `canhgac correlator` child processes in tests (rules: the scenario's unless given; metrics: a port for /metrics). */
export function correlatorConfig(o: {
  brokers: string[];
  topicPrefix: string;
  esUrl: string;
  indexPrefix: string;
  groupId: string;
  rules?: string;
  metricsPort?: number;
}): string {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-correlator-'));
  const file = join(dir, 'correlator.yml');
  writeFileSync(
    file,
    [
      'kafka:',
      `  brokers: [${o.brokers.join(', ')}]`,
      `  topicPrefix: "${o.topicPrefix}"`,
      'elasticsearch:',
      `  url: ${o.esUrl}`,
      `  indexPrefix: ${o.indexPrefix}`,
      'correlator:',
      `  groupId: ${o.groupId}`,
      `  rules: ${o.rules ?? SCENARIO_RULES}`,
      '  partitions: { raw: 3, correlate: 3, incidents: 1 }',
      '  allowedLateness: 5m',
      ...(o.metricsPort ? [`  metrics: { port: ${o.metricsPort} }`] : []),
      // The reference run has no operations: keep escalation and audits (wall-clock jobs) out of the
      // comparison by scheduling them once a year.
      'operations:',
      "  escalation: { schedule: '0 0 0 1 1 *' }",
      "  audits: { schedule: '0 0 0 1 1 *' }",
      '',
    ].join('\n'),
  );
  return file;
}
