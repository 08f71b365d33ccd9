import { UsageError, type Command } from '../command.ts';
import { servicesDown, servicesStatus, servicesUp } from '../services/manager.ts';

export const command: Command = {
  name: 'services',
  summary: 'local Kafka and Elasticsearch for development and CI (up, down, status)',
  usage: `Usage: canhgac services up|down|status

  up      fetch Kafka and Elasticsearch from Maven Central once (into .cache/services),
          start a single-node Kafka (KRaft) and Elasticsearch on 127.0.0.1, wait until
          both answer and print the addresses to use
  down    stop exactly the processes that up started
  status  say what runs

Environment: CANHGAC_SERVICES_DIR moves the cache and the data folders.`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
    switch (sub) {
      case 'up': {
        const t0 = Date.now();
        const a = await servicesUp();
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        if (a.downloaded.length) process.stderr.write(`fetched: ${a.downloaded.join(', ')}\n`);
        process.stderr.write(a.started.length ? `started: ${a.started.join(', ')} in ${secs}s\n` : `already running (${secs}s)\n`);
        process.stdout.write(`KAFKA_BROKERS=${a.kafkaBrokers}\nELASTICSEARCH_URL=${a.elasticsearchUrl}\n`);
        return 0;
      }
      case 'down': {
        const stopped = await servicesDown();
        process.stdout.write(stopped.length ? `stopped: ${stopped.join(', ')}\n` : 'nothing was running\n');
        return 0;
      }
      case 'status': {
        for (const s of await servicesStatus()) {
          process.stdout.write(`${s.name} ${s.version}: ${s.running ? `running (pid ${s.pid}) at ${s.address}` : 'stopped'}\n`);
        }
        return 0;
      }
      case undefined:
        throw new UsageError('missing subcommand: up, down or status');
      default:
        throw new UsageError(`unknown subcommand '${sub}': up, down or status`);
    }
  },
};
