import type { BusProducer } from '../../shared/bus/types.ts';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SingleBar } from 'cli-progress';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import { BaseConfigSchema, ConfigError, configFromEnv, loadConfig, type BaseConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import type { IncidentStore } from '../../shared/store/types.ts';
import { topicNames } from '../../shared/topics.ts';
import { parseTimespan } from '../../correlator/detection/parse/timespan.ts';
import { purgeDrill } from '../../correlator/drills/purge.ts';
import { recordDrill } from '../../correlator/drills/recording.ts';
import { parseSpeed, replayAuditEntry, replayRecording, type ReplayProgress, type ReplayResult } from '../../correlator/drills/replay.ts';
import { scoreReportHtml } from '../../correlator/drills/report-html.ts';
import { loadScenario, ScenarioError } from '../../correlator/drills/scenario.ts';
import { formatScoreText, scoreDrill } from '../../correlator/drills/score.ts';
import { DRILL_QUIET_MS, DRILL_QUIET_TIMEOUT_MS, untilDrillQuiet } from '../../correlator/drills/settle.ts';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';
import { BUNDLED_RULES } from '../start/config.ts';
import { callControl, NoRunningStartError, type ReplayRequest } from '../start/control.ts';
import { DEFAULT_DATA } from './start.ts';

const USAGE = `Usage: canhgac drill record --out FILE [--from TIME --to TIME | --duration D] [--hosts H1,H2]
       canhgac drill replay FILE|NAME --speed N [--drill-id ID] [--loop] [--rebase now]
       canhgac drill score SCENARIO|NAME --drill-id ID [--out-dir DIR] [--shift MS]
       canhgac drill purge ID

Live-fire drills: record real traffic from soc.raw, replay it as a drill at any
speed, score the team against a scenario, and remove the drill afterwards.

record   captures envelopes from soc.raw into FILE (NDJSON; gzip when FILE ends
         in .gz), keeping their original timestamps.
           --from TIME, --to TIME   ISO 8601 times (or 'now'): envelopes received
                                    in [from, to); a past window ends by itself
           --duration D             from now, for D (90s, 5m, 1h)
           --hosts H1,H2            only these hosts (repeatable)
         Without --to or --duration it records until Ctrl-C.

replay   produces FILE's lines to soc.raw as new envelopes of one drill, spaced
         as recorded divided by N. Event times come from the lines, so x1 and
         x100 give the same incidents; only the wall-clock pacing changes.
           --speed N        0.1 to 1000, or 'max' (as fast as Kafka takes it)
           --drill-id ID    default: drill-<date>-<random>, printed at the end
           --loop           start again at the end, later in time each pass
           --rebase now     move the recording to the present: every event
                            time is shifted by the same amount, so that the
                            last one falls on now (timeShiftMs in each
                            envelope; the lines themselves are unchanged)
         Ctrl-C stops after the lines already sent and says how far it got
         (exit status 130). With Elasticsearch configured, the replay is kept
         in the audit trail, which is where 'score' finds its time shift.

score    reads the drill's incidents from Elasticsearch and compares them with
         the scenario: expected, found, missed, unexpected; time to detect per
         incident; time to acknowledge and resolve; escalations. Prints the
         report and writes <drill>.score.html and <drill>.score.json.
           --out-dir DIR    where the files go (default: the current folder)
           --shift MS       the replay's time shift, when the audit trail does
                            not have it (replay without Elasticsearch)
         Exit status 0 when every expected incident was detected in time, 1 otherwise.

purge    removes the alerts and incidents of drill ID (never real ones) and
         records the purge in the audit trail.

Score and purge of a drill that changed in the last 8 s (its replay just
ended, the correlators are writing its last incidents) first wait until it
has been quiet for 8 s, up to 60 s; a drill still replaying is refused.

NAME is a bundled drill (ssh-brute-force, malware-outbreak, port-scan-sweep,
silent-source): its recording for replay, its scenario for score.

Where it runs: with Kafka and Elasticsearch configured, against them. With
neither, against the 'canhgac start' that owns the data folder: replay and
purge are done by that running instance (its in-process bus, through the
control socket DIR/canhgac.sock, open to the folder's owner only), score
reads its store DIR/store; the start keeps the replay in its audit trail.
There a replay is always rebased to now, and a purge also removes the
drill's incidents from open console pages. There score and purge first wait
(up to 60 s) for the start's correlator to close the drill's last windows, a
few seconds after its replay ends; a drill still replaying is refused.
  --data DIR      the start's data folder (default ./canhgac-data), as in
                  canhgac start --data DIR
  --config FILE   the same file as canhgac start or canhgac correlator take:
                  its kafka and elasticsearch sections are used, any other
                  section is ignored with a note; KAFKA_BROKERS and
                  ELASTICSEARCH_URL override it.`;

/**
 * The kafka and elasticsearch sections of FILE; the other sections of a `start` or `correlator` config
 * (collector, correlator, operations...) are ignored with a note, so that one file serves every command.
 */
function readConfig(file: string | undefined): BaseConfig {
  try {
    if (!file) return configFromEnv(BaseConfigSchema);
    const loose = loadConfig(file, z.looseObject(BaseConfigSchema.shape));
    const known = Object.keys(BaseConfigSchema.shape);
    const ignored = Object.keys(loose).filter((k) => !known.includes(k));
    if (ignored.length)
      process.stderr.write(`canhgac drill: ${file}: section${ignored.length > 1 ? 's' : ''} ${ignored.join(', ')} not used by drill, ignored\n`);
    return Object.fromEntries(Object.entries(loose).filter(([k]) => known.includes(k))) as BaseConfig;
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.message);
    throw err;
  }
}

