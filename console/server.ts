import { dirname, isAbsolute, resolve } from 'node:path';
import { KafkaBus } from '../shared/bus/kafka.ts';
import { createLogger } from '../shared/log.ts';
import { ElasticsearchIncidentStore } from '../shared/store/elasticsearch.ts';
import { topicNames } from '../shared/topics.ts';
import { buildConsole } from './app.ts';
import { consoleGuardOptions, type ConsoleConfig } from './config.ts';
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
  const { app } = await buildConsole({
    store,
    bus,
    incidentsTopic: topicNames(c.topicPrefix ?? config.kafka.topicPrefix).incidents,
    usersFile: here(c.usersFile),
    rules: rulesFromFolder(here(c.rules)),
    log,
    ...consoleGuardOptions(c, here),
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
