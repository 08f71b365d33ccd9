import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.ts';
import { topicNames } from '../../shared/topics.ts';
import { createTopics, kafkaBrokers, testKafka, uniqueName } from '../../test/support/services.ts';
import { startCollector, type CollectorAgent } from '../agent.ts';
import { CollectorConfigSchema } from '../config.ts';
import { TopicReader, waitFor } from './helpers.ts';

function writeAll(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

function endSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.end(() => resolve()));
}

const octets = (m: string) => `${Buffer.byteLength(m)} ${m}`;

describe('collector: syslog over UDP, TCP and TLS into soc.raw', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-collector-syslog-'));
  let agent: CollectorAgent | null = null;
  let reader: TopicReader | null = null;
  afterAll(async () => {
    await agent?.stop();
    await reader?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the peer, frames newline and octet-counted messages (embedded newlines kept), serves many senders', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    const prefix = `${uniqueName('coll-syslog')}.`;
    const topic = topicNames(prefix).raw;
    await createTopics(testKafka(), [topic], 1);
    reader = new TopicReader(kafkaBrokers(), topic);
    await reader.start();
    const listen = { host: '127.0.0.1', port: 0 };
    const config = CollectorConfigSchema.parse({
      kafka: { brokers: kafkaBrokers(), topicPrefix: prefix },
      collector: {
        host: 'syslog-relay',
        unit: 'soc',
        dataDir: join(dir, 'data'),
        lineLimit: 1024,
        heartbeatSeconds: 1,
        sources: [
          { type: 'syslog', name: 'fw-udp', protocol: 'udp', listen, format: 'fortigate' },
          { type: 'syslog', name: 'fw-tcp', protocol: 'tcp', listen },
          { type: 'syslog', name: 'fw-tls', protocol: 'tls', listen, tls: { cert, key } },
        ],
        metrics: { listen },
      },
    });
    agent = await startCollector(config, createLogger('collector-test', {}, 'silent'));
    const port = (name: string) => agent!.addresses[name]!.port;

    const expected = new Map<string, string>();
    const udp = createSocket('udp4');
    for (let i = 0; i < 30; i++) {
      const m = `<189>date=2026-11-26 devname=FGT01 type=traffic action=deny udp=${i}`;
      expected.set(m, 'fw-udp');
      await new Promise<void>((resolve, reject) => udp.send(`${m}\n`, port('fw-udp'), '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
    udp.close();

    // Ten TCP senders at once, mixing both framings; one octet-counted message holds newlines.
    await Promise.all(
      Array.from({ length: 10 }, async (_, c) => {
        const s = tcpConnect(port('fw-tcp'), '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        let wire = '';
        for (let i = 0; i < 50; i++) {
          const m = `<134>fw${c} kernel: [UFW BLOCK] SRC=10.0.${c}.${i} DPT=22 tcp=${c}-${i}`;
          expected.set(m, 'fw-tcp');
          wire += i % 2 ? octets(m) : `${m}\n`;
        }
        const multi = `<134>fw${c} app: stack trace\n  at line one\n  at line two tcp-multi=${c}`;
        expected.set(multi, 'fw-tcp');
        wire += octets(multi);
        // Split at odd places: framing must not depend on how TCP cuts the stream.
        for (let at = 0; at < wire.length; at += 97) await writeAll(s, wire.slice(at, at + 97));
        await endSocket(s);
      }),
    );

    const long = `<134>${'z'.repeat(3000)}`;
    const tls = tlsConnect({ port: port('fw-tls'), host: '127.0.0.1', ca: readFileSync(cert), servername: 'localhost' });
    await new Promise((r) => tls.once('secureConnect', r));
    let wire = '';
    for (let i = 0; i < 20; i++) {
      const m = `<86>sshd[1]: Failed password for root from 10.9.9.${i} tls=${i}`;
      expected.set(m, 'fw-tls');
      wire += `${m}\n`;
    }
    const multiTls = '<86>multi\nline over tls';
    expected.set(multiTls, 'fw-tls');
    wire += `${octets(multiTls)}${long}\n`;
    await writeAll(tls, wire);
    await endSocket(tls);

    const total = expected.size + 1;
    await waitFor(() => reader!.lines().length >= total, `${total} messages`, 30_000);
    const lines = reader.lines();
    expect(lines).toHaveLength(total);
    const truncated = lines.filter((e) => e.truncated);
    expect(truncated).toHaveLength(1);
    expect(truncated[0]!.line).toBe(long.slice(0, 1024));
    for (const e of lines.filter((l) => !l.truncated)) {
      const source = expected.get(e.line);
      expect(source, e.line).toBeDefined();
      expect(e.peer).toBe('127.0.0.1');
      expect(e.host).toBe('syslog-relay');
      expect(e.unit).toBe('soc');
      expect(e.source).toMatch({ 'fw-udp': /^syslog\+udp:\/\//, 'fw-tcp': /^syslog\+tcp:\/\//, 'fw-tls': /^syslog\+tls:\/\// }[source!]!);
    }
    expect(new Set(lines.map((e) => e.line))).toEqual(new Set([...expected.keys(), long.slice(0, 1024)]));
    expect(new Set(lines.map((e) => e.id)).size).toBe(total);
    expect(lines.filter((e) => e.source.startsWith('syslog+udp')).every((e) => e.format === 'fortigate')).toBe(true);
    for (let c = 0; c < 10; c++) {
      // One connection's messages keep their order.
      const seq = lines.filter((e) => e.line.includes(`tcp=${c}-`)).map((e) => Number(/tcp=\d+-(\d+)/.exec(e.line)![1]));
      expect(seq).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }

    const metrics = await (await fetch(`http://127.0.0.1:${agent.addresses.metrics!.port}/metrics`)).text();
    expect(metrics).toContain('canhgac_collector_lines_read_total{source="fw-udp"} 30');
    expect(metrics).toContain('canhgac_collector_lines_shipped_total{source="fw-tcp"} 510');
    expect(metrics).toContain('canhgac_collector_lines_read_total{source="fw-tls"} 22');
    expect(metrics).toContain('canhgac_collector_lines_truncated_total{source="fw-tls"} 1');

    await waitFor(
      () => ['fw-udp', 'fw-tcp', 'fw-tls'].every((s) => reader!.envelopes.some((e) => e.kind === 'heartbeat' && e.source === s && e.heartbeat!.lines > 0)),
      'heartbeats with shipped lines',
      10_000,
    );
    const shippedByHeartbeats = reader.envelopes.filter((e) => e.kind === 'heartbeat' && e.source === 'fw-tcp').reduce((n, e) => n + e.heartbeat!.lines, 0);
    expect(shippedByHeartbeats).toBeLessThanOrEqual(510);
  }, 60_000);
});
