import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ELASTICSEARCH_VERSION, KAFKA_VERSION, SCALA_VERSION, kafkaUsesLog4j2 } from './versions.ts';

export class ServicesError extends Error {
  override name = 'ServicesError';
}

/** The major version `java -version` reports (17 for "17.0.15", 8 for "1.8.0_402"), or undefined without Java. */
export function javaMajor(versionText: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionText);
  if (!m) return undefined;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

interface Missing {
  what: string;
  debianPackage: string;
}

function missingTools(needMaven: boolean): Missing[] {
  const missing: Missing[] = [];
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const major = java.error ? undefined : javaMajor(`${java.stderr}${java.stdout}`);
  if (major === undefined || major < 17)
    missing.push({ what: major ? `Java 17 or later (found ${major})` : 'Java 17 or later', debianPackage: 'openjdk-17-jdk-headless' });
  if (needMaven) {
    const mvn = spawnSync('mvn', ['-v'], { stdio: 'ignore' });
    if (mvn.error || mvn.status !== 0) missing.push({ what: 'Maven', debianPackage: 'maven' });
  }
  return missing;
}

function aptInstall(packages: string[]): void {
  process.stderr.write(`installing ${packages.join(' ')} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...packages],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.error || r.status !== 0) throw new ServicesError(`apt-get ${args[0]} failed (status ${r.status ?? r.error?.message})`);
  }
}

/**
 * Java 17+ runs both services; Maven fetches them (so only when something is to be fetched). When one is
 * missing: as root on Debian they are installed with apt-get, as CI needs; otherwise one line says what
 * to install.
 */
export function ensureTools(needMaven: boolean): void {
  let missing = missingTools(needMaven);
  if (!missing.length) return;
  const packages = missing.map((m) => m.debianPackage);
  const aptGet = spawnSync('apt-get', ['--version'], { stdio: 'ignore' });
  if (process.getuid?.() === 0 && existsSync('/etc/debian_version') && !aptGet.error) {
    aptInstall(packages);
    missing = missingTools(needMaven);
    if (!missing.length) return;
  }
  throw new ServicesError(
    `${missing.map((m) => m.what).join(' and ')} needed: install ${missing.length > 1 ? 'them' : 'it'} (Debian: apt-get install ${packages.join(' ')})`,
  );
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
    ensureTools(true);
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
    ensureTools(true);
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
