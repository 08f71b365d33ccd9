import { afterEach, describe, expect, it } from 'vitest';
import type { Counter } from 'prom-client';
import WebSocket from 'ws';
import { buildConsole } from '../console/app.ts';
import { PASSWORD, sampleRules, usersFile } from '../console/test/harness.ts';
import { IncidentChangeSchema, type IncidentChange } from '../shared/incident.ts';
import { createLogger } from '../shared/log.ts';
import { uniqueName } from '../test/support/services.ts';
import { backends, correlatorFor, referenceRun, summarize, until, type Backend, type Retractions, type Summary } from './test/harness.ts';
import { EARLY_RULE, EARLY_RULES, earlyScenario, earlyScenarioShuffled, type ScenarioLine } from './test/early-scenario.ts';

const log = createLogger('early-test', {}, 'warn');
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

/** Sends the lines at their arrival times divided by `speed`, as a replay does. */
async function replay(b: Backend, arrivals: { line: ScenarioLine; at: number }[], speed: number): Promise<void> {
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
    const c = correlatorFor(b.bus, b.store, b.topics, uniqueName('g'), { rules: [EARLY_RULES], allowedLatenessMs: 5 * 60_000, log });
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
  // x1, ahead of) the wall clock. The lateness is 30 s here so that the ordered evaluation settles in
  // seconds; the shuffle stays within it (3 s of jitter, one line held back 25 s).
  const LATENESS = 30_000;
  const runs = [{ name: 'in order x10', speed: 10, shuffle: false }, ...[1, 10, 100].map((speed) => ({ name: `shuffled x${speed}`, speed, shuffle: true }))];
  it.each(runs)(
    "ends with the ordered run's documents ($name); retracts only the early alert the shuffle made wrong, visibly",
    async ({ name, speed, shuffle }) => {
      const lines = earlyScenario(Math.floor(Date.now() / 1000) * 1000, uniqueName('replay'));
      const referenced = referenceRun(
        lines.map((l) => l.message),
        { rules: [EARLY_RULES], allowedLatenessMs: LATENESS, quietMs: LATENESS + 10_000 },
      );
      const b = await open();
      cleanups.push(() => b.close());
      const c = correlatorFor(b.bus, b.store, b.topics, uniqueName('g'), { rules: [EARLY_RULES], allowedLatenessMs: LATENESS, log });
      await c.start();
      cleanups.push(() => c.stop());
      const ws = await consoleClient(b);
      const arrivals = shuffle ? earlyScenarioShuffled(lines, speed, 3000, true) : lines.map((line) => ({ line, at: line.t }));
      await replay(b, arrivals, speed);
      const reference = await referenced;
      expect(reference.incidents).toHaveLength(4);
      const { summary, marked } = await settled(b, reference, 120_000);
      expect(summary, name).toEqual(reference);
      expect(marked.provisional, name).toEqual([]);
      const wrong = shuffle ? 1 : 0;
      // The held-back line moves the brute force's window end, not its start: the right alert has the
      // early one's id and replaces its document in place, so no document stays marked retracted; the
      // incident the early alert raised (named after its end) is withdrawn.
      expect(marked.retracted, name).toEqual([]);
      expect(marked.withdrawn, name).toHaveLength(wrong);
      expect(await countOf(c.metrics.earlyAlerts, 'retracted'), name).toBe(wrong);
      expect(await countOf(c.metrics.earlyAlerts, 'raised'), name).toBe(4 + wrong);
      if (!wrong) return;
      const withdrawn = (await b.store.getIncident(marked.withdrawn[0]!))!;
      expect(withdrawn.rule.id, name).toBe(EARLY_RULE.brute);
      // The console was told: the incident it showed is withdrawn.
      await until('the withdrawal on the console', 10_000, async () =>
        ws.messages.some((m) => m.msg.change?.incident.id === withdrawn.id && m.msg.change?.incident.withdrawn) ? true : undefined,
      );
    },
    240_000,
  );
});

describe('several correlators with rebalances (Kafka + Elasticsearch)', () => {
  it("three instances, one stopped and one added mid-scenario, end with the single instance's documents and no late event", async () => {
    const LATENESS = 30_000;
    const lines = earlyScenario(Math.floor(Date.now() / 1000) * 1000, uniqueName('multi'));
    const referenced = referenceRun(
      lines.map((l) => l.message),
      { rules: [EARLY_RULES], allowedLatenessMs: LATENESS, quietMs: LATENESS + 10_000 },
    );
    const [, open] = backends('multi').find(([name]) => name.startsWith('Kafka'))!;
    const b = await open();
    cleanups.push(() => b.close());
    const groupId = uniqueName('g');
    const instance = async () => {
      const [, own] = backends('multi').find(([name]) => name.startsWith('Kafka'))!;
      const mine = await own();
      const c = correlatorFor(mine.bus, b.store, b.topics, groupId, { rules: [EARLY_RULES], allowedLatenessMs: LATENESS, log });
      await c.start();
      cleanups.push(() => c.stop());
      return c;
    };
    const started = [await instance(), await instance(), await instance()];
    const arrivals = earlyScenarioShuffled(lines, 5, 3000, false);
    const half = Math.floor(arrivals.length / 2);
    await replay(b, arrivals.slice(0, half), 10);
    await started[1]!.stop();
    started.push(await instance());
    await replay(b, arrivals.slice(half), 10);
    const reference = await referenced;
    const { summary, marked } = await settled(b, reference, 120_000);
    expect(summary).toEqual(reference);
    expect(marked.provisional).toEqual([]);
    let late = 0;
    for (const c of started) late += (await c.metrics.lateEvents.get()).values.reduce((n, v) => n + v.value, 0);
    expect(late).toBe(0);
  }, 300_000);
});
