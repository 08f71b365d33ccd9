import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import { ConfigError, configFromEnv, loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import type { IncidentStore } from '../../shared/store/types.ts';
import { topicNames } from '../../shared/topics.ts';
import { CorrelatorConfigSchema } from '../../correlator/config.ts';
import { AssetRegister } from '../../correlator/detection/assets.ts';
import { DEFAULT_POLICY } from '../../correlator/incidents/grouping.ts';
import { FeedSchema, OperationsSectionSchema, type FeedConfig } from '../../correlator/operations/config.ts';
import { escalateOverdue } from '../../correlator/operations/escalation.ts';
import { NationalExporter } from '../../correlator/operations/national/export.ts';
import { importFeed } from '../../correlator/operations/national/feeds.ts';
import { collectReport, reportHtml, reportText } from '../../correlator/operations/report.ts';
import type { Trail } from '../../correlator/operations/trail.ts';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';

const USAGE = `Usage: canhgac operations report [--from TIME] [--to TIME] [--format text|json|html] [--out FILE]
       canhgac operations escalate
       canhgac operations export [--id INCIDENT]
       canhgac operations import-feed [--feed NAME] [--source FILE_OR_URL --name NAME [--format F]]

The four-layer operations, run once by hand (the correlator runs them on their
cron schedules from the 'operations' section of its config).

report       the operations report of [from, to) (default: the last 24 hours):
             incidents per layer and unit by severity and status, time to
             acknowledge and resolve (mean, median, p90), escalations, overdue
             acknowledgements, national deadlines, layer-3 audit findings, drills.
               --format text (default), json, or html (self-contained, charts
               included); --out FILE writes it there instead of stdout.
escalate     hands every unacknowledged incident past its deadline to the next
             layer (timeline, audit trail, soc.incidents); prints one line each.
export       exports to the national centre (soc.national, and the HTTPS push
             when configured) every real incident that qualifies and was not
             yet exported, or only --id INCIDENT. Never a drill.
import-feed  imports the configured national indicator feeds (or only --feed
             NAME, or an ad-hoc --source with --name) into the rules' lists
             folder; a malformed feed is rejected whole and the previous lists
             stay. Exit 1 when a feed was rejected.

  --config FILE   the correlator's config (kafka, elasticsearch, correlator,
                  operations sections), or the same file as canhgac start (its
                  collector and store sections are ignored with a note);
                  KAFKA_BROKERS, ELASTICSEARCH_URL override it
  --data DIR      without Elasticsearch: the data folder of canhgac start (its store is
                  DIR/store); report only reads it, beside a running start or not,
                  and creates nothing there`;

const ConfigSchema = CorrelatorConfigSchema.extend({ operations: OperationsSectionSchema.prefault({}) });
type Config = z.infer<typeof ConfigSchema>;
/** The sections a `canhgac start` config adds, which operations has no use for. */
const START_ONLY = ['collector', 'store'];

function readConfig(file: string | undefined): Config {
  try {
    if (!file) return configFromEnv(ConfigSchema);
    const config: Config & Record<string, unknown> = loadConfig(
      file,
      ConfigSchema.extend({ collector: z.unknown().optional(), store: z.unknown().optional() }),
    );
    const ignored = START_ONLY.filter((k) => k in config);
    if (ignored.length) process.stderr.write(`canhgac operations: ${file}: ${ignored.join(', ')} not used here, ignored\n`);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.message);
    if (err instanceof z.ZodError) throw new CommandError(`environment: ${err.issues[0]?.message ?? err.message}`);
    throw err;
  }
}

async function openStore(config: Config, data: string | undefined, readOnly = false): Promise<IncidentStore> {
  const store: IncidentStore = config.elasticsearch
    ? ElasticsearchIncidentStore.fromConfig(config.elasticsearch)
    : data
      ? new EmbeddedIncidentStore(join(resolve(data), 'store'), { readOnly })
      : (() => {
          throw new CommandError('no store: set ELASTICSEARCH_URL, give --config FILE with an elasticsearch section, or --data DIR');
        })();
  try {
    await store.init();
  } catch (err) {
    throw new CommandError(`the incident store cannot be opened: ${(err as Error).message}`);
  }
  return store;
}

function parseTime(flag: string, text: string): Date {
  const t = text === 'now' ? Date.now() : Date.parse(text);
  if (!/^now$|^\d{4}-\d{2}-\d{2}/.test(text) || !Number.isFinite(t)) throw new UsageError(`--${flag}: '${text}' is not an ISO 8601 time or 'now'`);
  return new Date(t);
}

function securityLevels(config: Config): (host: string) => number | undefined {
  const { register, findings } = AssetRegister.load(join(config.correlator.rules, 'assets.yml'));
  if (!register)
    throw new CommandError(`${findings[0]?.file ?? 'assets.yml'}:${findings[0]?.line ?? 1}: ${findings[0]?.message ?? 'the asset register cannot be read'}`);
  return (h) => register.lookup(h)?.security_level;
}

const COMMON = { config: { type: 'string' }, data: { type: 'string' } } as const;

