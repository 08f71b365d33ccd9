import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { stringify } from 'yaml';
import { parseEnvelope, type Envelope } from '../../shared/envelope.ts';
import { canhgacBin } from '../../test/support/cli.ts';

/** Everything on a topic, parsed, in arrival order (one partition: Kafka's order), read by a consumer group of its own. */
export class TopicReader {
  readonly envelopes: Envelope[] = [];
  readonly bad: string[] = [];
  private consumer: Consumer | null = null;

  constructor(
    private readonly brokers: string[],
    private readonly topic: string,
  ) {}

  async start(): Promise<void> {
    const kafka = new Kafka({ clientId: 'collector-test-reader', brokers: this.brokers, logLevel: logLevel.NOTHING });
    this.consumer = kafka.consumer({ groupId: `reader-${this.topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const p = parseEnvelope(message.value);
        if (p.ok) this.envelopes.push(p.envelope);
        else this.bad.push(p.reason);
      },
    });
  }

  lines(): Envelope[] {
    return this.envelopes.filter((e) => e.kind === 'line');
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function writeConfig(file: string, config: object): string {
  writeFileSync(file, stringify(config));
  return file;
}

/** The real executable as a child process, so that a test can kill -9 it; its log goes next to the config. */
export function spawnCollector(configFile: string): ChildProcess & { exited: Promise<number | null> } {
  const log = openSync(`${configFile}.log`, 'a');
  const child = spawn(process.execPath, [canhgacBin, 'collector', '--config', configFile], {
    stdio: ['ignore', 'ignore', log],
    env: { ...process.env, KAFKA_BROKERS: '', CANHGAC_LOG_LEVEL: 'info' },
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return Object.assign(child, { exited });
}

/**
 * Checks one logical file's lines as they arrived: every expected line present with its exact
 * content, first occurrences in the order written; returns how many arrived more than once.
 */
export function checkFileLines(got: Envelope[], expected: string[], label: string): { duplicates: number; missing: number[] } {
  const index = new Map(expected.map((l, i) => [l, i]));
  const seen = new Set<number>();
  let duplicates = 0;
  let last = -1;
  const outOfOrder: number[] = [];
  for (const e of got) {
    const i = index.get(e.line);
    if (i === undefined) throw new Error(`${label}: unexpected line ${JSON.stringify(e.line.slice(0, 80))}`);
    if (seen.has(i)) {
      duplicates++;
      continue;
    }
    seen.add(i);
    if (i < last) outOfOrder.push(i);
    last = i;
  }
  if (outOfOrder.length) throw new Error(`${label}: ${outOfOrder.length} lines out of order, first ${outOfOrder[0]}`);
  const missing = expected.map((_, i) => i).filter((i) => !seen.has(i));
  return { duplicates, missing };
}
