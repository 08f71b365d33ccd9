import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { SyslogSourceConfig } from '../config.ts';
import { envelopePrefix, envelopeValue, type OutRecord } from '../record.ts';
import { SyslogFramer, type FramedMessage } from './syslog-framing.ts';
import { syslogIds } from './syslog-ids.ts';
import type { SyslogContext } from './syslog-udp.ts';

const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Syslog over TCP, or TCP over TLS (RFC 5425), with RFC 6587 framing per message. When the sink
 * is full the sockets are paused, so TCP flow control pushes back on the senders instead of the
 * collector buffering without bound. Connections are limited in all and per sender address, and
 * closed when idle, so that slow or silent connections from one address cannot take every slot;
 * refusals are counted (metric and heartbeat).
 */
export class SyslogTcpSource {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly paused = new Set<Socket>();
  private readonly perPeer = new Map<string, number>();
  private readonly nextId: () => string;
  private readonly prefix: string;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly config: SyslogSourceConfig,
    private readonly ctx: SyslogContext,
  ) {
    this.nextId = syslogIds(ctx.host, config.name);
    const scheme = config.protocol === 'tls' ? 'syslog+tls' : 'syslog+tcp';
    this.prefix = envelopePrefix({
      host: ctx.host,
      source: `${scheme}://${config.listen.host}:${config.listen.port}`,
      format: config.format,
      unit: ctx.unit,
      drill: ctx.drill,
    });
  }

  async start(): Promise<AddressInfo> {
    const onSocket = (socket: Socket) => this.accept(socket);
    let server: Server;
    if (this.config.protocol === 'tls') {
      const t = this.config.tls!;
      const read = (what: string, path: string) => {
        try {
          return readFileSync(path);
        } catch (err) {
          throw new Error(`source ${this.config.name}: cannot read tls.${what} ${path}: ${(err as Error).message}`);
        }
      };
      server = createTlsServer(
        {
          cert: read('cert', t.cert),
          key: read('key', t.key),
          ca: t.ca ? read('ca', t.ca) : undefined,
          requestCert: !!t.ca,
          rejectUnauthorized: !!t.ca,
          // A handshake left hanging holds a socket before any limit sees it: bounded like an idle connection.
          handshakeTimeout: Math.min(HANDSHAKE_TIMEOUT_MS, this.config.idleTimeoutSeconds * 1000),
        },
        onSocket,
      );
      server.on('tlsClientError', (err) => this.ctx.log.warn({ source: this.config.name, err: err.message }, 'tls handshake failed'));
    } else server = createTcpServer(onSocket);
    this.server = server;
    this.unsubscribe = this.ctx.sink.onReady(() => {
      for (const s of this.paused) s.resume();
      this.paused.clear();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.listen.port, this.config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.ctx.log.error({ source: this.config.name, err: err.message }, 'syslog server error'));
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const peer = socket.remoteAddress ?? 'unknown';
    const fromPeer = this.perPeer.get(peer) ?? 0;
    const refused = this.sockets.size >= this.config.maxConnections ? 'total' : fromPeer >= this.config.maxConnectionsPerPeer ? 'per_peer' : null;
    if (refused) {
      this.ctx.metrics.refused(this.config.name, refused);
      this.ctx.log.warn({ source: this.config.name, peer, limit: refused, connections: this.sockets.size, fromPeer }, 'syslog connection refused');
      socket.destroy();
      return;
    }
    const framer = new SyslogFramer(this.ctx.lineLimit);
    this.sockets.add(socket);
    this.perPeer.set(peer, fromPeer + 1);
    socket.setKeepAlive(true, 60_000);
    socket.setTimeout(this.config.idleTimeoutSeconds * 1000);
    const deliver = (messages: FramedMessage[]) => {
      if (messages.length === 0) return;
      const received = new Date().toISOString();
      const records: OutRecord[] = messages.map((m) => ({
        key: this.ctx.host,
        source: this.config.name,
        value: envelopeValue(this.prefix, this.nextId(), received, m.text, m.truncated, peer, m.invalidUtf8),
      }));
      this.ctx.metrics.read(this.config.name, records.length, received);
      const truncated = messages.filter((m) => m.truncated).length;
      if (truncated) this.ctx.metrics.truncated(this.config.name, truncated);
      this.ctx.sink.offer(records, true);
      if (!this.ctx.sink.ready()) {
        socket.pause();
        this.paused.add(socket);
      }
    };
    const guarded = (messages: () => FramedMessage[]) => {
      try {
        deliver(messages());
      } catch (err) {
        // The sink could not queue (the spool's disk full, say): drop this connection, the sender retries.
        this.ctx.log.error({ source: this.config.name, peer, err: (err as Error).message }, 'cannot queue syslog messages');
        socket.destroy();
      }
    };
    socket.on('data', (chunk: Buffer) => guarded(() => framer.push(chunk)));
    socket.on('end', () => guarded(() => framer.end()));
    socket.on('timeout', () => {
      // Paused by us (the sink is full), it is not idle: its unread bytes would be lost with it.
      if (this.paused.has(socket)) return;
      // A message without its final newline is still a message: handed on before the close.
      guarded(() => framer.end());
      this.ctx.metrics.idleClosed(this.config.name);
      this.ctx.log.debug({ source: this.config.name, peer }, 'idle syslog connection closed');
      socket.destroy();
    });
    socket.on('error', (err) => this.ctx.log.debug({ source: this.config.name, peer, err: err.message }, 'syslog connection error'));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.paused.delete(socket);
      const left = (this.perPeer.get(peer) ?? 1) - 1;
      if (left > 0) this.perPeer.set(peer, left);
      else this.perPeer.delete(peer);
    });
  }
}
