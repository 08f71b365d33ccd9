import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Counter } from 'prom-client';
import WebSocket from 'ws';
import { buildConsole } from '../console/app.ts';
import { PASSWORD, sampleRules, usersFile } from '../console/test/harness.ts';
import { IncidentChangeSchema, type IncidentChange } from '../shared/incident.ts';
import { createLogger } from '../shared/log.ts';
import { canhgacBin } from '../test/support/cli.ts';
import { elasticsearchUrl, kafkaBrokers, testKafka, uniqueName } from '../test/support/services.ts';
import { freePort } from '../test/support/tls-services.ts';
import {
  backends,
  correlatorConfig,
  correlatorFor,
  referenceRun,
  servicesBackend,
  summarize,
  until,
  type Backend,
  type Retractions,
  type Summary,
} from './test/harness.ts';
import { EARLY_RULE, EARLY_RULES, earlyScenario, earlyScenarioShuffled, laterTraffic, type ScenarioLine } from './test/early-scenario.ts';

const log = createLogger('early-test', {}, 'warn');
/** The default allowed lateness, which every test here runs with. */
const LATENESS = 5 * 60_000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Every change on soc.incidents, as a consumer of the topic receives it, with the time it came. */
async function watchIncidents(b: Backend): Promise<{ changes: { at: number; change: IncidentChange }[] }> {
  const seen: { at: number; change: IncidentChange }[] = [];
  const consumer = await b.bus.consumer({ groupId: uniqueName('watch'), topics: [b.topics.incidents], fromBeginning: true });
  cleanups.push(() => consumer.stop());
  await consumer.run(async (batch) => {
    for (const m of batch.messages) seen.push({ at: Date.now(), change: IncidentChangeSchema.parse(JSON.parse(m.value!)) });
  });
  return { changes: seen };
}

/** The console on the backend, and one logged-in WebSocket client recording what it receives. */
async function consoleClient(b: Backend) {
  const { app } = await buildConsole({
    store: b.store,
    bus: b.bus,
    incidentsTopic: b.topics.incidents,
    usersFile: await usersFile(),
    rules: async () => sampleRules,
    log,
    loginAttemptsPerMinute: 1000,
  });
  cleanups.push(() => app.close());
  const url = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'rosa', password: PASSWORD } });
  const cookie = res.cookies.find((k) => k.name === 'canhgac_session')!;
  const messages: { at: number; msg: { type: string; change?: IncidentChange } }[] = [];
  const ws = new WebSocket(`${url}/ws`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
  ws.on('message', (d) => messages.push({ at: Date.now(), msg: JSON.parse(d.toString()) }));
  cleanups.push(async () => ws.close());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await until('the console snapshot', 10_000, async () => (messages.some((m) => m.msg.type === 'snapshot') ? true : undefined));
  return { messages };
}

