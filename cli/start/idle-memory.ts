import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../../shared/log.ts';

/** V8's gc() with its options (exposed by --expose-gc). */
type Gc = (opts: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let exposed: Gc | undefined;

/**
 * The gc() that --expose-gc gives, without asking the user to start Node with the flag: the flag set at
 * run time makes new contexts get gc(), and one such context hands it over.
 */
export function exposedGc(): Gc {
  if (!exposed) {
    setFlagsFromString('--expose-gc');
    exposed = runInNewContext('gc') as Gc;
  }
  return exposed;
}

export interface IdleMemoryOptions {
  /** True while input is arriving or still being handled: nothing is collected then. */
  busy(): boolean;
  /**
   * A count that grows as the pipeline lets go of what it held (the characters of the messages the bus
   * dropped): what it let go is garbage that V8 still counts as heap in use until it collects.
   */
  released(): number;
  /** Gives back caches held outside V8's heap (SQLite's page cache). */
  shrink?(): void;
  /** Gives the free pages inside the C allocator's heap back to the system (glibc's malloc_trim), last. */
  trimNativeHeap?(): void;
  log: Logger;
  /** How often the pipeline is looked at (default 5 s). */
  checkMs?: number;
  /** Heap grown by at least this much since the last collection calls for one (default 64 MB). */
  growthBytes?: number;
  /** So much released since the last collection calls for one (default 16 M: about 16 to 32 MB of heap). */
  releasedCount?: number;
  /** At most one collection per this much time (default 30 s): a full collection pauses the event loop. */
  minGapMs?: number;
}

/**
 * After a burst (a syslog flood, a drill at full speed), once the pipeline is quiet, one full collection
 * that also gives memory back to the system. Left alone, V8 barely collects a process that went idle, and
 * what it does free it keeps mapped for reuse: measured after two 300k-line floods, 1.4 GB of heap in use
 * with 0.5 GB alive. A regular major collection frees the objects but keeps the pages (RSS stays); the
 * "last resort" flavour (what V8 does under memory pressure) compacts and unmaps them. What the C heap
 * freed goes back with SQLite's cache and glibc's trim, after the collection has freed what V8 held there.
 */
export function giveBackMemoryWhenIdle(o: IdleMemoryOptions): { stop(): void } {
  const growth = o.growthBytes ?? 64 * 2 ** 20;
  const minGap = o.minGapMs ?? 30_000;
  const releasedCount = o.releasedCount ?? 16 * 2 ** 20;
  let live = process.memoryUsage().heapUsed;
  let released = o.released();
  let last = 0;
  const timer = setInterval(() => {
    // Asked at every check: busy() may compare with what it saw at the previous one.
    if (o.busy() || Date.now() - last < minGap) return;
    const before = process.memoryUsage();
    if (before.heapUsed - live < growth && o.released() - released < releasedCount) return;
    const t0 = performance.now();
    exposedGc()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    o.shrink?.();
    o.trimNativeHeap?.();
    const after = process.memoryUsage();
    live = after.heapUsed;
    released = o.released();
    last = Date.now();
    const mb = (n: number) => Math.round(n / 2 ** 20);
    o.log.info(
      { heapUsedMb: [mb(before.heapUsed), mb(after.heapUsed)], rssMb: [mb(before.rss), mb(after.rss)], ms: Math.round(performance.now() - t0) },
      'pipeline quiet after a burst: memory given back',
    );
  }, o.checkMs ?? 5000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
