import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { KafkaBus } from '../shared/bus/kafka.ts';
import { createLogger } from '../shared/log.ts';
import { ElasticsearchIncidentStore } from '../shared/store/elasticsearch.ts';
import { topicNames } from '../shared/topics.ts';
import { buildConsole } from './app.ts';
import type { ConsoleConfig } from './config.ts';
import { rulesFromFolder } from './rules-provider.ts';

/** Starts `canhgac console` from a loaded config; paths in it are relative to the config file. */
export async function startConsoleServer(config: ConsoleConfig, configFile: string) {
  const here = (p: string) => (isAbsolute(p) ? p : resolve(dirname(configFile), p));
  if (!config.kafka) throw new Error(`${configFile}: kafka.brokers (or KAFKA_BROKERS) is needed by the console`);
  if (!config.elasticsearch) throw new Error(`${configFile}: elasticsearch.url (or ELASTICSEARCH_URL) is needed by the console`);
  const c = config.console;
  const log = createLogger('console', {}, config.log.level);
  const store = ElasticsearchIncidentStore.fromConfig(config.elasticsearch, c.indexPrefix ?? config.elasticsearch.indexPrefix);
  await store.init();
  const bus = new KafkaBus(config.kafka, log);
  const tls = c.tls ? { cert: readFileSync(here(c.tls.cert)), key: readFileSync(here(c.tls.key)) } : undefined;
  const { app } = await buildConsole({
    store,
    bus,
    incidentsTopic: topicNames(c.topicPrefix ?? config.kafka.topicPrefix).incidents,
    usersFile: here(c.usersFile),
    rules: rulesFromFolder(here(c.rules)),
    log,
    tls,
    behindTlsProxy: c.behindTlsProxy,
    trustedProxies: c.trustedProxies,
    sessionTtlMs: c.sessionTtlMinutes * 60_000,
    loginAttemptsPerMinute: c.loginAttemptsPerMinute,
    lockout: { freeFailures: c.lockout.freeFailures, baseMs: c.lockout.baseSeconds * 1000, maxMs: c.lockout.maxSeconds * 1000 },
    streamLimits: c.stream,
    metricsToken: c.metricsToken,
  });
  const address = await app.listen({ host: c.host, port: c.port });
  return {
    address,
    async stop() {
      await app.close();
      await store.close();
    },
  };
}
