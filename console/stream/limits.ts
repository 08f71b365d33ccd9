/**
 * How much of the live stream one viewer may take: sockets per session, per user and in all, and
 * snapshots (on connect, or asked for with `resync`) per session and per user. A snapshot costs the
 * console the serialization and the buffer of every open incident, so it is the one thing a viewer
 * could ask for in a loop; a token bucket lets a burst through (tabs opening, a reconnect) and then
 * one at the refill rate.
 */
export interface StreamLimitOptions {
  socketsPerSession: number;
  socketsPerUser: number;
  socketsTotal: number;
  snapshotsPerSessionPerMinute: number;
  snapshotsPerUserPerMinute: number;
}

export const STREAM_LIMIT_DEFAULTS: StreamLimitOptions = {
  socketsPerSession: 8,
  socketsPerUser: 32,
  socketsTotal: 1000,
  snapshotsPerSessionPerMinute: 12,
  snapshotsPerUserPerMinute: 60,
};

export type SocketRefusal = 'session_sockets' | 'user_sockets' | 'total_sockets';

interface Bucket {
  tokens: number;
  at: number;
}

class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {}

  /** Takes a token when there is one. */
  take(key: string): boolean {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    return true;
  }

  has(key: string): boolean {
    const b = this.buckets.get(key);
    if (!b) return true;
    return Math.min(this.perMinute, b.tokens + ((this.now() - b.at) * this.perMinute) / 60_000) >= 1;
  }

  /** Forgets buckets that are full again, so that the maps hold only recent askers. */
  prune(): void {
    const now = this.now();
    for (const [k, b] of this.buckets) if (b.tokens + ((now - b.at) * this.perMinute) / 60_000 >= this.perMinute) this.buckets.delete(k);
  }
}

export class StreamLimits {
  readonly options: StreamLimitOptions;
  private readonly perSession = new Map<string, number>();
  private readonly perUser = new Map<string, number>();
  private total = 0;
  private readonly sessionSnapshots: TokenBuckets;
  private readonly userSnapshots: TokenBuckets;

  constructor(options: Partial<StreamLimitOptions> = {}, now: () => number = Date.now) {
    this.options = { ...STREAM_LIMIT_DEFAULTS, ...options };
    this.sessionSnapshots = new TokenBuckets(this.options.snapshotsPerSessionPerMinute, now);
    this.userSnapshots = new TokenBuckets(this.options.snapshotsPerUserPerMinute, now);
  }

  /**
   * Whether one more socket would be refused, without taking it (to answer the upgrade with 429); a
   * socket that starts with a snapshot (not resumed from a cursor) also needs one in the budget.
   */
  refusal(user: string, session: string, needsSnapshot = true): SocketRefusal | 'snapshots' | null {
    if (this.total >= this.options.socketsTotal) return 'total_sockets';
    if ((this.perUser.get(user) ?? 0) >= this.options.socketsPerUser) return 'user_sockets';
    if ((this.perSession.get(session) ?? 0) >= this.options.socketsPerSession) return 'session_sockets';
    if (needsSnapshot && (!this.sessionSnapshots.has(session) || !this.userSnapshots.has(`u:${user}`))) return 'snapshots';
    return null;
  }

  /** Takes a socket slot; returns its release, or why it was refused. */
  open(user: string, session: string): { release: () => void } | { refused: SocketRefusal } {
    const refused = this.refusal(user, session, false);
    if (refused === 'total_sockets' || refused === 'user_sockets' || refused === 'session_sockets') return { refused };
    this.total += 1;
    bump(this.perUser, user, 1);
    bump(this.perSession, session, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        bump(this.perUser, user, -1);
        bump(this.perSession, session, -1);
      },
    };
  }

  /** One snapshot for this session: false when the session or the user has used up its budget. */
  snapshot(user: string, session: string): boolean {
    if (!this.sessionSnapshots.has(session) || !this.userSnapshots.has(`u:${user}`)) return false;
    return this.sessionSnapshots.take(session) && this.userSnapshots.take(`u:${user}`);
  }

  prune(): void {
    this.sessionSnapshots.prune();
    this.userSnapshots.prune();
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
