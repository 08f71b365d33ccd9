import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { stringify } from 'yaml';
import { envelopePrefix, envelopeValue } from '../../../collector/record.ts';
import { topicNames } from '../../../shared/topics.ts';
import { compiledBin } from '../../support/cli.ts';
import { withRatio, type BenchContext, type BenchSuite, type Figure } from '../figure.ts';

/**
 * The collector tailing one file and shipping to a real broker, pinned to one core, against
 * kafkajs alone producing the same envelopes (built beforehand) with the collector's producer
 * settings and batch size, on the same core, in the same run. The collector runs twice: with
 * V8's default heap sizes and with the NODE_OPTIONS the example config recommends.
 */
const LINES = 200_000;
const BATCH = 500;
const ROUNDS = 2;
const HOST = 'bench-host';

function logLine(i: number): string {
  return `<134>Nov 26 08:00:00 fw01 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=10.1.${i % 250}.${i % 200} DST=10.2.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${i % 65536} DF PROTO=TCP SPT=${1024 + (i % 60000)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 seq=${i}`;
}

async function highWatermark(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, o) => n + Number(o.high), 0);
}

async function createTopic(admin: Admin, topic: string): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
}

async function baselineRate(kafka: Kafka, topic: string, lines: string[], source: string): Promise<number> {
  const prefix = envelopePrefix({ host: HOST, source, format: 'auto' });
  const received = new Date().toISOString();
  let offset = 0;
  const messages = lines.map((line) => {
    const value = envelopeValue(prefix, `${HOST}:pre:${offset}`, received, line, false);
    offset += Buffer.byteLength(line) + 1;
    return { key: HOST, value };
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  // On one core, like the collector: every thread of this process to cpu 0 for the run, then back.
  const mask = pinSelf();
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += BATCH) {
    inflight.push(producer.send({ topic, acks: -1, messages: messages.slice(i, i + BATCH) }));
    if (inflight.length >= 4) await inflight.shift();
  }
  await Promise.all(inflight);
  const secs = (performance.now() - t0) / 1000;
  if (mask) spawnSync('taskset', ['-a', '-p', mask, String(process.pid)], { stdio: 'ignore' });
  await producer.disconnect();
  return messages.length / secs;
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Pins this process to cpu 0 and returns the previous affinity mask (hex), or null without taskset. */
function pinSelf(): string | null {
  if (!hasTaskset()) return null;
  const before = /:\s*([0-9a-f]+)\s*$/.exec(spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }).stdout)?.[1];
  if (!before) return null;
  spawnSync('taskset', ['-a', '-p', '1', String(process.pid)], { stdio: 'ignore' });
  return before;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The V8 heap settings collector.example.yml recommends for production (NODE_OPTIONS). */
export const TUNED_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=96';

async function collectorRun(
  ctx: BenchContext,
  admin: Admin,
  prefix: string,
  dir: string,
  text: string,
  nodeOptions: string,
): Promise<{ rate: number; rssMax: number }> {
  const topic = topicNames(prefix).raw;
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  const logFile = join(dir, 'logs', 'fw.log');
  writeFileSync(logFile, '');
  const config = join(dir, 'collector.yml');
  writeFileSync(
    config,
    stringify({
      kafka: { brokers: ctx.kafkaBrokers, topicPrefix: prefix },
      log: { level: 'warn' },
      collector: {
        host: HOST,
        dataDir: join(dir, 'data'),
        pollMs: 50,
        heartbeatSeconds: 3600,
        sources: [{ type: 'file', name: 'fw', paths: [join(dir, 'logs', '*.log')], startAt: 'beginning' }],
        shipping: { batchRecords: BATCH },
        metrics: { listen: { host: '127.0.0.1', port: 0 } },
      },
    }),
  );
  const pin = hasTaskset() ? ['taskset', '-c', '0'] : [];
  const [cmd, ...args] = [...pin, process.execPath, compiledBin, 'collector', '--config', config];
  const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KAFKA_BROKERS: '', NODE_OPTIONS: nodeOptions } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    // Started once it tails the empty file (its checkpoint file appears).
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(dir, 'data', 'checkpoints', 'fw.json'))) {
      if (Date.now() > deadline) throw new Error('the collector did not start within 30 s');
      await sleep(50);
    }
    // taskset execs the command, so the child's pid is the collector's.
    const pid = child.pid!;
    let rssMax = rssMb(pid);
    ctx.log(`collector (pid ${pid}${pin.length ? ', pinned to cpu 0' : ''}${nodeOptions ? `, NODE_OPTIONS=${nodeOptions}` : ''}): appending ${LINES} lines`);
    const t0 = performance.now();
    appendFileSync(logFile, text);
    let shipped = 0;
    let polls = 0;
    while (shipped < LINES) {
      await sleep(20);
      if (++polls % 5 === 0) rssMax = Math.max(rssMax, rssMb(pid));
      shipped = await highWatermark(admin, topic);
      if (performance.now() - t0 > 300_000) throw new Error(`the collector shipped only ${shipped} of ${LINES} lines in 300 s`);
    }
    const secs = (performance.now() - t0) / 1000;
    rssMax = Math.max(rssMax, rssMb(pid));
    return { rate: LINES / secs, rssMax };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    child.kill('SIGKILL');
  }
}

