import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long one stretch of synchronous work (decoding and matching the events of a batch, folding its
 * alerts into incidents) may hold the event loop before it lets the rest of the process run.
 * `canhgac start` runs the console, the collector and the bus in the same loop: a 500-event batch of
 * a cold slow rule held them for 2 s, folding 550 alerts for 0.2-0.5 s on a loaded machine. Short
 * enough for the console to answer well within a second, long enough that the yields cost nothing
 * measurable (one per 20 ms).
 */
export const SLICE_MS = 20;

/**
 * One stretch of work cut into slices: call `due()` between two units of work and, when it says so,
 * `await next()` to give the event loop a turn (timers, sockets, other batches) before going on.
 * Units are never split, so their order within the stretch is kept.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  async next(): Promise<void> {
    await nextTurn();
    this.started = performance.now();
  }
}
