import { startCollector } from '../../collector/agent.ts';
import { loadCollectorConfig } from '../../collector/config.ts';
import { runService, type Command } from '../command.ts';

export const command: Command = {
  name: 'collector',
  summary: 'tail log files and receive syslog, ship every line to Kafka (soc.raw)',
  usage: `Usage: canhgac collector --config FILE

Runs the collector agent: tails the configured files (with checkpoints, across
rotations and restarts), receives syslog over UDP, TCP and TLS, reads Windows event
log channels (winlog sources, through PowerShell's Get-WinEvent, with a bookmark per
channel), and produces every line to soc.raw keyed by host. While Kafka is unreachable, lines go to a bounded
on-disk spool and are shipped in order when it returns.

  --config FILE   YAML config (see collector/collector.example.yml, and
                  collector/collector.windows.example.yml for a Windows server)

SIGTERM or SIGINT stops reading, flushes to Kafka (or the spool) and saves
checkpoints and bookmarks before exiting.
Environment: KAFKA_BROKERS overrides kafka.brokers.
Recommended: NODE_OPTIONS='--max-semi-space-size=4 --max-old-space-size=96' keeps the
resident memory near 115 MB at full load (about 190 MB with V8's default heap sizes).`,
  run(argv) {
    return runService(
      argv,
      (file) => loadCollectorConfig(file),
      (config) => startCollector(config),
    );
  },
};