/**
 * Where a drill runs: the deployment when Kafka or Elasticsearch is configured (a replay needs Kafka,
 * a score Elasticsearch, a purge Elasticsearch and Kafka when it has one), otherwise the `canhgac start`
 * that owns the data folder (its in-process bus, through the control socket, and its store).
 */
type Target = { kind: 'deployment'; config: BaseConfig } | { kind: 'embedded'; dataDir: string };

function target(config: BaseConfig, data: string | undefined, needs: 'kafka' | 'elasticsearch'): Target {
  if (!config.kafka && !config.elasticsearch) return { kind: 'embedded', dataDir: resolve(data ?? DEFAULT_DATA) };
  if (!config[needs]) {
    const [name, env] = needs === 'kafka' ? ['Kafka', 'KAFKA_BROKERS'] : ['Elasticsearch', 'ELASTICSEARCH_URL'];
    throw new CommandError(`${name} is not configured: set ${env} (or the config's section), or neither service to drill on the canhgac start of --data DIR`);
  }
  return { kind: 'deployment', config };
}

/** A file, or the name of a bundled drill (rules/drills/NAME/...). */
function bundledOr(fileOrName: string, inDrill: string): string {
  if (existsSync(fileOrName)) return resolve(fileOrName);
  const bundled = join(BUNDLED_RULES, 'drills', fileOrName, inDrill);
  if (/^[a-z0-9-]+$/.test(fileOrName) && existsSync(bundled)) return bundled;
  throw new CommandError(
    `${fileOrName}: no such file, nor a bundled drill (${readdirSync(join(BUNDLED_RULES, 'drills'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .join(', ')})`,
  );
}

function bus(config: BaseConfig) {
  if (!config.kafka)
    throw new CommandError("no Kafka configured: set KAFKA_BROKERS or give --config FILE with a kafka section (recording reads a deployment's soc.raw)");
  return { bus: new KafkaBus(config.kafka, createLogger('drill')), topics: topicNames(config.kafka.topicPrefix) };
}

function store(config: BaseConfig): ElasticsearchIncidentStore {
  if (!config.elasticsearch) throw new CommandError('no Elasticsearch configured: set ELASTICSEARCH_URL or give --config FILE with an elasticsearch section');
  return ElasticsearchIncidentStore.fromConfig(config.elasticsearch);
}

function parseTime(flag: string, text: string): number {
  const t = text === 'now' ? Date.now() : Date.parse(text);
  if (!/^now$|^\d{4}-\d{2}-\d{2}/.test(text) || !Number.isFinite(t)) throw new UsageError(`--${flag}: '${text}' is not an ISO 8601 time or 'now'`);
  return t;
}

const actor = () => `cli:${process.env.USER ?? userInfo().username}`;

