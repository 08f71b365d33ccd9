import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/incident.ts';
import { elasticsearchUrl, kafkaBrokers, testElasticsearch, uniqueName } from '../../test/support/services.ts';
import { login, start, stop, type Started } from '../../test/support/start.ts';

describe('canhgac start with KAFKA_BROKERS and ELASTICSEARCH_URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-start-services-'));
  const name = uniqueName('start');
  let started: Started | null = null;
  afterAll(async () => {
    if (started && started.child.exitCode === null) await stop(started);
    await testElasticsearch()
      .indices.delete({ index: `${name}-*`, ignore_unavailable: true, allow_no_indices: true })
      .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the same components against Kafka and Elasticsearch: demo incidents searchable in the console', { timeout: 120_000 }, async () => {
    const config = join(dir, 'start.yml');
    writeFileSync(
      config,
      [
        `kafka: { brokers: [placeholder], topicPrefix: '${name}.' }`,
        `elasticsearch: { url: 'http://placeholder', indexPrefix: '${name}' }`,
        `correlator: { groupId: '${name}', partitions: { raw: 2, correlate: 2, incidents: 1 } }`,
        '',
      ].join('\n'),
    );
    started = await start(join(dir, 'data'), ['--config', config], { KAFKA_BROKERS: kafkaBrokers().join(','), ELASTICSEARCH_URL: elasticsearchUrl() });
    expect(started.stdout()).toContain('against Kafka and Elasticsearch');
    const drill = /as (demo-\d{8}-\d{6})/.exec(started.stdout())![1]!;
    const cookie = await login(started.base);
    const deadline = Date.now() + 60_000;
    let found: Incident[] = [];
    while (Date.now() < deadline && !found.length) {
      const res = await fetch(`${started.base}/api/incidents?drill=${drill}`, { headers: { cookie } });
      found = ((await res.json()) as { incidents: Incident[] }).incidents;
      if (!found.length) await new Promise((r) => setTimeout(r, 500));
    }
    expect(found.length).toBeGreaterThan(0);
    const es = testElasticsearch();
    await es.indices.refresh({ index: `${name}-*` });
    const stored = await es.count({ index: `${name}-incidents`, query: { term: { drill } } });
    expect(stored.count).toBeGreaterThanOrEqual(found.length);
    expect(await stop(started)).toBe(0);
  });

  it('refuses half a deployment: one of the two variables alone', async () => {
    await expect(start(join(dir, 'half'), [], { KAFKA_BROKERS: kafkaBrokers().join(',') })).rejects.toThrow(
      /exited with 1[\s\S]*set both KAFKA_BROKERS and ELASTICSEARCH_URL, or neither/,
    );
  });
});
