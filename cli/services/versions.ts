/**
 * Versions of the local services. Kafka 3.9 is the last line whose brokers still accept the older
 * protocol versions kafkajs speaks (4.0 removed them) and it runs KRaft on Java 17. Elasticsearch 8.19
 * runs on Java 17 (9.x wants 21); the client's major version (@elastic/elasticsearch 8) matches it.
 */
export const KAFKA_VERSION = '3.9.1';
export const SCALA_VERSION = '2.13';
export const ELASTICSEARCH_VERSION = '8.19.7';
export const KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`;
export const ELASTICSEARCH_IMAGE = `docker.elastic.co/elasticsearch/elasticsearch:${ELASTICSEARCH_VERSION}`;
