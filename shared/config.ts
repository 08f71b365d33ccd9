import { z } from 'zod';
import { formatFinding, readYamlFile, toData, zodFindings, type Finding } from './yaml-source.ts';

export class ConfigError extends Error {
  constructor(readonly findings: Finding[]) {
    super(findings.map(formatFinding).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Sections every component shares; each component extends this with its own section. */
export const KafkaConfigSchema = z
  .object({
    brokers: z.array(z.string().min(1)).min(1),
    clientId: z.string().min(1).default('canhgac'),
    topicPrefix: z.string().default(''),
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ElasticsearchConfigSchema = z
  .object({
    url: z.url(),
    indexPrefix: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _').default('canhgac'),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Retention of time-based indices; 12 months is the usual legal minimum for system logs. */
    retentionMonths: z.number().int().min(12).default(12),
  })
  .strict();

export const BaseConfigSchema = z
  .object({
    kafka: KafkaConfigSchema.optional(),
    elasticsearch: ElasticsearchConfigSchema.optional(),
    timezone: z.string().default('Asia/Ho_Chi_Minh'),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).strict().default({ level: 'info' }),
  })
  .strict();

export type BaseConfig = z.infer<typeof BaseConfigSchema>;
export type KafkaConfig = z.infer<typeof KafkaConfigSchema>;
export type ElasticsearchConfig = z.infer<typeof ElasticsearchConfigSchema>;

type Env = Record<string, string | undefined>;

/** KAFKA_BROKERS and ELASTICSEARCH_URL win over the file, as DESIGN.md promises. */
export function applyEnvOverrides(data: Record<string, unknown>, env: Env): Record<string, unknown> {
  const out = { ...data };
  if (env.KAFKA_BROKERS) {
    const brokers = env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean);
    out.kafka = { ...(isRecord(out.kafka) ? out.kafka : {}), brokers };
  }
  if (env.ELASTICSEARCH_URL) {
    out.elasticsearch = { ...(isRecord(out.elasticsearch) ? out.elasticsearch : {}), url: env.ELASTICSEARCH_URL };
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Loads a YAML config file, applies environment overrides and validates it; errors name file, line and field. */
export function loadConfig<S extends z.ZodType>(file: string, schema: S, env: Env = process.env): z.infer<S> {
  let loaded;
  try {
    loaded = readYamlFile(file);
  } catch (err) {
    throw new ConfigError([{ file, line: 1, col: 1, severity: 'error', message: (err as Error).message }]);
  }
  const { source, findings } = loaded;
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw new ConfigError(errors);
  const data = toData(source);
  if ('finding' in data) throw new ConfigError([data.finding]);
  const raw = data.data ?? {};
  if (!isRecord(raw)) {
    throw new ConfigError([{ file, line: 1, col: 1, severity: 'error', message: 'the config file must be a YAML mapping' }]);
  }
  const parsed = schema.safeParse(applyEnvOverrides(raw, env));
  if (!parsed.success) throw new ConfigError(zodFindings(source, parsed.error));
  return parsed.data;
}

/** Config from the environment alone, for commands run without --config. */
export function configFromEnv<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  return schema.parse(applyEnvOverrides({}, env));
}
