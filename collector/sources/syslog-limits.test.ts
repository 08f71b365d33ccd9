import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.ts';
import { SyslogSourceSchema } from '../config.ts';
import { Heartbeat } from '../heartbeat.ts';
import { CollectorMetrics } from '../metrics.ts';
import type { OutRecord, RecordSink } from '../record.ts';
import { SyslogTcpSource } from './syslog-tcp.ts';
import { SyslogUdpSource } from './syslog-udp.ts';
import { readUdpRcvbufErrors, readUdpSocketDrops } from './udp-drops.ts';

class MemorySink implements RecordSink {
  readonly records: OutRecord[] = [];
  ready() {
    return true;
  }
  offer(records: OutRecord[]) {
    this.records.push(...records);
    return 0;
  }
  onReady() {
    return () => undefined;
  }
  lines(source: string) {
    return this.records.filter((r) => r.source === source).map((r) => JSON.parse(r.value).line as string);
  }
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

const log = createLogger('syslog-limits-test');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('syslog TCP connection limits', () => {
  it('1,000 slow connections from one address do not lock out a real sender; refusals and idle closes are counted', async () => {
    const metrics = new CollectorMetrics();
    const sink = new MemorySink();
    const config = SyslogSourceSchema.parse({
      type: 'syslog',
      name: 'fw-tcp',
      protocol: 'tcp',
      listen: { host: '127.0.0.1', port: 0 },
      idleTimeoutSeconds: 1.5,
    });
    const source = new SyslogTcpSource(config, { host: 'relay', lineLimit: 4096, sink, metrics, log });
    const { port } = await source.start();
    stops.push(() => source.stop());

    // The attacker: 1,000 connections from 127.0.0.2, each sending the start of a message and then nothing.
    const attempts = await Promise.allSettled(Array.from({ length: 1000 }, () => open(port, '127.0.0.2')));
    const slow = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    for (const s of slow) {
      s.on('error', () => undefined);
      s.write('<13>Nov 26 08:00:00 fw01 partial');
    }
    await waitFor(() => metrics.source('fw-tcp').refused >= 1000 - config.maxConnectionsPerPeer, 'refusals counted');
    expect(metrics.source('fw-tcp').refused).toBe(1000 - config.maxConnectionsPerPeer);

    // The real sender, from another address, is served at once.
    const real = await open(port, '127.0.0.1');
    real.write('<13>Nov 26 08:00:01 fw01 sshd[1]: Failed password for root from 203.0.113.7\n');
    await waitFor(() => sink.lines('fw-tcp').some((l) => l.includes('Failed password')), 'the real sender line');

    // The slow ones are closed once idle; what they sent is kept.
    await waitFor(() => slow.every((s) => s.destroyed || s.readableEnded), 'idle connections closed', 10_000);
    expect(sink.lines('fw-tcp').filter((l) => l.endsWith('fw01 partial'))).toHaveLength(config.maxConnectionsPerPeer);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      new RegExp(`canhgac_collector_connections_refused_total\\{source="fw-tcp",reason="per_peer"\\} ${1000 - config.maxConnectionsPerPeer}`),
    );
    expect(text).toMatch(/canhgac_collector_connections_idle_closed_total\{source="fw-tcp"\} (\d+)/);
    real.destroy();
    for (const s of slow) s.destroy();

    const beats = new MemorySink();
    new Heartbeat({ host: 'relay', sources: ['fw-tcp'], intervalMs: 60_000, sink: beats, metrics, spoolBytes: () => 0 }).beat();
    expect(JSON.parse(beats.records[0]!.value).heartbeat).toMatchObject({ refused: 1000 - config.maxConnectionsPerPeer });
  });

  it('refuses connections beyond the total limit and counts them apart', async () => {
    const metrics = new CollectorMetrics();
    const config = SyslogSourceSchema.parse({
      type: 'syslog',
      name: 'fw-tcp',
      protocol: 'tcp',
      listen: { host: '127.0.0.1', port: 0 },
      maxConnections: 10,
      maxConnectionsPerPeer: 5,
    });
    const source = new SyslogTcpSource(config, { host: 'relay', lineLimit: 4096, sink: new MemorySink(), metrics, log });
    const { port } = await source.start();
    stops.push(() => source.stop());
    const sockets: Socket[] = [];
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) for (let i = 0; i < 5; i++) sockets.push(await open(port, address));
    await waitFor(() => metrics.source('fw-tcp').refused === 5, 'refusals');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/canhgac_collector_connections_refused_total\{source="fw-tcp",reason="total"\} 5/);
    for (const s of sockets) s.destroy();
  });
});