/** An AbortSignal raised by the first Ctrl-C (or SIGTERM); a second one leaves the default behaviour. */
function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { signal: ac.signal, dispose: () => (process.off('SIGINT', stop), process.off('SIGTERM', stop)) };
}

async function record(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    out: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    duration: { type: 'string' },
    hosts: { type: 'string', multiple: true },
    config: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!values.out) throw new UsageError('missing --out FILE');
  if (values.duration && (values.from || values.to)) throw new UsageError('--duration cannot be combined with --from/--to');
  let from = values.from ? parseTime('from', values.from) : undefined;
  let to = values.to ? parseTime('to', values.to) : undefined;
  if (values.duration) {
    const ms = parseTimespan(values.duration);
    if (ms === null) throw new UsageError(`--duration: '${values.duration}' is not a duration like 90s, 5m, 1h`);
    from = Date.now();
    to = from + ms;
  }
  if (from !== undefined && to !== undefined && to <= from) throw new UsageError('--to must be after --from');
  const hosts = (values.hosts ?? [])
    .flatMap((h) => h.split(','))
    .map((h) => h.trim())
    .filter(Boolean);
  const { bus: b, topics } = bus(readConfig(values.config));
  const { signal, dispose } = interruptSignal();
  const tty = process.stderr.isTTY === true;
  let last = 0;
  try {
    const r = await recordDrill({
      bus: b,
      topic: topics.raw,
      out: values.out,
      from,
      to,
      hosts,
      signal,
      onStarted: () =>
        process.stderr.write(`recording from ${topics.raw} to ${values.out}${to === undefined ? ' until Ctrl-C' : ` until ${new Date(to).toISOString()}`}\n`),
      onProgress: ({ recorded, seen }) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        process.stderr.write(`${tty ? '\r' : ''}recording: ${recorded} envelopes kept of ${seen} read${tty ? '' : '\n'}`);
      },
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(`${r.stopped ? 'stopped: ' : ''}${r.recorded} envelopes recorded to ${values.out} (${r.seen} read from ${topics.raw})\n`);
    return 0;
  } catch (err) {
    throw new CommandError(`recording failed: ${(err as Error).message}`);
  } finally {
    dispose();
    await b.close();
  }
}

