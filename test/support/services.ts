import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';

/** A name no other test uses, so that tests sharing a broker and a cluster never see each other's data. */
export function uniqueName(label: string): string {
  return `t-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`.toLowerCase();
}

export function kafkaBrokers(): string[] {
  return inject('kafkaBrokers').split(',');
}

export function elasticsearchUrl(): string {
  return inject('elasticsearchUrl');
}

export function testKafka(clientId = 'canhgac-test'): Kafka {
  return new Kafka({ clientId, brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

export function testElasticsearch(): Client {
  return new Client({ node: elasticsearchUrl() });
}

export async function createTopics(kafka: Kafka, topics: string[], numPartitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions })) });
  } finally {
    await admin.disconnect();
  }
}
