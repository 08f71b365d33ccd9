import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../shared/bus/kafka.ts';
import { createLogger } from '../shared/log.ts';
import { ElasticsearchIncidentStore } from '../shared/store/elasticsearch.ts';
import { topicNames } from '../shared/topics.ts';
import { canhgacBin } from '../test/support/cli.ts';
import { elasticsearchUrl, kafkaBrokers, testElasticsearch, uniqueName } from '../test/support/services.ts';
import { privateElasticsearch } from '../cli/services/manager.ts';
import { correlatorConfig, correlatorFor, referenceRun, summarize, until, type Retractions, type Summary } from './test/harness.ts';
import { EARLY_RULES, earlyScenarios, earlyScenarioShuffled } from './test/early-scenario.ts';
import { scaledScenario } from './test/scenario.ts';

const log = createLogger('faults-test');
const GROUPS = 100;
/** Copies of the four early-firing scenarios in the SIGKILL test: about 500 lines, enough to kill a run in the middle of. */
const COPIES = 9;

/** Waits until the store's summary equals the reference (or stops changing, to show the difference). */
async function settlesTo(store: ElasticsearchIncidentStore, reference: Summary, timeoutMs: number): Promise<Summary> {
  let last = '';
  let stableSince = Date.now();
  return until('the incidents to settle', timeoutMs, async () => {
    await store.client.indices.refresh({ index: `${(store as unknown as { prefix: string }).prefix}-*` }).catch(() => undefined);
    const s = await summarize(store);
    const key = JSON.stringify(s);
    if (key === JSON.stringify(reference)) return s;
    if (key !== last) {
      last = key;
      stableSince = Date.now();
    }
    return Date.now() - stableSince > 60_000 ? s : undefined;
  });
}

