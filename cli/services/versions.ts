/**
 * Versions of the local services. Kafka 4.4 is the newest line Maven Central serves here and the broker
 * the tests run on; 3.9.1 is the oldest supported broker, kept in CI by the bus contract test
 * (shared/bus/bus-oldest-kafka.int.test.ts). kafkajs negotiates each API's version with the broker, and
 * 4.x still accepts the versions it speaks (shared/bus/kafka.ts checks that on connect). Both run KRaft
 * on Java 17. Elasticsearch 8.19 runs on Java 17 (9.x wants 21); the client's major version
 * (@elastic/elasticsearch 8) matches it.
 */
export const KAFKA_VERSION = '4.4.0';
export const OLDEST_KAFKA_VERSION = '3.9.1';
export const SCALA_VERSION = '2.13';
export const ELASTICSEARCH_VERSION = '8.19.7';
export const KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`;
export const ELASTICSEARCH_IMAGE = `docker.elastic.co/elasticsearch/elasticsearch:${ELASTICSEARCH_VERSION}`;

/** Kafka 4 logs through log4j 2; 3.x through reload4j (log4j 1). */
export function kafkaUsesLog4j2(version: string): boolean {
  return Number(version.split('.')[0]) >= 4;
}
