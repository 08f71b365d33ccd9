import { GenericContainer, Wait } from 'testcontainers';
import { ELASTICSEARCH_IMAGE, KAFKA_IMAGE } from '../../cli/services/versions.ts';

export interface Containers {
  kafkaBrokers: string;
  elasticsearchUrl: string;
  stop(): Promise<void>;
}

/** The same two services in containers, where a Docker engine exists (a developer's laptop). */
export async function startContainers(): Promise<Containers> {
  const kafkaPort = 19092;
  const kafka = await new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: kafkaPort, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${kafkaPort},CONTROLLER://0.0.0.0:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const es = await new GenericContainer(ELASTICSEARCH_IMAGE)
    .withExposedPorts(9200)
    .withEnvironment({ 'discovery.type': 'single-node', 'xpack.security.enabled': 'false', ES_JAVA_OPTS: '-Xms512m -Xmx512m' })
    .withWaitStrategy(Wait.forHttp('/_cluster/health?wait_for_status=yellow', 9200))
    .withStartupTimeout(180_000)
    .start();
  return {
    kafkaBrokers: `127.0.0.1:${kafkaPort}`,
    elasticsearchUrl: `http://${es.getHost()}:${es.getMappedPort(9200)}`,
    stop: async () => {
      await Promise.all([kafka.stop(), es.stop()]);
    },
  };
}
