import { resolve } from 'node:path';
import { ZodError } from 'zod';
import { ConfigError } from '../../shared/config.ts';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';
import { loadStartConfig } from '../start/config.ts';
import { startAllInOne, type RunningStart } from '../start/run.ts';

const DEFAULT_PORT = 8080;
/** The data folder of `start`, and of the commands that work on it (drill, report), when --data is not given. */
export const DEFAULT_DATA = 'canhgac-data';

function banner(r: RunningStart, dataDir: string): string {
  const url = r.address.replace('://127.0.0.1', '://localhost');
  const lines = [
    r.mode === 'embedded'
      ? `canhgac is running in one process (in-memory bus, incidents stored in ${dataDir})`
      : 'canhgac is running against Kafka and Elasticsearch',
    `  console   ${url}/`,
  ];
  if (r.admin.created) {
    lines.push(
      r.admin.password
        ? `  login     ${r.admin.username} / ${r.admin.password}   (shown this once; change it: canhgac users passwd ${r.admin.username} --file ${r.usersFile})`
        : `  login     ${r.admin.username} / the password in CANHGAC_ADMIN_PASSWORD`,
    );
  } else {
    lines.push(`  login     a user of ${r.usersFile} (canhgac users list --file ${r.usersFile})`);
  }
  for (const [name, at] of Object.entries(r.listening)) lines.push(`  syslog    ${name} on ${at.address}:${at.port}`);
  if (r.demoDrill) lines.push(`  demo      replaying the SSH brute-force drill as ${r.demoDrill}: incidents appear within a minute (--no-demo to start empty)`);
  lines.push('Stop with Ctrl-C; everything is kept for the next start.');
  return `${lines.join('\n')}\n`;
}

export const command: Command = {
  name: 'start',
  summary: 'the whole pipeline and the console in one process (embedded default, or Kafka and Elasticsearch)',
  usage: `Usage: canhgac start [--port N] [--data DIR] [--no-demo] [--rules DIR] [--config FILE] [--host HOST]

Runs the correlator (with escalation, audits and the national export), the console and,
with --config, the collector's sources, in one process. With neither KAFKA_BROKERS nor
ELASTICSEARCH_URL set, an in-memory bus stands in for Kafka and an embedded store under
DIR/store stands in for Elasticsearch: nothing else to install. With both set, the same
components run against Kafka and Elasticsearch.

The first start creates the console user 'admin' in DIR/users.json with a random password
printed once (or CANHGAC_ADMIN_PASSWORD, at least 12 characters). Unless --no-demo, a bundled
recording (SSH brute force against a shared server) is replayed as a drill at x20 with its
times moved to now, so that the console shows live incidents within a minute.

  --port N        console port on HOST (default ${DEFAULT_PORT}; 0 picks a free one)
  --host HOST     console address (default 127.0.0.1)
  --data DIR      users, incidents, alerts, audit trail and collector checkpoints (default ./${DEFAULT_DATA})
  --no-demo       start empty: no demo drill
  --rules DIR     the rules folder (default: the bundled rule pack); hot-reloaded, so an
                  administrator can try a rule on the demo or on live sources
  --config FILE   YAML with optional sections:
                    collector:   sources as in canhgac collector (file tail, syslog), dataDir
                                 defaults to DIR/collector; no kafka section needed
                    correlator:  as in canhgac correlator (rules: the rules folder, default the
                                 bundled pack, hot-reloaded)
                    operations:  escalation, audits, national export (correlator/operations)
                    store:       { retentionMonths: 12 }   the embedded store: alerts and closed
                                 incidents older than this are deleted
                    console:     as in canhgac console: tls, behindTlsProxy, trustedProxies,
                                 lockout, stream, sessionTtlMinutes, loginAttemptsPerMinute,
                                 metricsToken (the address is --host/--port, the users DIR/users.json)
                    log:         { level: info }   (default warn; also CANHGAC_LOG_LEVEL)

One start owns its data folder: a second one on the same folder exits 1 naming the lock
DIR/canhgac.lock. The embedded default listens on DIR/canhgac.sock (owner only) for
'canhgac drill replay|purge --data DIR'.

SIGTERM or SIGINT stops reading, lets the correlator finish what it holds, and closes the store.`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        'no-demo': { type: 'boolean' },
        config: { type: 'string' },
        rules: { type: 'string' },
      },
      false,
    );
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port '${values.port}' is not a port number (0-65535)`);
    const dataDir = resolve(values.data ?? DEFAULT_DATA);
    let config;
    try {
      config = loadStartConfig(values.config, dataDir);
    } catch (err) {
      if (err instanceof ConfigError) throw new CommandError(err.message);
      if (err instanceof ZodError) throw new CommandError(`environment: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      throw err;
    }
    if (values.rules) config = { ...config, correlator: { ...config.correlator, rules: resolve(values.rules) } };
    let running: RunningStart;
    try {
      running = await startAllInOne({
        config,
        dataDir,
        host: values.host ?? '127.0.0.1',
        port,
        demo: !values['no-demo'],
        adminPassword: process.env.CANHGAC_ADMIN_PASSWORD,
      });
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
    process.stdout.write(banner(running, dataDir));
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    process.stderr.write('stopping...\n');
    await running.stop();
    process.stderr.write('stopped\n');
    return 0;
  },
};
