import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { servicesDown, servicesUp } from '../../cli/services/manager.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    elasticsearchUrl: string;
  }
}

function dockerEngineAnswers(): boolean {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/**
 * Real Kafka and Elasticsearch for every test, found in this order: the addresses in the environment;
 * testcontainers when a Docker engine answers; else `canhgac services up` (Maven Central, no Docker).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let teardown = async (): Promise<void> => undefined;
  let kafkaBrokers = process.env.KAFKA_BROKERS;
  let elasticsearchUrl = process.env.ELASTICSEARCH_URL;
  if (!kafkaBrokers || !elasticsearchUrl) {
    if (dockerEngineAnswers()) {
      // Loaded only here: testcontainers is not needed when no Docker engine exists.
      const { startContainers } = await import('./containers.ts');
      const c = await startContainers();
      kafkaBrokers ??= c.kafkaBrokers;
      elasticsearchUrl ??= c.elasticsearchUrl;
      teardown = c.stop;
    } else {
      try {
        const a = await servicesUp();
        kafkaBrokers ??= a.kafkaBrokers;
        elasticsearchUrl ??= a.elasticsearchUrl;
        process.stderr.write(
          `[services] kafka ${a.kafkaBrokers}, elasticsearch ${a.elasticsearchUrl}${a.started.length ? ` (started ${a.started.join(', ')})` : ' (already running)'}\n`,
        );
        if (a.started.length && !process.env.CANHGAC_KEEP_SERVICES) teardown = async () => void (await servicesDown());
      } catch (err) {
        throw new Error(
          `No Kafka and Elasticsearch for the tests: set KAFKA_BROKERS and ELASTICSEARCH_URL, or run a Docker engine, or install Java 17 and Maven so that \`canhgac services up\` can fetch them (${(err as Error).message})`,
        );
      }
    }
  }
  process.env.KAFKA_BROKERS = kafkaBrokers;
  process.env.ELASTICSEARCH_URL = elasticsearchUrl;
  project.provide('kafkaBrokers', kafkaBrokers!);
  project.provide('elasticsearchUrl', elasticsearchUrl!);
  return teardown;
}
