import { loadConfig } from '../../shared/config.ts';
import { CorrelatorConfigSchema } from '../../correlator/config.ts';
import { startCorrelatorService } from '../../correlator/run.ts';
import { runService, type Command } from '../command.ts';

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
  run(argv) {
    return runService(
      argv,
      (file) => loadConfig(file, CorrelatorConfigSchema),
      (config) => startCorrelatorService(config),
    );
  },
};
