import { createSocket, type Socket } from 'node:dgram';
import { isIPv6, type AddressInfo } from 'node:net';
import type { Logger } from '../../shared/log.ts';
import type { SyslogSourceConfig } from '../config.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { envelopePrefix, envelopeValue, lineText, type RecordSink } from '../record.ts';
import { syslogIds } from './syslog-ids.ts';
import { readUdpRcvbufErrors, readUdpSocketDrops } from './udp-drops.ts';

const KERNEL_DROPS_POLL_MS = 5000;

export interface SyslogContext {
  host: string;
  unit?: string;
  drill?: string;
  lineLimit: number;
  sink: RecordSink;
  metrics: CollectorMetrics;
  log: Logger;
}

/**
 * Syslog over UDP (RFC 5426): one message per datagram. A datagram cannot wait, so when memory is
 * full it goes to the spool, and when the spool is full too it is dropped and counted (metric and
 * the next heartbeat). Datagrams the kernel dropped because the receive buffer was full (the
 * process busy during a burst) are read from /proc and counted the same way.
 */
export class SyslogUdpSource {
  private socket: Socket | null = null;
  private poll: NodeJS.Timeout | null = null;
  private readonly nextId: () => string;
  private readonly prefix: string;

  constructor(
    readonly config: SyslogSourceConfig,
    private readonly ctx: SyslogContext,
  ) {
    this.nextId = syslogIds(ctx.host, config.name);
    this.prefix = envelopePrefix({
      host: ctx.host,
      source: `syslog+udp://${config.listen.host}:${config.listen.port}`,
      format: config.format,
      unit: ctx.unit,
      drill: ctx.drill,
    });
  }

  async start(): Promise<AddressInfo> {
    const family = isIPv6(this.config.listen.host) ? 'udp6' : 'udp4';
    const socket = createSocket({ type: family, recvBufferSize: this.config.receiveBufferBytes });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      try {
        this.receive(msg, rinfo.address);
      } catch (err) {
        this.ctx.log.error({ source: this.config.name, err: (err as Error).message }, 'cannot queue a datagram');
      }
    });
    socket.on('error', (err) => this.ctx.log.error({ source: this.config.name, err: err.message }, 'udp socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.config.listen.port, this.config.listen.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const address = socket.address();
    // Linux doubles the asked size for its bookkeeping and caps it at net.core.rmem_max: the log says what was granted.
    this.ctx.log.info({ source: this.config.name, asked: this.config.receiveBufferBytes, granted: socket.getRecvBufferSize() }, 'udp receive buffer');
    this.poll = setInterval(() => this.pollKernelDrops(address.port, family), KERNEL_DROPS_POLL_MS).unref();
    return address;
  }

  /** Reads the kernel's drop counts into the metrics (the heartbeat reports them from there). */
  pollKernelDrops(port: number, family: 'udp4' | 'udp6'): void {
    const drops = readUdpSocketDrops(port, family);
    if (drops !== null) this.ctx.metrics.kernelDropped(this.config.name, drops);
    const system = readUdpRcvbufErrors();
    if (system !== null) this.ctx.metrics.udpRcvbufErrors.set(system);
  }

  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    const s = this.socket;
    if (s) this.pollKernelDrops(s.address().port, isIPv6(this.config.listen.host) ? 'udp6' : 'udp4');
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private receive(msg: Buffer, peer: string): void {
    let end = msg.length;
    while (end > 0 && (msg[end - 1] === 0x0a || msg[end - 1] === 0x0d || msg[end - 1] === 0)) end--;
    if (end === 0) return;
    const truncated = end > this.ctx.lineLimit;
    const { text, invalidUtf8 } = lineText(msg.subarray(0, truncated ? this.ctx.lineLimit : end), truncated);
    const received = new Date().toISOString();
    this.ctx.metrics.read(this.config.name, 1, received);
    if (truncated) this.ctx.metrics.truncated(this.config.name, 1);
    this.ctx.sink.offer(
      [{ key: this.ctx.host, source: this.config.name, value: envelopeValue(this.prefix, this.nextId(), received, text, truncated, peer, invalidUtf8) }],
      false,
    );
  }
}