export const suite: BenchSuite = {
  name: 'collector',
  needsServices: true,
  async run(ctx) {
    const kafka = new Kafka({ clientId: 'canhgac-bench-collector', brokers: ctx.kafkaBrokers!, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const tag = randomBytes(4).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-bench-collector-'));
    const topics: string[] = [];
    const topic = async (name: string) => {
      const t = `bench.collector.${tag}.${name}`;
      await createTopic(admin, t);
      topics.push(t);
      return t;
    };
    const figures: Figure[] = [];
    try {
      // The collector runs as deployed, from the compiled dist/: built now, so the figures are of this code.
      ctx.log('building dist/');
      const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
      if (build.status !== 0) throw new Error('npm run build failed');
      mkdirSync(join(dir, 'logs'));
      const lines = Array.from({ length: LINES }, (_, i) => logLine(i));
      const text = `${lines.join('\n')}\n`;
      // Best of a few rounds: the machine is shared, and a round is only as good as its quietest moment.
      const best = { baseline: 0, plain: 0, tuned: 0, plainRss: 0, tunedRss: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        ctx.log(`round ${round + 1}/${ROUNDS}: kafkajs baseline, ${LINES} pre-built envelopes`);
        best.baseline = Math.max(best.baseline, await baselineRate(kafka, await topic(`r${round}.baseline`), lines, join(dir, 'logs', 'fw.log')));
        const plainPrefix = `bench.collector.${tag}.r${round}.plain.`;
        await topic(`r${round}.plain.soc.raw`);
        const plain = await collectorRun(ctx, admin, plainPrefix, dir, text, '');
        const tunedPrefix = `bench.collector.${tag}.r${round}.tuned.`;
        await topic(`r${round}.tuned.soc.raw`);
        const tuned = await collectorRun(ctx, admin, tunedPrefix, dir, text, TUNED_NODE_OPTIONS);
        best.plain = Math.max(best.plain, plain.rate);
        best.tuned = Math.max(best.tuned, tuned.rate);
        // Memory is reported at its worst.
        best.plainRss = Math.max(best.plainRss, plain.rssMax);
        best.tunedRss = Math.max(best.tunedRss, tuned.rssMax);
      }
      figures.push(
        withRatio({
          bench: 'collector.tail_ship',
          unit: 'lines/s',
          value: Math.round(best.plain),
          baseline: Math.round(best.baseline),
          note: 'target ratio >= 0.7',
        }),
      );
      figures.push(
        withRatio({
          bench: 'collector.tail_ship.tuned',
          unit: 'lines/s',
          value: Math.round(best.tuned),
          baseline: Math.round(best.baseline),
          note: `NODE_OPTIONS=${TUNED_NODE_OPTIONS}`,
        }),
      );
      figures.push({
        bench: 'collector.rss',
        unit: 'MB',
        value: Math.round(best.plainRss),
        note: `peak RSS while shipping ${LINES} lines, default V8 heap; target < 150 MB`,
      });
      figures.push({
        bench: 'collector.rss.tuned',
        unit: 'MB',
        value: Math.round(best.tunedRss),
        note: `peak RSS with NODE_OPTIONS=${TUNED_NODE_OPTIONS}; target < 150 MB`,
      });
    } finally {
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
