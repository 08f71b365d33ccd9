import { randomBytes } from 'node:crypto';
import type { Incident, IncidentChange } from '../../shared/incident.ts';
import type { ServerMessage, SnapshotReason } from './messages.ts';

/** The part of a WebSocket the hub uses (ws's WebSocket fits), so the hub can be tested without sockets. */
export interface StreamSocket {
  /** Always text frames: a Buffer is the UTF-8 of a JSON message, shared by every client it goes to. */
  send(data: Buffer, options: { binary: false }): void;
  readonly bufferedAmount: number;
  close(code?: number, reason?: string): void;
}

export interface HubOptions {
  /** Changes kept for reconnecting clients; older cursors get a snapshot. */
  replayLimit?: number;
  /**
   * At most this many bytes of changes kept for them (default 8 MB): a flood's incidents, with long
   * timelines, made 2,000 changes weigh about 50 MB for as long as no newer ones pushed them out.
   */
  replayBytes?: number;
  /** A client with more than this many bytes unsent is lagging: it gets nothing more until it drains. */
  maxBufferedBytes?: number;
  /** A client lagging longer than this is closed (code 1013, try again later). */
  lagTimeoutMs?: number;
  /** At most this many open incidents (the most recent) in one snapshot; the rest are counted as omitted. */
  snapshotLimit?: number;
  now?: () => number;
  onDeliver?: (change: IncidentChange) => void;
  onSnapshot?: (reason: SnapshotReason) => void;
  /** A client closed because it could not keep up. */
  onDrop?: (reason: 'slow') => void;
}

interface Client {
  socket: StreamSocket;
  /** Set while the client is held back: nothing is sent until its buffer drains, then one snapshot. */
  laggingSince: number | null;
  /** The reason of the snapshot the drain sends (a resync asked for while bytes were still unsent). */
  pending: SnapshotReason | null;
}

const OPEN = new Set(['new', 'acknowledged']);
const TEXT = { binary: false } as const;

function encode(m: ServerMessage): Buffer {
  return Buffer.from(JSON.stringify(m));
}

/**
 * One console instance's view of the incidents: the open ones, a per-instance monotonic sequence of the
 * changes it applied, a bounded replay buffer, and the connected clients. Changes arriving twice or out of
 * order (a replay of the topic, the startup snapshot racing the consumer) are dropped by incident version.
 */
export class ChangeHub {
  readonly instance = randomBytes(6).toString('hex');
  private seq = 0;
  /** The changes as sent (encoded once, for every client and every replay). */
  private readonly buffer: { seq: number; message: Buffer }[] = [];
  private bufferBytes = 0;
  private readonly open = new Map<string, Incident>();
  private readonly versions = new Map<string, number>();
  private readonly clients = new Set<Client>();
  private readonly replayLimit: number;
  private readonly replayBytes: number;
  private readonly maxBuffered: number;
  private readonly lagTimeoutMs: number;
  private readonly snapshotLimit: number;
  private readonly now: () => number;
  /** Bumped on every change to the open incidents: the serialized snapshot is reused until then. */
  private generation = 0;
  private snapshotCache: { generation: number; cursor: string; byReason: Map<SnapshotReason, Buffer> } | null = null;
  lastChangeAt: number | null = null;