describe('correlator under faults (real Kafka and Elasticsearch)', () => {
  const messages = scaledScenario(GROUPS);
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it("yields the early-firing scenarios' ordered documents when killed with SIGKILL three times mid-scenario and restarted", async () => {
    // The four early-firing scenarios (default lateness, early firing on), shuffled within the lateness with
    // each copy's second SSH line held back: early alerts raised, confirmed and withdrawn across the kills.
    const lines = earlyScenarios(Date.parse('2026-11-26T01:00:00.000Z'), uniqueName('kill'), COPIES);
    const reference = await referenceRun(
      lines.map((l) => l.message),
      { rules: [EARLY_RULES] },
    );
    expect(reference.incidents).toHaveLength(4 * COPIES);
    const arrivals = earlyScenarioShuffled(lines, 7, 3000, true);
    const prefix = uniqueName('kill');
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'faults', topicPrefix: '', ssl: false }, log);
    const topics = topicNames(`${prefix}.`);
    await bus.ensureTopics([
      { topic: topics.raw, partitions: 3 },
      { topic: topics.correlate, partitions: 3 },
    ]);
    // The scenario arrives in three parts, one before each run that is killed: a correlator that has caught
    // up writes every alert it can within a second, so each run needs new lines to be killed in the middle of.
    // A part ends between copies: a caught-up run that went quiet may close the windows it holds.
    const producer = await bus.producer();
    const part = (k: number) => arrivals.filter((a) => a.line.copy >= (k * COPIES) / 3 && a.line.copy < ((k + 1) * COPIES) / 3).map((a) => a.line.message);
    const config = correlatorConfig({
      brokers: kafkaBrokers(),
      topicPrefix: `${prefix}.`,
      esUrl: elasticsearchUrl(),
      indexPrefix: prefix,
      groupId: uniqueName('g'),
      rules: EARLY_RULES,
    });
    const es = testElasticsearch();
    const store = new ElasticsearchIncidentStore({ client: es, indexPrefix: prefix });
    cleanups.push(() => es.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true }));
    await store.init();
    let child: ChildProcess | undefined;
    const start = () => {
      child = spawn(process.execPath, [canhgacBin, 'correlator', '--config', config], { stdio: 'ignore', env: { ...process.env, CANHGAC_LOG_LEVEL: 'error' } });
      cleanups.push(async () => child?.kill('SIGKILL'));
    };
    const kills: number[] = [];
    const written = async () => {
      await es.indices.refresh({ index: `${prefix}-*` }).catch(() => undefined);
      return (await summarize(store)).alerts.length;
    };
    for (let k = 0; k < 3; k++) {
      const before = await written();
      await producer.send(topics.raw, part(k));
      start();
      // Kill at a random moment once this run has written something (it first waits for the group).
      await until('progress before the kill', 90_000, async () => ((await written()) > before ? true : undefined));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 700)));
      child!.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      kills.push(await written());
    }
    await producer.close();
    start();
    const got = await settlesTo(store, reference, 180_000);
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    // The kills landed mid-scenario: some but not all alerts were written when each one struck.
    expect(kills.some((n) => n > 0 && n < reference.alerts.length)).toBe(true);
    expect(got.incidents).toEqual(reference.incidents);
    expect(got.alerts).toEqual(reference.alerts);
    // Nothing left provisional; the early alerts the held-back lines made wrong were corrected on the
    // incidents they raised (named after the alert's id), so none was withdrawn for a second incident.
    const marked: Retractions = { withdrawn: [], retracted: [], provisional: [] };
    await summarize(store, marked);
    expect(marked.provisional).toEqual([]);
    expect(marked.withdrawn).toEqual([]);
  }, 300_000);

  it('yields the same result when Elasticsearch is stopped for 60 seconds mid-scenario', async () => {
    const reference = await referenceRun(messages);
    const es = await privateElasticsearch('faults');
    cleanups.push(() => es.destroy());
    const prefix = uniqueName('esdown');
    const store = new ElasticsearchIncidentStore({ url: es.running.url, indexPrefix: prefix });
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'faults-es', topicPrefix: '', ssl: false }, log);
    const topics = topicNames(`${prefix}.`);
    const c = correlatorFor(bus, store, topics, uniqueName('g'));
    await c.start();
    cleanups.push(() => c.stop());
    const producer = await bus.producer();
    await producer.send(topics.raw, messages.slice(0, messages.length / 3));
    await until('the first incidents', 60_000, async () => ((await store.searchIncidents({})).total > 0 ? true : undefined));
    await es.stop();
    const stoppedAt = Date.now();
    await producer.send(topics.raw, messages.slice(messages.length / 3));
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - stoppedAt))));
    await es.restart();
    await producer.close();
    const fresh = new ElasticsearchIncidentStore({ url: es.running.url, indexPrefix: prefix });
    cleanups.push(() => fresh.close());
    const got = await settlesTo(fresh, reference, 180_000);
    expect(got.incidents).toEqual(reference.incidents);
    expect(got.alerts).toEqual(reference.alerts);
  }, 360_000);

  it('fires a cross-host correlation exactly once with two correlator instances sharing the partitions', async () => {
    const prefix = uniqueName('two');
    const es = testElasticsearch();
    cleanups.push(() => es.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true }));
    const store = new ElasticsearchIncidentStore({ client: es, indexPrefix: prefix });
    const topics = topicNames(`${prefix}.`);
    const groupId = uniqueName('g');
    const instances = [0, 1].map((i) =>
      correlatorFor(new KafkaBus({ brokers: kafkaBrokers(), clientId: `two-${i}`, topicPrefix: '', ssl: false }, log), store, topics, groupId),
    );
    const owned = new Set<string>();
    for (const c of instances) {
      await c.start();
      cleanups.push(() => c.stop());
    }
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'two-producer', topicPrefix: '', ssl: false }, log);
    // The three hosts of the sweep map to different raw partitions, which the two instances share.
    for (const h of ['srv-01', 'srv-02', 'srv-03']) owned.add(String(bus.partitionOf(h, 3)));
    expect(owned.size).toBeGreaterThan(1);
    const producer = await bus.producer();
    const oneGroup = scaledScenario(1);
    await producer.send(topics.raw, oneGroup);
    await producer.close();
    const sweepRule = '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b02';
    const incident = await until('the sweep incident', 90_000, async () => {
      await es.indices.refresh({ index: `${prefix}-*` });
      return (await store.searchIncidents({ rule: sweepRule })).incidents[0];
    });
    await new Promise((r) => setTimeout(r, 3000));
    await es.indices.refresh({ index: `${prefix}-*` });
    expect((await store.searchIncidents({ rule: sweepRule })).total).toBe(1);
    const alerts = await store.alertsOf(incident.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ event_count: 3, host: ['srv-01', 'srv-02', 'srv-03'] });
  }, 180_000);
});