function progressReporter(tty: boolean) {
  const started = Date.now();
  if (tty) {
    const bar = new SingleBar({
      format: 'replay [{bar}] {value}/{total} lines | {rate} lines/s | elapsed {duration_formatted} | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    });
    let begun = false;
    return {
      update(p: ReplayProgress) {
        const rate = Math.round(p.sent / Math.max(0.001, (Date.now() - started) / 1000));
        if (!begun) {
          bar.start(p.total, 0, { rate });
          begun = true;
        }
        bar.update(p.sent - p.pass * p.total, { rate });
      },
      stop: () => begun && bar.stop(),
    };
  }
  let lastPrint = 0;
  return {
    update(p: ReplayProgress) {
      const now = Date.now();
      if (now - lastPrint < 2000) return;
      lastPrint = now;
      const elapsed = (now - started) / 1000;
      process.stderr.write(
        `replay: ${p.sent} lines sent (pass ${p.pass + 1}, ${p.sent - p.pass * p.total}/${p.total}), ${Math.round(p.sent / Math.max(elapsed, 0.001))} lines/s, elapsed ${Math.round(elapsed)}s\n`,
      );
    },
    stop: () => undefined,
  };
}

async function replay(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    speed: { type: 'string' },
    'drill-id': { type: 'string' },
    loop: { type: 'boolean' },
    rebase: { type: 'string' },
    config: { type: 'string' },
    data: { type: 'string' },
  });
  const given = positionals[0];
  if (!given) throw new UsageError('missing the recording FILE (or a bundled drill name)');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  if (!values.speed) throw new UsageError('missing --speed N (0.1 to 1000, or max)');
  const speed = parseSpeed(values.speed);
  if (speed === null) throw new UsageError(`--speed: '${values.speed}' is not a number from 0.1 to 1000 or 'max'`);
  if (values.rebase !== undefined && values.rebase !== 'now') throw new UsageError(`--rebase: only 'now' is supported, not '${values.rebase}'`);
  const drillId = values['drill-id'];
  if (drillId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(drillId)) throw new UsageError('--drill-id: letters, digits, . _ : - (at most 128)');
  const file = bundledOr(given, 'recording.ndjson.gz');
  const where = target(readConfig(values.config), values.data, 'kafka');
  // On the embedded default a replay always lands in the present: the recording's own dates may lie outside its retention.
  if (where.kind === 'embedded') return replayEmbedded(where.dataDir, file, { speed: values.speed, drillId, loop: values.loop, rebase: 'now' });
  const config = where.config;
  const { bus: b, topics } = bus(config);
  const audit = config.elasticsearch ? store(config) : null;
  const { signal, dispose } = interruptSignal();
  const progress = progressReporter(process.stderr.isTTY === true);
  let producer;
  try {
    producer = await b.producer();
    const r = await replayRecording({
      file,
      producer,
      topic: topics.raw,
      speed,
      drillId,
      loop: values.loop,
      rebase: values.rebase === 'now' ? 'now' : undefined,
      signal,
      onProgress: (p) => progress.update(p),
      onSkip: (lineNo, reason) => process.stderr.write(`canhgac drill: ${file}:${lineNo}: skipped: ${reason}\n`),
    });
    progress.stop();
    if (audit) {
      await audit.init();
      await audit.appendAudit(replayAuditEntry(r, file, speed, actor(), new Date()), { refresh: true });
    }
    const how = `drill ${r.drillId}: ${r.sent} lines sent to ${topics.raw}${r.passes > 1 ? ` in ${r.passes} passes` : ''}, time shift ${r.shiftMs} ms${r.skipped ? `, ${r.skipped} skipped` : ''}`;
    if (r.stopped) {
      process.stdout.write(`stopped by Ctrl-C at line ${r.lineNo} of ${file} (${r.sent} of ${r.summary.envelopes} lines sent); ${how}\n`);
      return 130;
    }
    process.stdout.write(`${how}\n`);
    if (!audit) process.stdout.write(`score with: canhgac drill score SCENARIO --drill-id ${r.drillId} --shift ${r.shiftMs}\n`);
    return 0;
  } catch (err) {
    progress.stop();
    throw new CommandError(`replay failed: ${(err as Error).message}`);
  } finally {
    dispose();
    await producer?.close();
    await audit?.close();
    await b.close();
  }
}

async function replayEmbedded(dataDir: string, file: string, o: Omit<ReplayRequest, 'recording' | 'actor'>): Promise<number> {
  process.stderr.write(`replaying ${file} in the canhgac start of ${dataDir}...\n`);
  let answer: { result: ReplayResult; skipped: string[] };
  try {
    answer = await callControl(dataDir, '/drills/replay', { recording: file, actor: actor(), ...o });
  } catch (err) {
    throw new CommandError(err instanceof NoRunningStartError ? err.message : `replay failed: ${(err as Error).message}`);
  }
  for (const s of answer.skipped) process.stderr.write(`canhgac drill: ${s}: skipped\n`);
  const r = answer.result;
  process.stdout.write(
    `drill ${r.drillId}: ${r.sent} lines sent to the start's soc.raw${r.passes > 1 ? ` in ${r.passes} passes` : ''}, time shift ${r.shiftMs} ms${r.skipped ? `, ${r.skipped} skipped` : ''}\n`,
  );
  return 0;
}

