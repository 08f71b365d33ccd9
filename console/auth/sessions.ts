import { randomBytes } from 'node:crypto';

export interface Session {
  id: string;
  username: string;
  /** The credential the session was opened with (see credentialOf): a new password or a re-added user has another. */
  credential: string;
  created: number;
  expires: number;
}

/**
 * Sessions held by this console instance (a load balancer in front of several keeps a browser on one).
 * The user name and the credential version are kept: the role is read from the users file on every
 * request, and a session whose credential is no longer the user's is dead.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(username: string, credential: string): Session {
    this.sweep();
    const created = this.now();
    const s = { id: randomBytes(32).toString('base64url'), username, credential, created, expires: created + this.ttlMs };
    this.sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expires <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expires <= now) this.sessions.delete(id);
  }
}
