import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusProducer, OutgoingMessage } from '../../shared/bus/types.ts';
import { IncidentChangeSchema, type IncidentChange } from '../../shared/incident.ts';
import { createLogger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import type { Trail } from './trail.ts';

/** Tests of the operations jobs: a real embedded store in a temporary folder, a recording producer, a clock set by hand. */
export class RecordingProducer implements BusProducer {
  readonly sent: { topic: string; message: OutgoingMessage }[] = [];
  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    for (const message of messages) this.sent.push({ topic, message });
  }

  async close(): Promise<void> {}

  on(topic: string): OutgoingMessage[] {
    return this.sent.filter((s) => s.topic === topic).map((s) => s.message);
  }

  changes(topic: string): IncidentChange[] {
    return this.on(topic).map((m) => IncidentChangeSchema.parse(JSON.parse(m.value)));
  }
}

export class ManualClock {
  constructor(private t: number) {}
  now = (): Date => new Date(this.t);
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export async function operationsHarness(startIso: string) {
  const store = new EmbeddedIncidentStore(mkdtempSync(join(tmpdir(), 'canhgac-ops-')));
  await store.init();
  const producer = new RecordingProducer();
  const clock = new ManualClock(Date.parse(startIso));
  const trail: Trail = { store, producer, incidentsTopic: 't.soc.incidents', now: clock.now, log: createLogger('operations-test') };
  return { store, producer, clock, trail };
}