async function score(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    'drill-id': { type: 'string' },
    'out-dir': { type: 'string' },
    shift: { type: 'string' },
    config: { type: 'string' },
    data: { type: 'string' },
  });
  const given = positionals[0];
  if (!given) throw new UsageError('missing the SCENARIO file (or a bundled drill name)');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const drillId = values['drill-id'];
  if (!drillId) throw new UsageError('missing --drill-id ID');
  const shiftMs = values.shift === undefined ? undefined : Number(values.shift);
  if (shiftMs !== undefined && !Number.isInteger(shiftMs)) throw new UsageError(`--shift: '${values.shift}' is not a whole number of milliseconds`);
  let scenario;
  try {
    scenario = loadScenario(bundledOr(given, 'scenario.yml'));
  } catch (err) {
    if (err instanceof ScenarioError) throw new CommandError(err.message);
    throw err;
  }
  const where = target(readConfig(values.config), values.data, 'elasticsearch');
  if (where.kind === 'embedded') await settledEmbedded(where.dataDir, drillId);
  const s: IncidentStore = where.kind === 'deployment' ? store(where.config) : new EmbeddedIncidentStore(join(where.dataDir, 'store'), { readOnly: true });
  try {
    if (where.kind === 'embedded') await s.init();
    else if (!(await untilDrillQuiet(s, drillId, { onWait: waitNote(drillId) }))) throw new Error(stillChanging(drillId, 'a score now would miss incidents'));
    const report = await scoreDrill(s, scenario, drillId, { shiftMs });
    const dir = values['out-dir'] ?? '.';
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `${drillId.replace(/[^A-Za-z0-9._-]/g, '_')}.score`);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.html`, scoreReportHtml(report));
    process.stdout.write(`${formatScoreText(report)}\nWrote ${base}.html and ${base}.json\n`);
    return report.passed ? 0 : 1;
  } catch (err) {
    throw new CommandError(`scoring failed: ${(err as Error).message}`);
  } finally {
    await s.close();
  }
}

/** Said on stderr when purge or score of a deployment waits for a drill that changed lately. */
const waitNote = (drillId: string) => (ms: number) =>
  process.stderr.write(
    `drill ${drillId} changed in the last ${DRILL_QUIET_MS / 1000} s: waiting (up to ${Math.round(ms / 1000)} s) until the correlators have written its last incidents\n`,
  );

const stillChanging = (drillId: string, what: string) =>
  `drill ${drillId} is still changing after ${DRILL_QUIET_TIMEOUT_MS / 1000} s (its replay is still sending, a --loop replay runs until Ctrl-C, or the correlators are behind); ${what}. Stop the replay, then try again`;

/**
 * Waits until the start that owns the folder has written every incident of the drill (its last windows
 * close a few seconds after the replay). With no start running, nothing writes: the store is final.
 */
async function settledEmbedded(dataDir: string, drillId: string): Promise<void> {
  try {
    await callControl(dataDir, '/drills/settle', { drillId });
  } catch (err) {
    if (err instanceof NoRunningStartError) return;
    throw new CommandError(`scoring failed: ${(err as Error).message}`);
  }
}

async function purge(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { config: { type: 'string' }, data: { type: 'string' } });
  const drillId = positionals[0];
  if (!drillId) throw new UsageError('missing the drill ID');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const where = target(readConfig(values.config), values.data, 'elasticsearch');
  if (where.kind === 'embedded') {
    try {
      const removed = await callControl<{ alerts: number; incidents: number }>(where.dataDir, '/drills/purge', { drillId, actor: actor() });
      process.stdout.write(`drill ${drillId}: ${removed.incidents} incidents and ${removed.alerts} alerts removed\n`);
      return 0;
    } catch (err) {
      throw new CommandError(err instanceof NoRunningStartError ? err.message : `purge failed: ${(err as Error).message}`);
    }
  }
  const s = store(where.config);
  // With Kafka, open console pages are told of the removal through soc.incidents; without, they drop it on reload.
  const b = where.config.kafka ? bus(where.config) : undefined;
  let producer: BusProducer | undefined;
  try {
    await s.init();
    if (!(await untilDrillQuiet(s, drillId, { onWait: waitNote(drillId) }))) throw new Error(stillChanging(drillId, 'nothing was removed'));
    producer = await b?.bus.producer();
    const removed = await purgeDrill(s, drillId, actor(), new Date(), producer && b ? { producer, incidentsTopic: b.topics.incidents } : undefined);
    process.stdout.write(`drill ${drillId}: ${removed.incidents} incidents and ${removed.alerts} alerts removed\n`);
    return 0;
  } catch (err) {
    throw new CommandError(`purge failed: ${(err as Error).message}`);
  } finally {
    await producer?.close();
    await b?.bus.close();
    await s.close();
  }
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = { record, replay, score, purge };

export const command: Command = {
  name: 'drill',
  summary: 'record traffic, replay it as a drill at any speed, score the team, purge the drill',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub) throw new UsageError('missing a subcommand: record, replay, score or purge');
    const run = SUBCOMMANDS[sub];
    if (!run) throw new UsageError(`unknown subcommand '${sub}' (record, replay, score or purge)`);
    return run(rest);
  },
};
