import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BaseConfigSchema, ConfigError, configFromEnv, loadConfig } from '../../shared/config.ts';
import { ConnectionSettingsError, readSecretFile } from '../../shared/connection-files.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { describeElasticsearchError } from '../../shared/store/elasticsearch-connection.ts';
import { componentRoles, monthlyIndexPolicy } from '../../shared/store/elasticsearch-roles.ts';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';

const USAGE = `Usage: canhgac es setup [--config FILE] [--roles [--users DIR]] [--ilm] [--print]

Prepares an Elasticsearch cluster for canhgac, run once by an administrator
(and again after an upgrade): the index templates with the shards and replicas
of elasticsearch.indices, then optionally the roles and an ILM policy.

  --config FILE  a config with an elasticsearch section (the administrator's
                 credentials: apiKey, username/password, tls); ELASTICSEARCH_URL
                 overrides the URL
  --roles        create or update one role per component with the least it
                 needs: <prefix>-correlator, <prefix>-console, <prefix>-operations
  --users DIR    with --roles: for each file DIR/es-<component> (correlator,
                 console, operations), the user canhgac-<component> with that
                 file's password and the component's role (docker-compose.yml)
  --ilm          create the ILM policy <prefix>-monthly (delete a monthly index
                 after retentionMonths + 1 months) and name it in the alerts and
                 audit templates
  --print        change nothing: print the API requests (method, path, body),
                 for a site that applies them by other means

Afterwards give each component its own API key or user with its role, and
elasticsearch.manageTemplates: false.`;

function readConfig(file: string | undefined) {
  try {
    const config = file ? loadConfig(file, BaseConfigSchema) : configFromEnv(BaseConfigSchema);
    if (!config.elasticsearch) throw new CommandError('no Elasticsearch configured: set ELASTICSEARCH_URL or give --config FILE with an elasticsearch section');
    return config.elasticsearch;
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.message);
    if (err instanceof z.ZodError) throw new CommandError(`environment: ${err.issues[0]?.message ?? err.message}`);
    throw err;
  }
}

export const command: Command = {
  name: 'es',
  summary: 'prepare Elasticsearch: index templates, a role per component, an ILM policy',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      config: { type: 'string' },
      roles: { type: 'boolean' },
      ilm: { type: 'boolean' },
      print: { type: 'boolean' },
      users: { type: 'string' },
    });
    if (values.users && !values.roles) throw new UsageError('--users needs --roles');
    if (positionals[0] !== 'setup' || positionals.length > 1)
      throw new UsageError(positionals.length ? `unknown subcommand '${positionals.join(' ')}'` : 'missing subcommand (setup)');
    const es = readConfig(values.config);
    const prefix = es.indexPrefix;
    const roles = values.roles ? componentRoles(prefix) : [];
    const users = roles.flatMap((r) => {
      const component = r.name.slice(prefix.length + 1);
      const file = values.users ? join(values.users, `es-${component}`) : undefined;
      return file && existsSync(file) ? [{ username: `canhgac-${component}`, role: r.name, file }] : [];
    });
    const policy = values.ilm ? monthlyIndexPolicy(prefix, es.retentionMonths) : undefined;
    if (values.print) {
      const requests = [
        ...(policy ? [{ method: 'PUT', path: `/_ilm/policy/${policy.name}`, body: { policy: policy.policy } }] : []),
        ...roles.map((r) => {
          const { name: _name, ...body } = r.role;
          return { method: 'PUT', path: `/_security/role/${r.name}`, body };
        }),
      ];
      for (const r of requests) process.stdout.write(`${r.method} ${r.path}\n${JSON.stringify(r.body, null, 2)}\n\n`);
      process.stdout.write(`(the index templates are written by every component at start unless elasticsearch.manageTemplates is false)\n`);
      return 0;
    }
    let store: ElasticsearchIncidentStore;
    try {
      store = ElasticsearchIncidentStore.fromConfig({ ...es, manageTemplates: false });
    } catch (err) {
      if (err instanceof ConnectionSettingsError) throw new CommandError(err.message);
      throw err;
    }
    try {
      if (policy) {
        await store.client.ilm.putLifecycle({ name: policy.name, policy: policy.policy });
        process.stdout.write(`ILM policy ${policy.name}: delete after ${policy.policy.phases.delete?.min_age}\n`);
      }
      await store.putTemplates({ lifecycle: policy?.name });
      await store.init();
      process.stdout.write(`index templates ${prefix}-alerts, ${prefix}-incidents, ${prefix}-audit\n`);
      for (const r of roles) {
        const { name, ...body } = r.role;
        await store.client.security.putRole({ name, ...body });
        process.stdout.write(`role ${name}\n`);
      }
      for (const u of users) {
        await store.client.security.putUser({ username: u.username, password: readSecretFile(`--users ${u.file}`, u.file), roles: [u.role] });
        process.stdout.write(`user ${u.username} (role ${u.role})\n`);
      }
    } catch (err) {
      throw new CommandError(err instanceof Error && err.name === 'ConnectionRefusedError' ? err.message : describeElasticsearchError(err, es));
    } finally {
      await store.close();
    }
    return 0;
  },
};
