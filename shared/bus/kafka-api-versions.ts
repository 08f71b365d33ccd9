import { Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
// kafkajs publishes no table of the protocol versions it implements; its request modules hold one.
// Static imports, so that a bundle (the Windows collector) carries them too.
import kafkajsApiKeys from 'kafkajs/src/protocol/requests/apiKeys.js';
import kafkajsRequests from 'kafkajs/src/protocol/requests/index.js';
import kafkajsPackage from 'kafkajs/package.json' with { type: 'json' };

const kafkajsVersion = kafkajsPackage.version;

export interface VersionRange {
  min: number;
  max: number;
}

/** What kafkajs speaks: API name -> the range of versions it implements (APIs it does not implement left out). */
export function clientApiVersions(): Map<string, VersionRange & { key: number }> {
  const out = new Map<string, VersionRange & { key: number }>();
  for (const [name, def] of Object.entries(kafkajsRequests.requests)) {
    const versions = def.versions.map(Number);
    const key = kafkajsApiKeys[name];
    if (versions.length && key !== undefined) out.set(name, { key, min: Math.min(...versions), max: Math.max(...versions) });
  }
  return out;
}

/** The APIs the bus calls: a broker must offer each of them in a version kafkajs speaks. */
const NEEDED = [
  'Produce',
  'Fetch',
  'ListOffsets',
  'Metadata',
  'OffsetCommit',
  'OffsetFetch',
  'GroupCoordinator',
  'JoinGroup',
  'Heartbeat',
  'LeaveGroup',
  'SyncGroup',
  'ApiVersions',
  'CreateTopics',
  'InitProducerId',
];

/**
 * The first API the bus needs that the broker offers in no version kafkajs speaks, as a sentence naming the
 * API and both ranges; undefined when they agree.
 */
export function incompatibility(broker: Map<number, VersionRange>, needed: string[] = NEEDED): string | undefined {
  const client = clientApiVersions();
  for (const name of needed) {
    const c = client.get(name);
    if (!c) continue;
    const b = broker.get(c.key);
    if (!b) return `the broker does not offer ${name} (key ${c.key}), which kafkajs ${kafkajsVersion} needs (it speaks v${c.min}-v${c.max})`;
    if (b.min > c.max || b.max < c.min) return `the broker accepts ${name} v${b.min}-v${b.max}, kafkajs ${kafkajsVersion} speaks v${c.min}-v${c.max}`;
  }
  return undefined;
}

/** ApiVersions v0, which every broker answers before any authentication: key, version, correlation id, client id. */
function apiVersionsRequest(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + id.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(id.length, 8);
  id.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function parseApiVersionsResponse(frame: Buffer): Map<number, VersionRange> {
  // correlation id (4), error code (2), array of (key, min, max) int16s.
  const error = frame.readInt16BE(4);
  if (error !== 0) throw new Error(`ApiVersions v0 answered with error code ${error}`);
  const count = frame.readInt32BE(6);
  const out = new Map<number, VersionRange>();
  for (let i = 0, at = 10; i < count; i++, at += 6) out.set(frame.readInt16BE(at), { min: frame.readInt16BE(at + 2), max: frame.readInt16BE(at + 4) });
  return out;
}

/** Asks one broker which versions of each API it accepts (ApiVersions v0, over TLS when `ssl`). */
export function brokerApiVersions(
  broker: string,
  o: { ssl: boolean | ConnectionOptions; clientId: string; timeoutMs?: number },
): Promise<Map<number, VersionRange>> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at);
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket: Socket = o.ssl ? tlsConnect({ host, port, servername: host, ...(typeof o.ssl === 'object' ? o.ssl : {}) }) : new Socket().connect(port, host);
    let buf = Buffer.alloc(0);
    socket.setTimeout(o.timeoutMs ?? 5000, () => socket.destroy(new Error(`no ApiVersions answer from ${broker} within ${o.timeoutMs ?? 5000} ms`)));
    socket.once(o.ssl ? 'secureConnect' : 'connect', () => socket.write(apiVersionsRequest(o.clientId)));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      try {
        resolve(parseApiVersionsResponse(buf.subarray(4, 4 + buf.readInt32BE(0))));
      } catch (err) {
        reject(err);
      } finally {
        socket.destroy();
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`${broker} closed the connection before answering ApiVersions`)));
  });
}
