import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { KafkaBus } from '../shared/bus/kafka.ts';
import { createLogger } from '../shared/log.ts';
import { ElasticsearchIncidentStore } from '../shared/store/elasticsearch.ts';
import { topicNames } from '../shared/topics.ts';
import { formatFinding } from '../shared/yaml-source.ts';
import type { CorrelatorConfig } from './config.ts';
import { watchRules } from './detection/watch.ts';
import { DEFAULT_POLICY } from './incidents/grouping.ts';
import { Correlator } from './service.ts';
import { MemoryTelemetryLedger } from './operations/telemetry.ts';
import { canonicalHost, startOperations } from './operations/service.ts';
import { join } from 'node:path';
import { assetLookup } from './stages/rules.ts';

export interface RunningCorrelator {
  correlator: Correlator;
  stop(): Promise<void>;
}

/** `canhgac correlator`: Kafka in, Elasticsearch and Kafka out, rules hot-reloaded from the rules folder. */
export async function startCorrelatorService(cfg: CorrelatorConfig): Promise<RunningCorrelator> {
  if (!cfg.kafka) throw new Error('no Kafka configured: set kafka.brokers or KAFKA_BROKERS');
  if (!cfg.elasticsearch) throw new Error('no Elasticsearch configured: set elasticsearch.url or ELASTICSEARCH_URL');
  const c = cfg.correlator;
  const log = createLogger('correlator', { instance: `${hostname()}:${process.pid}`, group: c.groupId }, cfg.log.level);
  const watcher = watchRules(c.rules, (e) => {
    log.info({ changed: e.changed, kept: e.kept, rules: e.ruleset.size }, 'rules reloaded');
    for (const f of e.findings) if (f.severity === 'error') log.error({ finding: formatFinding(f) }, 'rule error; previous version kept');
  });
  for (const f of watcher.findings) if (f.severity === 'error') log.error({ finding: formatFinding(f) }, 'rule error; the rule is left out');
  log.info({ rules: watcher.ruleset.size, folder: c.rules }, 'rules loaded');
  const rules = () => watcher.ruleset;
  const store = ElasticsearchIncidentStore.fromConfig(cfg.elasticsearch);
  const bus = new KafkaBus(cfg.kafka, log);
  const ledger = new MemoryTelemetryLedger(new Date(), canonicalHost(() => watcher.ruleset.context.assets));
  const correlator = new Correlator({
    ledger,
    bus,
    store,
    topics: topicNames(cfg.kafka.topicPrefix),
    rules,
    assets: assetLookup(rules),
    groupId: c.groupId,
    partitions: c.partitions,
    allowedLatenessMs: c.allowedLateness,
    eventsPerAlert: c.eventsPerAlert,
    policy: { ...DEFAULT_POLICY, suppressionMs: c.suppression, reportDueMs: c.reportDue },
    timezone: cfg.timezone,
    log,
  });
  await correlator.start();
  const topics = topicNames(cfg.kafka.topicPrefix);
  const operations = await startOperations({
    config: cfg.operations,
    bus,
    store,
    topics,
    sink: correlator.sink,
    ledger,
    assets: () => watcher.ruleset.context.assets,
    ruleFindings: () => watcher.findings,
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
      registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body), () => res.writeHead(500).end());
    });
    await new Promise<void>((resolve) => metricsServer!.listen(c.metrics!.port, c.metrics!.host, resolve));
  }
  return {
    correlator,
    async stop() {
      metricsServer?.close();
      watcher.close();
      await operations.stop();
      await correlator.stop();
      await store.close();
    },
  };
}
