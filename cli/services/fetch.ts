import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ELASTICSEARCH_VERSION, KAFKA_VERSION, SCALA_VERSION, kafkaUsesLog4j2 } from './versions.ts';

export class ServicesError extends Error {
  override name = 'ServicesError';
}

function need(tool: string, args: string[], hint: string): void {
  const r = spawnSync(tool, args, { stdio: 'ignore' });
  if (r.error || r.status !== 0) throw new ServicesError(`${tool} is missing: ${hint}`);
}

export function checkTools(): void {
  need('java', ['-version'], 'install a Java 17 JDK (Debian: apt-get install openjdk-17-jdk-headless)');
  need('mvn', ['-v'], 'install Apache Maven (Debian: apt-get install maven)');
}

function mvn(cwd: string, args: string[]): void {
  const r = spawnSync('mvn', ['-q', '-B', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    throw new ServicesError(`mvn ${args[0]} failed in ${cwd}: ${tail || r.error?.message}`);
  }
}

function kafkaPom(version: string): string {
  // The broker's slf4j 1.7 logs through a binding of the broker's own logging line.
  const binding = kafkaUsesLog4j2(version)
    ? '<groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.25.5</version>'
    : '<groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version>';
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>canhgac.services</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${SCALA_VERSION}</artifactId><version>${version}</version></dependency>
    <dependency>${binding}</dependency>
  </dependencies>
</project>
`;
}

export interface Fetched {
  kafkaLibs: string;
  elasticsearchHome: string;
  downloaded: string[];
}

/** Fetches one Kafka version's broker jars from Maven Central once; later calls reuse them. Returns the libs folder. */
export function fetchKafka(cacheDir: string, version: string, downloaded: string[] = []): string {
  const kafkaDir = join(cacheDir, `kafka-${version}`);
  const kafkaLibs = join(kafkaDir, 'libs');
  if (!existsSync(join(kafkaDir, '.complete'))) {
    checkTools();
    rmSync(kafkaDir, { recursive: true, force: true });
    mkdirSync(kafkaDir, { recursive: true });
    writeFileSync(join(kafkaDir, 'pom.xml'), kafkaPom(version));
    mvn(kafkaDir, ['dependency:copy-dependencies', `-DoutputDirectory=${kafkaLibs}`, '-DincludeScope=runtime']);
    writeFileSync(join(kafkaDir, '.complete'), new Date().toISOString());
    downloaded.push(`kafka ${version}`);
  }
  return kafkaLibs;
}

/** Fetches the broker jars and the Elasticsearch distribution from Maven Central once; later calls reuse them. */
export function fetchServices(cacheDir: string): Fetched {
  const downloaded: string[] = [];
  const kafkaLibs = fetchKafka(cacheDir, KAFKA_VERSION, downloaded);
  const esDir = join(cacheDir, `elasticsearch-${ELASTICSEARCH_VERSION}`);
  const elasticsearchHome = join(esDir, `elasticsearch-${ELASTICSEARCH_VERSION}`);
  if (!existsSync(join(esDir, '.complete'))) {
    checkTools();
    rmSync(esDir, { recursive: true, force: true });
    mkdirSync(esDir, { recursive: true });
    mvn(esDir, [
      'dependency:copy',
      `-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ELASTICSEARCH_VERSION}:zip`,
      `-DoutputDirectory=${esDir}`,
    ]);
    const zip = readdirSync(esDir).find((f) => f.endsWith('.zip'));
    if (!zip) throw new ServicesError(`no Elasticsearch zip in ${esDir} after mvn dependency:copy`);
    // `jar` ships with every JDK, unlike unzip; it drops the executable bits, restored below.
    const r = spawnSync('jar', ['xf', zip], { cwd: esDir, encoding: 'utf8' });
    if (r.status !== 0) throw new ServicesError(`could not unpack ${zip}: ${r.stderr || r.error?.message}`);
    rmSync(join(esDir, zip));
    for (const f of readdirSync(join(elasticsearchHome, 'bin'))) chmodSync(join(elasticsearchHome, 'bin', f), 0o755);
    writeFileSync(join(esDir, '.complete'), new Date().toISOString());
    downloaded.push(`elasticsearch ${ELASTICSEARCH_VERSION}`);
  }
  return { kafkaLibs, elasticsearchHome, downloaded };
}
