import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Bus, BusConsumer, BusProducer } from '../../shared/bus/types.ts';
import { IncidentChangeSchema, type IncidentChange } from '../../shared/incident.ts';
import type { Logger } from '../../shared/log.ts';

export interface ChangeFeedOptions {
  bus: Bus;
  /** topicNames(prefix).incidents */
  topic: string;
  log: Logger;
  /**
   * On joining, each partition is rewound to this long before the start, so that a change published
   * while the startup snapshot was read (and not yet searchable) is still applied; the hub drops the
   * duplicates by version.
   */
  lookbackMs?: number;
  onInvalid?: (reason: string) => void;
}

/**
 * soc.incidents as seen by one console instance. Its consumer group is its own (host, pid, random), so
 * every instance receives every change, and any number of instances stay in step.
 */
export class ChangeFeed {
  readonly groupId = `canhgac-console-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private consumer: BusConsumer | null = null;
  private producer: BusProducer | null = null;
  ready = false;

  constructor(private readonly opts: ChangeFeedOptions) {}

  /** Resolves once subscribed: every change published after that reaches `onChange`. */
  async start(onChange: (change: IncidentChange) => void): Promise<void> {
    const { bus, topic, log } = this.opts;
    const startedAt = Date.now();
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    this.producer = await bus.producer();
    let joined!: () => void;
    const assigned = new Promise<void>((resolve) => (joined = resolve));
    const consumer = await bus.consumer({
      groupId: this.groupId,
      topics: [topic],
      fromBeginning: false,
      onAssigned: async (owned) => {
        for (const tp of owned) consumer.seek(tp, await consumer.offsetForTime(tp, startedAt - (this.opts.lookbackMs ?? 30_000)));
        joined();
      },
    });
    this.consumer = consumer;
    await consumer.run(async (batch) => {
      for (const m of batch.messages) {
        const change = this.decode(m.value, `${m.topic}/${m.partition}@${m.offset}`);
        if (change) onChange(change);
      }
    });
    await assigned;
    this.ready = true;
    log.info({ topic, groupId: this.groupId }, 'incident feed joined');
  }

  private decode(value: string | null, where: string): IncidentChange | null {
    let data: unknown;
    try {
      data = JSON.parse(value ?? '');
    } catch {
      this.invalid(`${where}: not JSON`);
      return null;
    }
    const parsed = IncidentChangeSchema.safeParse(data);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      this.invalid(`${where}: ${i.path.join('.')}: ${i.message}`);
      return null;
    }
    return parsed.data;
  }

  private invalid(reason: string): void {
    this.opts.log.warn({ reason }, 'ignored an unreadable incident change');
    this.opts.onInvalid?.(reason);
  }

  async publish(change: IncidentChange): Promise<void> {
    if (!this.producer) throw new Error('incident feed not started');
    await this.producer.send(this.opts.topic, [{ key: change.incident.id, value: JSON.stringify(change) }]);
  }

  async stop(): Promise<void> {
    this.ready = false;
    await Promise.allSettled([this.consumer?.stop(), this.producer?.close()]);
  }
}