async function report(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { ...COMMON, from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
    false,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const format = values.format ?? 'text';
  if (!['text', 'json', 'html'].includes(format)) throw new UsageError(`--format: '${format}' is not text, json or html`);
  const to = values.to ? parseTime('to', values.to) : new Date();
  const from = values.from ? parseTime('from', values.from) : new Date(to.getTime() - 24 * 3600_000);
  if (to <= from) throw new UsageError('--to must be after --from');
  const config = readConfig(values.config);
  const store = await openStore(config, values.data, true);
  try {
    const r = await collectReport(store, { from, to }, new Date(), config.operations.national?.dueSoon ?? 2 * 24 * 3600_000);
    const body = format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : format === 'html' ? reportHtml(r) : reportText(r);
    if (values.out) writeFileSync(values.out, body);
    else process.stdout.write(body);
    return 0;
  } finally {
    await store.close();
  }
}

/** What escalate and export need: the store, a producer on soc.incidents, a clock. */
async function withTrail<T>(config: Config, data: string | undefined, fn: (trail: Trail, topics: ReturnType<typeof topicNames>) => Promise<T>): Promise<T> {
  if (!config.kafka) throw new CommandError('no Kafka configured: set KAFKA_BROKERS or give --config FILE with a kafka section');
  const log = createLogger('operations', {}, config.log.level);
  const store = await openStore(config, data);
  const bus = new KafkaBus(config.kafka, log);
  const topics = topicNames(config.kafka.topicPrefix);
  try {
    const producer = await bus.producer();
    try {
      return await fn({ store, producer, incidentsTopic: topics.incidents, now: () => new Date(), log }, topics);
    } finally {
      await producer.close();
    }
  } finally {
    await bus.close();
    await store.close();
  }
}

async function escalate(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, COMMON, false);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const config = readConfig(values.config);
  const securityLevelOf = securityLevels(config);
  const byLayer: Partial<Record<number, number>> = {};
  for (const [l, ms] of Object.entries(config.operations.escalation.ackAfterByLayer)) if (ms !== undefined) byLayer[Number(l)] = ms;
  const run = await withTrail(config, values.data, (trail) =>
    escalateOverdue(trail, {
      ackDueMsByLevel: DEFAULT_POLICY.ackDueMsByLevel,
      ackDueMsByLayer: byLayer,
      reportDueMs: config.correlator.reportDue,
      securityLevelOf,
    }),
  );
  for (const i of run.escalated) process.stdout.write(`${i.id} layer ${i.layer} ack_due ${i.ack_due} ${i.rule.title}\n`);
  process.stdout.write(`${run.escalated.length} escalated of ${run.checked} unacknowledged${run.truncated ? ' (more remain; run again)' : ''}\n`);
  return 0;
}

async function exportCmd(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...COMMON, id: { type: 'string' } }, false);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const config = readConfig(values.config);
  const national = config.operations.national;
  if (!national) throw new CommandError('no operations.national section in the config: the province identity and the centre are configuration');
  const securityLevelOf = securityLevels(config);
  return withTrail(config, values.data, async (trail, topics) => {
    const exporter = new NationalExporter({
      trail,
      nationalTopic: topics.national,
      config: national,
      securityLevelOf,
      reportDueMs: config.correlator.reportDue,
    });
    if (values.id) {
      let out;
      try {
        out = await exporter.exportIncident(values.id);
      } catch (err) {
        throw new CommandError((err as Error).message);
      }
      process.stdout.write(
        out.kind === 'exported'
          ? `${values.id} exported as ${out.bundle.id}${out.pushed ? ` (pushed, HTTP ${out.pushed.status})` : ''}\n`
          : `${values.id} not exported: ${out.reason}\n`,
      );
      return 0;
    }
    const r = await exporter.exportPending();
    process.stdout.write(`${r.exported} exported, ${r.failed} failed\n`);
    return r.failed ? 1 : 0;
  });
}

async function importFeedCmd(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      config: { type: 'string' },
      feed: { type: 'string' },
      source: { type: 'string' },
      name: { type: 'string' },
      format: { type: 'string' },
      lists: { type: 'string' },
    },
    false,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.source && values.feed) throw new UsageError('--source and --feed exclude each other');
  if (Boolean(values.source) !== Boolean(values.name)) throw new UsageError('--source needs --name (the lists are NAME_ips, NAME_domains, ...)');
  const config = readConfig(values.config);
  let feeds: FeedConfig[];
  if (values.source) {
    const parsed = FeedSchema.safeParse({ name: values.name, source: values.source, ...(values.format ? { format: values.format } : {}) });
    if (!parsed.success) throw new UsageError(`${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    feeds = [parsed.data];
  } else {
    feeds = config.operations.feeds.filter((f) => !values.feed || f.name === values.feed);
    if (!feeds.length)
      throw new CommandError(
        values.feed ? `no feed '${values.feed}' in operations.feeds` : 'no feeds configured (operations.feeds); or give --source FILE_OR_URL --name NAME',
      );
  }
  const listsDir = values.lists ?? join(config.correlator.rules, 'lists');
  const log = createLogger('operations', {}, config.log.level);
  let rejected = 0;
  for (const feed of feeds) {
    const r = await importFeed(feed, listsDir, { now: () => new Date(), log });
    if (r.ok)
      process.stdout.write(
        `${feed.name}: ${Object.entries(r.counts)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}; ${r.skipped.length} skipped\n`,
      );
    else {
      rejected++;
      process.stderr.write(`${feed.name}: rejected, previous lists kept: ${r.reason}\n`);
    }
  }
  return rejected ? 1 : 0;
}

export const command: Command = {
  name: 'operations',
  summary: 'four-layer operations by hand: report, escalate, national export, indicator feed import',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'report':
        return report(rest);
      case 'escalate':
        return escalate(rest);
      case 'export':
        return exportCmd(rest);
      case 'import-feed':
        return importFeedCmd(rest);
      case undefined:
        throw new UsageError('missing subcommand: report, escalate, export or import-feed');
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  },
};
