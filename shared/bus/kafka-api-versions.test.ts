import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { KafkaBus, KafkaProtocolError } from './kafka.ts';
import { clientApiVersions, incompatibility, type VersionRange } from './kafka-api-versions.ts';

/** Every API kafkajs speaks, as a broker would advertise it, with `shift` added to both ends of each range. */
function advertised(shift: (name: string) => number): Map<number, VersionRange> {
  const out = new Map<number, VersionRange>();
  for (const [name, c] of clientApiVersions()) out.set(c.key, { min: c.min + shift(name), max: c.max + shift(name) });
  return out;
}

/**
 * A fake broker that answers ApiVersions v0 with the given table (and UNSUPPORTED_VERSION to any other
 * version, as real brokers do), then closes every other request's connection, as a broker does on a
 * version it refuses.
 */
async function fakeBroker(table: Map<number, VersionRange>): Promise<{ address: string; server: Server }> {
  const server = createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      const apiKey = d.readInt16BE(4);
      const apiVersion = d.readInt16BE(6);
      const correlationId = d.readInt32BE(8);
      if (apiKey !== 18) return void socket.destroy();
      const entries = apiVersion === 0 ? [...table] : [];
      const body = Buffer.alloc(4 + 2 + 4 + entries.length * 6);
      body.writeInt32BE(correlationId, 0);
      body.writeInt16BE(apiVersion === 0 ? 0 : 35, 4);
      body.writeInt32BE(entries.length, 6);
      entries.forEach(([key, r], i) => {
        body.writeInt16BE(key, 10 + i * 6);
        body.writeInt16BE(r.min, 12 + i * 6);
        body.writeInt16BE(r.max, 14 + i * 6);
      });
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      socket.write(Buffer.concat([size, body]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, server };
}

describe('the Kafka adapter checks the broker protocol versions on connect', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('fails naming the API and both version ranges when the broker raised its minimums above kafkajs', async () => {
    const produce = clientApiVersions().get('Produce')!;
    const broker = await fakeBroker(
      advertised((name) => (name === 'ApiVersions' ? 0 : 1 + (clientApiVersions().get(name)!.max - clientApiVersions().get(name)!.min))),
    );
    servers.push(broker.server);
    const bus = new KafkaBus({ brokers: [broker.address], clientId: 'versions-test', topicPrefix: '', ssl: false }, createLogger('versions-test'));
    const expected = `Kafka broker ${broker.address} cannot be used: the broker accepts Produce v${produce.max + 1}-v${2 * produce.max - produce.min + 1}, kafkajs 2.2.4 speaks v${produce.min}-v${produce.max}`;
    await expect(bus.producer()).rejects.toThrow(expected);
    await expect(bus.consumer({ groupId: 'g', topics: ['t'] })).rejects.toBeInstanceOf(KafkaProtocolError);
  });

  it('accepts a broker whose ranges overlap what kafkajs speaks, and names an API the broker dropped', () => {
    expect(incompatibility(advertised(() => 0))).toBeUndefined();
    expect(incompatibility(advertised((name) => (name === 'Fetch' ? 3 : 0)))).toBeUndefined();
    const withoutJoin = advertised(() => 0);
    withoutJoin.delete(clientApiVersions().get('JoinGroup')!.key);
    expect(incompatibility(withoutJoin)).toMatch(/^the broker does not offer JoinGroup \(key 11\), which kafkajs 2\.2\.4 needs \(it speaks v0-v\d+\)$/);
  });
});
