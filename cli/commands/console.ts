import { loadConfig } from '../../shared/config.ts';
import { ConsoleConfigSchema } from '../../console/config.ts';
import { startConsoleServer } from '../../console/server.ts';
import { runService, type Command } from '../command.ts';

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
  run(argv) {
    return runService(
      argv,
      (file) => loadConfig(file, ConsoleConfigSchema),
      startConsoleServer,
      (running) => process.stderr.write(`console listening on ${running.address}\n`),
    );
  },
};
