import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import type { BusProducer } from '../../shared/bus/types.ts';
import { KafkaConfigSchema } from '../../shared/config.ts';
import type { IncidentChange } from '../../shared/incident.ts';
import { createLogger } from '../../shared/log.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { kafkaBrokers, uniqueName } from '../../test/support/services.ts';
import { startConsole, usersFile, waitFor } from '../test/harness.ts';

type Started = Awaited<ReturnType<typeof startConsole>>;

class Client {
  messages: any[] = [];
  ws: WebSocket;
  opened: Promise<void>;
  constructor(url: string, cookie: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers: { cookie, ...headers } });
    this.ws.on('message', (d) => this.messages.push({ ...JSON.parse(d.toString()), receivedAt: Date.now() }));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }
  changesOf(id: string) {
    return this.messages.filter((m) => m.type === 'change' && m.change.incident.id === id);
  }
  close() {
    this.ws.close();
  }
}

describe('live stream across console instances (real Kafka and Elasticsearch)', () => {
  const prefix = uniqueName('stream');
  const bus = new KafkaBus(KafkaConfigSchema.parse({ brokers: kafkaBrokers() }), createLogger('stream-test'));
  let a: Started;
  let b: Started;
  let producer: BusProducer;
  const urls: Record<string, string> = {};
  const cookies: Record<string, string> = {};
  const clients: Client[] = [];
  const connect = (which: 'a' | 'b', query = '', headers: Record<string, string> = {}) => {
    const c = new Client(`${urls[which]}/ws${query}`, cookies[which]!, headers);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const file = await usersFile();
    a = await startConsole(bus, { prefix, usersFile: file });
    b = await startConsole(bus, { prefix, usersFile: file });
    for (const [k, c] of Object.entries({ a, b })) {
      const addr = await c.app.listen({ host: '127.0.0.1', port: 0 });
      urls[k] = addr.replace('http', 'ws');
      cookies[k] = await c.login('rosa');
    }
    producer = await bus.producer();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await producer?.close();
    await b?.app.close();
    await a?.close();
  });

  it('an incident written by the correlator reaches clients of both instances; an action on one shows on the other', async () => {
    const ca = connect('a');
    const cb = connect('b');
    await Promise.all([ca.opened, cb.opened]);
    await waitFor(() => ca.messages[0] && cb.messages[0], 5000, 'snapshots');
    expect(ca.messages[0]).toMatchObject({ type: 'snapshot', reason: 'connect' });

    const inc = incidentFixture({ id: uniqueName('inc'), first_seen: new Date().toISOString(), last_seen: new Date().toISOString() });
    const written = Date.now();
    const { incident } = await a.store.upsertIncident(inc);
    await producer.send(a.topic, [
      { key: incident.id, value: JSON.stringify({ type: 'created', at: new Date().toISOString(), incident } satisfies IncidentChange) },
    ]);
    const [ga, gb] = await Promise.all([
      waitFor(() => ca.changesOf(incident.id)[0], 5000, 'change on a'),
      waitFor(() => cb.changesOf(incident.id)[0], 5000, 'change on b'),
    ]);
    const delays = [ga.receivedAt - written, gb.receivedAt - written];
    process.stderr.write(`[stream] write to push: a ${delays[0]} ms, b ${delays[1]} ms\n`);
    expect(Math.max(...delays)).toBeLessThan(1000);

    const acted = Date.now();
    const res = await a.app.inject({
      method: 'POST',
      url: `/api/incidents/${incident.id}/actions`,
      payload: { action: 'acknowledge' },
      headers: { cookie: cookies.a },
    });
    expect(res.statusCode).toBe(200);
    const seen = await waitFor(() => cb.changesOf(incident.id).find((m) => m.change.incident.status === 'acknowledged'), 5000, 'ack on b');
    process.stderr.write(`[stream] action on a to push on b: ${seen.receivedAt - acted} ms\n`);
    expect(seen.receivedAt - acted).toBeLessThan(1000);
    expect(seen.change.incident.version).toBe(2);
  });

  it('a client reconnecting with its cursor gets exactly what it missed; a foreign cursor gets a snapshot', async () => {
    const inc = incidentFixture({ id: uniqueName('resume'), first_seen: new Date().toISOString(), last_seen: new Date().toISOString() });
    const { incident } = await a.store.upsertIncident(inc);
    await producer.send(a.topic, [{ key: incident.id, value: JSON.stringify({ type: 'created', at: new Date().toISOString(), incident }) }]);
    const first = connect('b');
    await first.opened;
    await waitFor(() => b.ctx.hub.openIncidents().some((i) => i.id === incident.id), 5000, 'incident on b');
    await waitFor(() => first.messages.length, 5000, 'snapshot');
    const cursor = first.messages.at(-1).cursor;
    first.close();
    for (const note of ['one', 'two']) {
      const r = await a.app.inject({
        method: 'POST',
        url: `/api/incidents/${incident.id}/actions`,
        payload: { action: 'comment', note },
        headers: { cookie: cookies.a },
      });
      expect(r.statusCode).toBe(200);
    }
    await waitFor(() => b.ctx.hub.openIncidents().find((i) => i.id === incident.id && i.version === 3), 5000, 'comments on b');
    const again = connect('b', `?since=${cursor}`);
    await waitFor(() => again.messages.find((m) => m.type === 'replayed'), 5000, 'replay');
    const missed = again.messages.filter((m) => m.type === 'change').map((m) => m.change.incident.timeline.at(-1).note);
    expect(missed).toEqual(['one', 'two']);

    const foreign = connect('a', `?since=${cursor}`);
    await waitFor(() => foreign.messages[0], 5000, 'snapshot on a');
    expect(foreign.messages[0]).toMatchObject({ type: 'snapshot', reason: 'unknown_cursor' });
    expect(foreign.messages[0].incidents.some((i: { id: string }) => i.id === incident.id)).toBe(true);
  });

  it('validates client messages, answers pings, refuses cross-origin upgrades and requests without a session', async () => {
    const c = connect('a');
    await c.opened;
    c.ws.send('not json');
    c.ws.send(JSON.stringify({ type: 'subscribe', topic: 'x' }));
    c.ws.send(JSON.stringify({ type: 'ping', id: 'p1' }));
    c.ws.send(JSON.stringify({ type: 'resync' }));
    await waitFor(() => c.messages.filter((m) => m.type !== 'change').length >= 5, 5000, 'answers');
    const answers = c.messages.filter((m) => m.type !== 'change').slice(1);
    expect(answers.map((m) => m.type)).toEqual(['error', 'error', 'pong', 'snapshot']);
    expect(answers[1].message).toMatch(/^type: /);
    expect(answers[2].id).toBe('p1');
    expect(answers[3].reason).toBe('requested');
    await expect(connect('a', '', { origin: 'https://evil.example' }).opened).rejects.toThrow(/403/);
    await expect(new Client(`${urls.a}/ws`, '').opened).rejects.toThrow(/401/);
  });
});