/** The value of a labelled counter. */
async function countOf(counter: Counter<'outcome'>, outcome: string): Promise<number> {
  return (await counter.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** Sends the lines at their arrival times divided by `speed`, as a replay does, then `after` at once. */
async function replay(b: Backend, arrivals: { line: ScenarioLine; at: number }[], speed: number, after: { key: string; value: string }[] = []): Promise<void> {
  const producer = await b.bus.producer();
  const started = Date.now();
  const first = arrivals[0]!.at;
  for (let i = 0; i < arrivals.length; ) {
    const due = started + (arrivals[i]!.at - first) / speed;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const batch = [];
    while (i < arrivals.length && started + (arrivals[i]!.at - first) / speed <= Date.now()) batch.push(arrivals[i++]!.line.message);
    await producer.send(b.topics.raw, batch);
  }
  if (after.length) await producer.send(b.topics.raw, after);
  await producer.close();
}

/** Waits for the store to equal the reference with no early alert still provisional; returns what was marked. */
async function settled(b: Backend, reference: Summary, timeoutMs: number): Promise<{ summary: Summary; marked: Retractions }> {
  const marked: Retractions = { withdrawn: [], retracted: [], provisional: [] };
  let summary: Summary = { incidents: [], alerts: [] };
  await until('the final documents', timeoutMs, async () => {
    await b.settle();
    summary = await summarize(b.store, marked);
    return JSON.stringify(summary) === JSON.stringify(reference) && marked.provisional.length === 0 ? true : undefined;
  }).catch(() => undefined);
  return { summary, marked };
}

describe.each(backends('early'))('early firing on %s', (_name, open) => {
  it('raises the brute force, SSL-VPN guessing, port scan and outbreak within 5 s of their crossing lines, with 5 minutes of allowed lateness', async () => {
    const b = await open();
    cleanups.push(() => b.close());
    const c = correlatorFor(b.bus, b.store, b.topics, uniqueName('g'), { rules: [EARLY_RULES], allowedLatenessMs: LATENESS, log });
    await c.start();
    cleanups.push(() => c.stop());
    const watched = await watchIncidents(b);
    const ws = await consoleClient(b);
    // Live traffic: event times a minute ago, as a server's log lines are.
    const lines = earlyScenario(Math.floor((Date.now() - 60_000) / 1000) * 1000, uniqueName('live'));
    const crossings = lines.filter((l) => l.crossing);
    const upToCrossing = lines.filter((l) => !l.crossing && l.t < crossings.find((x) => x.scenario === l.scenario)!.t);
    const producer = await b.bus.producer();
    await producer.send(
      b.topics.raw,
      upToCrossing.map((l) => l.message),
    );
    await new Promise((r) => setTimeout(r, 1500));
    for (const crossing of crossings) {
      const rule = EARLY_RULE[crossing.scenario];
      const created = (m: IncidentChange | undefined) => m?.type === 'created' && m.incident.rule.id === rule;
      expect(watched.changes.filter((w) => created(w.change))).toEqual([]);
      const sent = Date.now();
      await producer.send(b.topics.raw, [crossing.message]);
      const onTopic = await until(`${crossing.scenario} on soc.incidents`, 10_000, async () => watched.changes.find((w) => created(w.change)));
      const onConsole = await until(`${crossing.scenario} on the console`, 10_000, async () =>
        ws.messages.find((m) => m.msg.type === 'change' && created(m.msg.change)),
      );
      expect(onTopic.at - sent).toBeLessThan(5000);
      expect(onConsole.at - sent).toBeLessThan(5000);
      // Raised early: the watermark is minutes away from passing these events.
      expect(onTopic.change.incident.provisional?.alerts).toHaveLength(1);
      expect(Date.parse(onTopic.change.incident.ack_due!)).toBeGreaterThanOrEqual(sent);
    }
    await producer.close();
    expect(await countOf(c.metrics.earlyAlerts, 'raised')).toBe(4);
  }, 120_000);

  // Replays as a drill with its times moved to the present does: event time runs with (or, faster than
  // x1, ahead of) the wall clock. The shuffle stays within the lateness (3 s of jitter, one line held back
  // 25 s). The traffic that follows the scenario comes as one line five minutes later in event time
  // (laterTraffic), so the ordered evaluation settles the early alerts at once rather than after five
  // minutes of wall clock; the reference run gets the same line.
  const runs = [{ name: 'in order x10', speed: 10, shuffle: false }, ...[1, 10, 100].map((speed) => ({ name: `shuffled x${speed}`, speed, shuffle: true }))];
  it.each(runs)(
    "ends with the ordered run's documents ($name); retracts only the early alert the shuffle made wrong, visibly",
    async ({ name, speed, shuffle }) => {
      const tag = uniqueName('replay');
      const lines = earlyScenario(Math.floor(Date.now() / 1000) * 1000, tag);
      const later = laterTraffic(lines.at(-1)!.t, LATENESS, tag);
      const referenced = referenceRun([...lines.map((l) => l.message), later], { rules: [EARLY_RULES], allowedLatenessMs: LATENESS });
      const b = await open();
      cleanups.push(() => b.close());
      const c = correlatorFor(b.bus, b.store, b.topics, uniqueName('g'), { rules: [EARLY_RULES], allowedLatenessMs: LATENESS, log });
      await c.start();
      cleanups.push(() => c.stop());
      const ws = await consoleClient(b);
      const arrivals = shuffle ? earlyScenarioShuffled(lines, speed, 3000, true) : lines.map((line) => ({ line, at: line.t }));
      await replay(b, arrivals, speed, [later]);
      const reference = await referenced;
      expect(reference.incidents).toHaveLength(4);
      const { summary, marked } = await settled(b, reference, 30_000);
      expect(summary, name).toEqual(reference);
      expect(marked.provisional, name).toEqual([]);
      const wrong = shuffle ? 1 : 0;
      // The held-back line moves the brute force's window end, not its start: the right alert has the
      // early one's id and replaces its document in place, so no document stays marked retracted.
      expect(marked.retracted, name).toEqual([]);
      expect(await countOf(c.metrics.earlyAlerts, 'retracted'), name).toBe(wrong);
      expect(await countOf(c.metrics.earlyAlerts, 'raised'), name).toBe(4 + wrong);
      // The incident the wrong early alert raised is named after the alert's id, which the correction keeps:
      // it is corrected in place, never withdrawn for a second one. At x1 the held-back line comes seconds
      // after the early alert was shown, so the console is told of the correction; faster, the correcting
      // line may come in the very batch that raised it, and then the early version was never shown.
      expect(marked.withdrawn, name).toEqual([]);
      if (speed === 1 && wrong)
        await until('the correction on the console', 10_000, async () =>
          ws.messages.some((m) => m.msg.change?.incident.rule.id === EARLY_RULE.brute && m.msg.change.incident.timeline.some((t) => t.action === 'correct'))
            ? true
            : undefined,
        );
      // No incident the console was shown is silently left: each is in the final documents or withdrawn.
      const standing = new Set(summary.incidents.map((i) => (JSON.parse(i) as string[])[0]));
      for (const m of ws.messages) {
        const id = m.msg.change?.incident.id;
        if (id) expect(standing.has(id) || marked.withdrawn.includes(id), name).toBe(true);
      }
    },
    60_000,
  );
});

/** A counter's value in a Prometheus text exposition. */
function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in the metrics`);
  return Number(m[1]);
}

describe('several correlators with rebalances (Kafka + Elasticsearch)', () => {
  it("three instances, one killed with SIGKILL and one added mid-scenario, end with the single instance's documents and no late event", async () => {
    const tag = uniqueName('multi');
    const lines = earlyScenario(Math.floor(Date.now() / 1000) * 1000, tag);
    const later = laterTraffic(lines.at(-1)!.t, LATENESS, tag);
    const referenced = referenceRun([...lines.map((l) => l.message), later], { rules: [EARLY_RULES], allowedLatenessMs: LATENESS });
    const b = await servicesBackend('multi');
    cleanups.push(() => b.close());
    const groupId = uniqueName('g');
    const instance = async () => {
      const mine = await servicesBackend('multi');
      const c = correlatorFor(mine.bus, b.store, b.topics, groupId, { rules: [EARLY_RULES], allowedLatenessMs: LATENESS, log });
      await c.start();
      cleanups.push(() => c.stop());
      return c;
    };
    // The first creates the topics; the one to be killed is a process of its own, as in a deployment.
    const survivors = [await instance()];
    const metricsPort = await freePort();
    const config = correlatorConfig({
      brokers: kafkaBrokers(),
      topicPrefix: `${b.prefix}.`,
      esUrl: elasticsearchUrl(),
      indexPrefix: b.prefix,
      groupId,
      rules: EARLY_RULES,
      metricsPort,
    });
    const killed = spawn(process.execPath, [canhgacBin, 'correlator', '--config', config], {
      stdio: 'ignore',
      env: { ...process.env, CANHGAC_LOG_LEVEL: 'error' },
    });
    cleanups.push(async () => killed.kill('SIGKILL'));
    survivors.push(await instance());
    const admin = testKafka('multi-admin').admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    // Three members in both groups, each with one of the three partitions of soc.raw and of soc.correlate.
    await until('three members in both groups', 60_000, async () => {
      const { groups } = await admin.describeGroups([groupId, `${groupId}.correlate`]);
      return groups.every((g) => g.state === 'Stable' && g.members.length === 3) ? true : undefined;
    });
    const arrivals = earlyScenarioShuffled(lines, 5, 3000, false);
    const half = Math.floor(arrivals.length / 2);
    await replay(b, arrivals.slice(0, half), 10);
    const killedLate = metricValue(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), 'canhgac_correlator_late_events_total');
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    // The killed member never leaves the group: its partitions move on only when its session times out.
    survivors.push(await instance());
    await replay(b, arrivals.slice(half), 10);
    // The traffic after the scenario stands for five minutes of wall clock: it comes once the rest is read.
    await until('soc.raw read to its end', 60_000, async () =>
      (await survivors[0]!.metrics.lag.get()).values.every((v) => v.labels.topic !== b.topics.raw || v.value === 0) ? true : undefined,
    );
    const producer = await b.bus.producer();
    await producer.send(b.topics.raw, [later]);
    await producer.close();
    const reference = await referenced;
    const { summary, marked } = await settled(b, reference, 60_000);
    expect(summary).toEqual(reference);
    expect(marked.provisional).toEqual([]);
    let late = killedLate;
    for (const c of survivors) late += (await c.metrics.lateEvents.get()).values.reduce((n, v) => n + v.value, 0);
    expect(late).toBe(0);
  }, 150_000);
});
