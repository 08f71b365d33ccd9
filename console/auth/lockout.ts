/**
 * Per-account lockout beside the per-address rate limit: an attacker rotating addresses still meets it.
 * After `freeFailures` wrong passwords in a row for one name, that name is locked for `baseMs`, doubling
 * with every further failure up to `maxMs`; a correct login clears it. Names that do not exist are
 * tracked too (so that a lock tells nothing about which names exist), in a bounded map.
 */
export interface LockoutOptions {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
  /** A name whose last failure is older than this starts again from zero. */
  forgetAfterMs: number;
  maxTracked: number;
}

export const LOCKOUT_DEFAULTS: LockoutOptions = { freeFailures: 5, baseMs: 30_000, maxMs: 15 * 60_000, forgetAfterMs: 60 * 60_000, maxTracked: 10_000 };

interface Record {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
}

export class AccountLockout {
  readonly options: LockoutOptions;
  private readonly accounts = new Map<string, Record>();

  constructor(
    options: Partial<LockoutOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...LOCKOUT_DEFAULTS, ...options };
  }

  /** Milliseconds until this name may try again (0: it may now). */
  lockedFor(name: string): number {
    const r = this.current(name);
    return r ? Math.max(0, r.lockedUntil - this.now()) : 0;
  }

  failed(name: string): void {
    const now = this.now();
    const key = keyOf(name);
    const r = this.current(name) ?? { failures: 0, lastFailure: now, lockedUntil: 0 };
    r.failures += 1;
    r.lastFailure = now;
    const over = r.failures - this.options.freeFailures;
    if (over >= 0) r.lockedUntil = now + Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(over, 30));
    // Re-inserted so that the map's order is by last failure and the oldest goes first when it is full.
    this.accounts.delete(key);
    this.accounts.set(key, r);
    if (this.accounts.size > this.options.maxTracked) this.accounts.delete(this.accounts.keys().next().value!);
  }

  succeeded(name: string): void {
    this.accounts.delete(keyOf(name));
  }

  private current(name: string): Record | undefined {
    const key = keyOf(name);
    const r = this.accounts.get(key);
    if (r && this.now() - r.lastFailure > this.options.forgetAfterMs && r.lockedUntil <= this.now()) {
      this.accounts.delete(key);
      return undefined;
    }
    return r;
  }
}

/** User names are lower-case: `Admin` and `admin` are one account to lock. */
function keyOf(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}
