import { ConfigError, loadConfig } from '../../shared/config.ts';
import { CorrelatorConfigSchema } from '../../correlator/config.ts';
import { startCorrelatorService } from '../../correlator/run.ts';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';

export const command: Command = {
  name: 'correlator',
  summary: 'decode soc.raw, apply the rules, write alerts and incidents (Elasticsearch, soc.incidents)',
  usage: `Usage: canhgac correlator --config FILE

Joins the correlator consumer group on soc.raw: decodes every envelope, matches the
single-event rules, re-keys events of cross-host correlations through soc.correlate,
evaluates correlation windows on event time, groups alerts into incidents and writes
them to Elasticsearch and soc.incidents. Offsets are committed only after both
acknowledged. Unreadable envelopes go to soc.dlq with the reason. Rules are reloaded
when a file in the rules folder changes; a broken file keeps its previous version.

  --config FILE   YAML config (see correlator/correlator.example.yml)

Environment: KAFKA_BROKERS, ELASTICSEARCH_URL override the file.`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { config: { type: 'string' } }, false);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.config) throw new UsageError('missing --config FILE');
    let config;
    try {
      config = loadConfig(values.config, CorrelatorConfigSchema);
    } catch (err) {
      if (err instanceof ConfigError) throw new CommandError(err.message);
      throw err;
    }
    let running;
    try {
      running = await startCorrelatorService(config);
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await running.stop();
    return 0;
  },
};