  constructor(private readonly opts: HubOptions = {}) {
    this.replayLimit = opts.replayLimit ?? 2000;
    this.replayBytes = opts.replayBytes ?? 8 * 1024 * 1024;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.lagTimeoutMs = opts.lagTimeoutMs ?? 30_000;
    this.snapshotLimit = opts.snapshotLimit ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  get cursor(): string {
    return `${this.instance}.${this.seq}`;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  openIncidents(): Incident[] {
    return [...this.open.values()].sort((a, b) => Date.parse(b.last_seen) - Date.parse(a.last_seen));
  }

  /** Seeds the open incidents from the store; newer versions already applied from the topic win. */
  load(incidents: Incident[]): void {
    for (const i of incidents) {
      if ((this.versions.get(i.id) ?? -1) >= i.version) continue;
      this.remember(i);
    }
  }

  /** Applies one change; returns false for a stale or duplicate one (nothing is sent). */
  apply(change: IncidentChange): boolean {
    const inc = change.incident;
    if (change.type !== 'purged' && (this.versions.get(inc.id) ?? -1) >= inc.version) return false;
    if (change.type === 'purged') {
      this.generation += 1;
      this.open.delete(inc.id);
      this.versions.delete(inc.id);
    } else {
      this.remember(inc);
    }
    this.seq += 1;
    this.lastChangeAt = this.now();
    const msg = encode({ type: 'change', cursor: this.cursor, change });
    this.buffer.push({ seq: this.seq, message: msg });
    this.bufferBytes += msg.length;
    while (this.buffer.length > this.replayLimit || (this.bufferBytes > this.replayBytes && this.buffer.length > 1)) {
      this.bufferBytes -= this.buffer.shift()!.message.length;
    }
    for (const c of this.clients) this.deliver(c, msg);
    this.opts.onDeliver?.(change);
    return true;
  }

  private remember(inc: Incident): void {
    this.generation += 1;
    this.versions.delete(inc.id);
    this.versions.set(inc.id, inc.version);
    // Versions of closed incidents are kept (to drop stale copies) up to a bound, oldest forgotten first.
    if (this.versions.size > 100_000) this.versions.delete(this.versions.keys().next().value!);
    if (OPEN.has(inc.status)) this.open.set(inc.id, inc);
    else this.open.delete(inc.id);
  }

  /** A new client: the changes after its cursor when this instance still has them, else a snapshot. */
  attach(socket: StreamSocket, since?: string): () => void {
    const client: Client = { socket, laggingSince: null, pending: null };
    this.clients.add(client);
    const after = since === undefined ? null : this.replayableAfter(since);
    if (after) {
      for (const { message } of after) this.deliver(client, message);
      this.deliver(client, encode({ type: 'replayed', cursor: this.cursor, count: after.length }));
    } else {
      this.sendSnapshot(client, since === undefined ? 'connect' : 'unknown_cursor');
    }
    return () => this.clients.delete(client);
  }

  /** Whether a client reconnecting with this cursor is served from the replay buffer (no snapshot). */
  canReplay(since: string | undefined): boolean {
    return since !== undefined && this.replayableAfter(since) !== null;
  }

  private replayableAfter(since: string): { seq: number; message: Buffer }[] | null {
    const [instance, seqText] = since.split('.');
    const seq = Number(seqText);
    if (instance !== this.instance || !Number.isSafeInteger(seq) || seq > this.seq) return null;
    const oldest = this.buffer[0]?.seq ?? this.seq + 1;
    if (seq < oldest - 1) return null;
    return this.buffer.filter((b) => b.seq > seq);
  }

  resync(socket: StreamSocket, reason: SnapshotReason): void {
    for (const c of this.clients) if (c.socket === socket) this.sendSnapshot(c, reason);
  }

  /**
   * A snapshot goes through the same back-pressure as changes: while the client has more than a quarter
   * of the buffer limit unsent (an earlier snapshot, say) it is held back and gets one snapshot when it
   * drains, so that however many resyncs it asks for, its unsent bytes stay under that plus one snapshot.
   */
  private sendSnapshot(client: Client, reason: SnapshotReason): void {
    if (client.laggingSince !== null) {
      client.pending ??= reason;
      return;
    }
    if (client.socket.bufferedAmount > this.maxBuffered / 4) {
      client.laggingSince = this.now();
      client.pending = reason;
      return;
    }
    this.opts.onSnapshot?.(reason);
    client.socket.send(this.snapshotMessage(reason), TEXT);
  }

  /**
   * One Buffer per reason until the open incidents change, sent as is to every client that asks: ws
   * frames it without copying, so a thousand snapshots of the same state hold one copy of it.
   */
  private snapshotMessage(reason: SnapshotReason): Buffer {
    if (this.snapshotCache?.generation !== this.generation || this.snapshotCache.cursor !== this.cursor) {
      this.snapshotCache = { generation: this.generation, cursor: this.cursor, byReason: new Map() };
    }
    let msg = this.snapshotCache.byReason.get(reason);
    if (!msg) {
      const open = this.openIncidents();
      const incidents = open.slice(0, this.snapshotLimit);
      msg = encode({ type: 'snapshot', reason, cursor: this.cursor, omitted: open.length - incidents.length, incidents });
      this.snapshotCache.byReason.set(reason, msg);
    }
    return msg;
  }

  private deliver(client: Client, msg: Buffer): void {
    if (client.laggingSince !== null) return;
    if (client.socket.bufferedAmount > this.maxBuffered) {
      client.laggingSince = this.now();
      client.socket.send(encode({ type: 'lagging', message: 'too many changes unsent; a snapshot follows when the connection drains' }), TEXT);
      return;
    }
    client.socket.send(msg, TEXT);
  }

  /** Run on a timer: a held-back client that drained gets a fresh snapshot; one stuck too long is closed. */
  sweep(): void {
    const now = this.now();
    for (const c of this.clients) {
      if (c.laggingSince === null) continue;
      if (c.socket.bufferedAmount <= this.maxBuffered / 4) {
        const reason = c.pending ?? 'slow';
        c.laggingSince = null;
        c.pending = null;
        this.sendSnapshot(c, reason);
      } else if (now - c.laggingSince > this.lagTimeoutMs) {
        this.clients.delete(c);
        this.opts.onDrop?.('slow');
        c.socket.close(1013, 'too slow; reconnect');
      }
    }
  }

  closeAll(code = 1001, reason = 'console stopping'): void {
    for (const c of this.clients) c.socket.close(code, reason);
    this.clients.clear();
  }
}
