import type { Batch } from '../../shared/bus/types.ts';
import type { Logger } from '../../shared/log.ts';

/**
 * Retries a batch's output (Elasticsearch, Kafka) until it is acknowledged, keeping group membership
 * alive meanwhile, so that an outage of a sink delays the pipeline instead of losing or skipping input.
 * Gives up only when the batch went stale (rebalance, shutdown): its input is then handled again.
 */
export function untilAcknowledged(
  what: string,
  batch: Pick<Batch, 'heartbeat' | 'isStale' | 'partition'>,
  log: Logger,
  write: () => Promise<unknown>,
): Promise<boolean> {
  return heartbeatWhile(batch, attempts(what, batch, log, write));
}

/**
 * Waits for `work` while telling the consumer group, every second, that the batch's member is alive: a
 * write can hang for a while when a sink is going down, and a silent member is evicted (a rebalance).
 */
export async function heartbeatWhile<T>(batch: Pick<Batch, 'heartbeat'>, work: Promise<T>): Promise<T> {
  const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), 1000);
  try {
    return await work;
  } finally {
    clearInterval(beat);
  }
}

async function attempts(what: string, batch: Pick<Batch, 'heartbeat' | 'isStale' | 'partition'>, log: Logger, write: () => Promise<unknown>): Promise<boolean> {
  let delay = 200;
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      if (attempt > 1) log.info({ what, attempt, partition: batch.partition }, 'sink acknowledged again');
      return true;
    } catch (err) {
      if (batch.isStale()) return false;
      if (attempt === 1 || attempt % 10 === 0) log.warn({ what, attempt, partition: batch.partition, err: (err as Error).message }, 'sink failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
      await batch.heartbeat().catch(() => undefined);
    }
  }
}