describe('syslog UDP kernel drops', () => {
  it('reads the drops of its own socket from /proc into the metrics and the heartbeat', async () => {
    if (readUdpRcvbufErrors() === null) return expect(process.platform).not.toBe('linux');
    const metrics = new CollectorMetrics();
    const sink = new MemorySink();
    const config = SyslogSourceSchema.parse({
      type: 'syslog',
      name: 'fw-udp',
      protocol: 'udp',
      listen: { host: '127.0.0.1', port: 0 },
      receiveBufferBytes: 4096,
    });
    const source = new SyslogUdpSource(config, { host: 'relay', lineLimit: 4096, sink, metrics, log });
    const { port } = await source.start();
    stops.push(() => source.stop());
    const before = readUdpRcvbufErrors()!;
    // spawnSync blocks this process while a child sends a burst: nothing reads the socket, its small buffer overflows.
    const sent = 2000;
    const script = `const s=require('dgram').createSocket('udp4');let n=0;const line=Buffer.from('<13>Nov 26 08:00:00 fw01 kernel: '+'x'.repeat(400));(function go(){for(let i=0;i<100&&n<${sent};i++,n++)s.send(line,${port},'127.0.0.1');if(n<${sent})setImmediate(go);else setTimeout(()=>s.close(),200)})()`;
    const child = spawnSync(process.execPath, ['-e', script], { timeout: 20_000 });
    expect(child.status).toBe(0);
    await waitFor(() => sink.records.length + (readUdpSocketDrops(port, 'udp4') ?? 0) >= sent, 'every datagram read or dropped');
    source.pollKernelDrops(port, 'udp4');
    const s = metrics.source('fw-udp');
    process.stderr.write(`[udp] ${sent} sent, ${s.read} read, ${s.kernelDropped} dropped by the kernel (4 KiB asked for the receive buffer)\n`);
    expect(s.kernelDropped).toBeGreaterThan(0);
    expect(s.read + s.kernelDropped).toBe(sent);
    expect(readUdpRcvbufErrors()! - before).toBeGreaterThanOrEqual(s.kernelDropped);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`canhgac_collector_udp_kernel_drops_total{source="fw-udp"} ${s.kernelDropped}`);
    expect(text).toMatch(/canhgac_collector_udp_rcvbuf_errors \d+/);

    const beats = new MemorySink();
    new Heartbeat({ host: 'relay', sources: ['fw-udp'], intervalMs: 60_000, sink: beats, metrics, spoolBytes: () => 0 }).beat();
    expect(JSON.parse(beats.records[0]!.value).heartbeat).toMatchObject({ kernelDropped: s.kernelDropped });
  });

  it('parses /proc/net/udp rows by local port and /proc/net/snmp by column name', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-proc-'));
    writeFileSync(
      join(dir, 'udp'),
      [
        '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
        '  123: 0100007F:14B6 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1234 2 0000000000000000 81',
        '  124: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1235 2 0000000000000000 7',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'snmp'),
      'Ip: Forwarding\nIp: 1\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 17511 0 82489 100 82489 0\n',
    );
    expect(readUdpSocketDrops(5302, 'udp4', join(dir, 'udp'))).toBe(81);
    expect(readUdpSocketDrops(53, 'udp4', join(dir, 'udp'))).toBe(7);
    expect(readUdpSocketDrops(9999, 'udp4', join(dir, 'udp'))).toBeNull();
    expect(readUdpRcvbufErrors(join(dir, 'snmp'))).toBe(82489);
    expect(readUdpRcvbufErrors(join(dir, 'missing'))).toBeNull();
  });
});
