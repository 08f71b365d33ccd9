import { ConfigError, loadConfig } from '../../shared/config.ts';
import { ConsoleConfigSchema } from '../../console/config.ts';
import { startConsoleServer } from '../../console/server.ts';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';

export const command: Command = {
  name: 'console',
  summary: 'the live incident console for responders (web page, REST, WebSocket)',
  usage: `Usage: canhgac console --config FILE

Serves the responders' page, the REST API (/api/...) and the live stream (/ws). Reads
incidents from Elasticsearch and follows soc.incidents in a consumer group of its own,
so any number of consoles can run side by side. Users come from the users file
(canhgac users add NAME --role ROLE); every action is appended to the audit index.

  --config FILE   YAML config with a console section:
                    console:
                      host: 127.0.0.1          port: 8080
                      usersFile: users.json    rules: rules
                      tls: { cert: cert.pem, key: key.pem }   (optional: HTTPS, Secure cookies)
                      sessionTtlMinutes: 720   loginAttemptsPerMinute: 10
                      topicPrefix / indexPrefix (override kafka / elasticsearch)
                      metricsToken: (optional bearer token for Prometheus at /metrics)

Environment: KAFKA_BROKERS, ELASTICSEARCH_URL override the file.`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { config: { type: 'string' } }, false);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.config) throw new UsageError('missing --config FILE');
    let config;
    try {
      config = loadConfig(values.config, ConsoleConfigSchema);
    } catch (err) {
      if (err instanceof ConfigError) throw new CommandError(err.message);
      throw err;
    }
    let running;
    try {
      running = await startConsoleServer(config, values.config);
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
    process.stderr.write(`console listening on ${running.address}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await running.stop();
    return 0;
  },
};
