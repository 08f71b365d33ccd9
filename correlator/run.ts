import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import type { Bus } from '../shared/bus/types.ts';
import { createLogger } from '../shared/log.ts';
import type { IncidentStore } from '../shared/store/types.ts';
import { topicNames, type Topics } from '../shared/topics.ts';
import { formatFinding } from '../shared/yaml-source.ts';
import type { CorrelatorConfig } from './config.ts';
import type { AssetRegister } from './detection/assets.ts';
import { EvaluationBudget } from './detection/budget.ts';
import { watchRules } from './detection/watch.ts';
import { watchDecoders } from './decoders/custom/watch.ts';
import { DEFAULT_POLICY } from './incidents/grouping.ts';
import { correlatorMetrics } from './metrics.ts';
import { Correlator } from './service.ts';
import { MemoryTelemetryLedger } from './operations/telemetry.ts';
import { canonicalHost, startOperations } from './operations/service.ts';
import { join } from 'node:path';
import { assetLookup } from './stages/rules.ts';

/** Where the correlator reads and writes. `canhgac start` passes its own and closes them itself. */
export interface CorrelatorBackends {
  bus: Bus;
  store: IncidentStore;
  topics: Topics;
}

export interface RunningCorrelator {
  correlator: Correlator;
  stop(): Promise<void>;
}

/**
 * `canhgac correlator`: Kafka in, Elasticsearch and Kafka out, rules hot-reloaded from the rules folder.
 * With `shared` backends (the in-memory bus and embedded store of `canhgac start`), the same wiring runs on those.
 * `extraAssets` (the demo's sample register) places and rates events beside the folder's own register;
 * the audits watch the folder's own servers only, so a sample host is never reported silent.
 */
export async function startCorrelatorService(
  cfg: CorrelatorConfig,
  shared?: CorrelatorBackends,
  opts: { extraAssets?: AssetRegister } = {},
): Promise<RunningCorrelator> {
  if (!shared && !cfg.kafka) throw new Error('no Kafka configured: set kafka.brokers or KAFKA_BROKERS');
  if (!shared && !cfg.elasticsearch) throw new Error('no Elasticsearch configured: set elasticsearch.url or ELASTICSEARCH_URL');
  const c = cfg.correlator;
  const log = createLogger('correlator', { instance: `${hostname()}:${process.pid}`, group: c.groupId }, cfg.log.level);
  const metrics = correlatorMetrics();
  // One budget across reloads: an unrelated reload does not re-enable a rule disabled for being slow.
  const budget = new EvaluationBudget(c.ruleLimits, {
    onOverrun: (r, ms, abandoned) => {
      metrics.ruleOverruns.inc({ rule: r.info.id });
      if (!abandoned) return;
      metrics.ruleAbandoned.inc({ rule: r.info.id });
      log.warn({ rule: r.info.id, file: r.info.file, ms: Math.round(ms) }, 'rule evaluation abandoned past its deadline: taken as no match for this event');
    },
    onDisable: (r) => {
      metrics.rulesDisabled.inc({ rule: r.id });
      log.error({ rule: r.id, file: r.file, line: r.line, overruns: r.overruns, slowestMs: r.slowestMs }, 'rule too slow: disabled until its file changes');
    },
  });
  const watcher = watchRules(
    c.rules,
    (e) => {
      log.info({ changed: e.changed, kept: e.kept, rules: e.ruleset.size }, 'rules reloaded');
      for (const f of e.findings) if (f.severity === 'error') log.error({ finding: formatFinding(f) }, 'rule error; previous version kept');
    },
    { limits: c.ruleLimits, budget, extraAssets: opts.extraAssets },
  );
  for (const f of watcher.findings) if (f.severity === 'error') log.error({ finding: formatFinding(f) }, 'rule error; the rule is left out');
  // Custom decoders (rules/decoders/*.yml): installed for every decode in this process, reloaded the same way.
  const decoderWatcher = watchDecoders(join(c.rules, 'decoders'), (e) => {
    log.info({ changed: e.changed, kept: e.kept, decoders: e.decoders.map((d) => d.name) }, 'custom decoders reloaded');
    for (const f of e.findings) if (f.severity === 'error') log.error({ finding: formatFinding(f) }, 'decoder error; previous version kept');
  });
  for (const f of decoderWatcher.findings) if (f.severity === 'error') log.error({ finding: formatFinding(f) }, 'decoder error; the decoder is left out');
  log.info({ rules: watcher.ruleset.size, folder: c.rules }, 'rules loaded');
  const rules = () => watcher.ruleset;
  const { bus, store, topics } = shared ?? (await distributedBackends(cfg, log));
  const ledger = new MemoryTelemetryLedger(
    new Date(),
    canonicalHost(() => watcher.assets),
  );
  const correlator = new Correlator({
    ledger,
    bus,
    store,
    topics,
    rules,
    assets: assetLookup(rules),
    groupId: c.groupId,
    partitions: c.partitions,
    allowedLatenessMs: c.allowedLateness,
    eventsPerAlert: c.eventsPerAlert,
    policy: { ...DEFAULT_POLICY, suppressionMs: c.suppression, reportDueMs: c.reportDue },
    timezone: cfg.timezone,
    log,
    metrics,
    beats: c.beats,
  });
  await correlator.start();
  const operations = await startOperations({
    config: cfg.operations,
    bus,
    store,
    topics,
    sink: correlator.sink,
    ledger,
    assets: () => watcher.assets,
    ruleFindings: () => [...watcher.findings, ...decoderWatcher.findings],
    slowRules: () => budget.slowRules(),
    listsDir: join(c.rules, 'lists'),
    groupId: `${c.groupId}.national`,
    timezone: cfg.timezone,
    ackDueMsByLevel: DEFAULT_POLICY.ackDueMsByLevel,
    reportDueMs: c.reportDue,
    log: log.child({ part: 'operations' }),
  });
  let metricsServer: Server | undefined;
  if (c.metrics) {
    const registry = correlator.metrics.registry;
    metricsServer = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => metricsServer!.listen(c.metrics!.port, c.metrics!.host, resolve));
  }
  return {
    correlator,
    async stop() {
      metricsServer?.close();
      watcher.close();
      decoderWatcher.close();
      await operations.stop();
      await correlator.stop();
      if (!shared) await store.close();
    },
  };
}

/**
 * Kafka and Elasticsearch, loaded only when used: the Elasticsearch client and what it brings take a
 * noticeable part of a start, which the embedded default never needs.
 */
async function distributedBackends(cfg: CorrelatorConfig, log: ReturnType<typeof createLogger>): Promise<CorrelatorBackends> {
  const [{ KafkaBus }, { ElasticsearchIncidentStore }] = await Promise.all([import('../shared/bus/kafka.ts'), import('../shared/store/elasticsearch.ts')]);
  return { bus: new KafkaBus(cfg.kafka!, log), store: ElasticsearchIncidentStore.fromConfig(cfg.elasticsearch!), topics: topicNames(cfg.kafka!.topicPrefix) };
}
