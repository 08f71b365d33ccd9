import { z } from 'zod';
import { formatFinding, positionOf, readYamlFile, toData, zodFindings, type Finding } from './yaml-source.ts';

export class ConfigError extends Error {
  constructor(readonly findings: Finding[]) {
    super(findings.map(formatFinding).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * A secret given once: inline (best with `${ENV}` substitution, so the value is not in the file) or in a
 * file that is read at start (Docker/Kubernetes secrets). The connection modules read the file.
 */
function oneOf(value: string, file: string) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (v[value] !== undefined && v[file] !== undefined) ctx.addIssue({ code: 'custom', path: [file], message: `give ${value} or ${file}, not both` });
  };
}

/** PEM files for a TLS connection; paths are read at start, relative to the working directory. */
const PemPath = z.string().min(1);

export const KafkaTlsSchema = z
  .object({
    /** The site's CA bundle; without it the system's CAs are trusted. */
    ca: PemPath.optional(),
    /** Client certificate and key, for a listener with ssl.client.auth=required. */
    cert: PemPath.optional(),
    key: PemPath.optional(),
    /** Passphrase of an encrypted key. */
    passphrase: z.string().min(1).optional(),
    passphraseFile: PemPath.optional(),
    /** Name checked against the broker certificate when the broker addresses are IPs or aliases. */
    servername: z.string().min(1).optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.cert === undefined) !== (t.key === undefined))
      ctx.addIssue({ code: 'custom', path: [t.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs both cert and key' });
    oneOf('passphrase', 'passphraseFile')(t, ctx);
  });

export const KafkaSaslSchema = z
  .object({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    passwordFile: PemPath.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.password === undefined && s.passwordFile === undefined)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give password (e.g. "${KAFKA_PASSWORD}") or passwordFile' });
    oneOf('password', 'passwordFile')(s, ctx);
  });

/** Sections every component shares; each component extends this with its own section. */
export const KafkaConfigSchema = z
  .object({
    brokers: z.array(z.string().min(1)).min(1),
    clientId: z.string().min(1).default('canhgac'),
    topicPrefix: z.string().default(''),
    /** TLS with the system's CAs; `tls` gives the site's CA, a client certificate and so on, and implies TLS. */
    ssl: z.boolean().default(false),
    tls: KafkaTlsSchema.optional(),
    sasl: KafkaSaslSchema.optional(),
  })
  .strict();

export const ElasticsearchTlsSchema = z
  .object({
    ca: PemPath.optional(),
    /** SHA-256 fingerprint of the CA (or server) certificate, as Elasticsearch prints it at first start. */
    caFingerprint: z
      .string()
      .regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'a SHA-256 fingerprint: 64 hex digits, colons allowed')
      .optional(),
    cert: PemPath.optional(),
    key: PemPath.optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.ca !== undefined && t.caFingerprint !== undefined)
      ctx.addIssue({ code: 'custom', path: ['caFingerprint'], message: 'give ca or caFingerprint, not both' });
    if ((t.cert === undefined) !== (t.key === undefined))
      ctx.addIssue({ code: 'custom', path: [t.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs both cert and key' });
  });

/** Primary shards and replicas of one index family; replicas default to one where a second node exists. */
const IndexShapeSchema = z
  .object({
    shards: z.number().int().min(1).max(1024).default(1),
    replicas: z.union([z.number().int().min(0).max(32), z.string().regex(/^\d+-(\d+|all)$/, 'a number or a range such as 0-1')]).default('0-1'),
  })
  .strict();

export const ElasticsearchConfigSchema = z
  .object({
    url: z.url(),
    indexPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _')
      .default('canhgac'),
    username: z.string().optional(),
    password: z.string().optional(),
    passwordFile: PemPath.optional(),
    /** An API key as Elasticsearch returns it encoded (base64 of id:key). */
    apiKey: z.string().min(1).optional(),
    apiKeyFile: PemPath.optional(),
    tls: ElasticsearchTlsSchema.optional(),
    /** Retention of time-based indices; 12 months is the usual legal minimum for system logs. */
    retentionMonths: z.number().int().min(12).default(12),
    /**
     * Write the index templates at start. `false` where `canhgac es setup` wrote them and the component's
     * role has no cluster privilege to change them (see "Connecting to your clusters" in the README).
     */
    manageTemplates: z.boolean().default(true),
    /**
     * Shards and replicas per index family. A component given them writes them into the templates; one
     * without them keeps what the templates hold (one shard, 0-1 replicas when new), so components agree.
     */
    indices: z.object({ alerts: IndexShapeSchema.optional(), incidents: IndexShapeSchema.optional(), audit: IndexShapeSchema.optional() }).strict().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    oneOf('password', 'passwordFile')(e, ctx);
    oneOf('apiKey', 'apiKeyFile')(e, ctx);
    const key = e.apiKey !== undefined || e.apiKeyFile !== undefined;
    if (key && e.username !== undefined) ctx.addIssue({ code: 'custom', path: ['apiKey'], message: 'give an API key or username and password, not both' });
    if ((e.password !== undefined || e.passwordFile !== undefined) && e.username === undefined)
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'a password needs a username' });
  });

export const BaseConfigSchema = z
  .object({
    kafka: KafkaConfigSchema.optional(),
    elasticsearch: ElasticsearchConfigSchema.optional(),
    timezone: z.string().default('Asia/Ho_Chi_Minh'),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type BaseConfig = z.infer<typeof BaseConfigSchema>;
export type KafkaConfig = z.infer<typeof KafkaConfigSchema>;
export type ElasticsearchConfig = z.infer<typeof ElasticsearchConfigSchema>;
export type IndexShape = z.infer<typeof IndexShapeSchema>;

type Env = Record<string, string | undefined>;

/** KAFKA_BROKERS and ELASTICSEARCH_URL win over the file (ARCHITECTURE.md, "Configuration"). */
export function applyEnvOverrides(data: Record<string, unknown>, env: Env): Record<string, unknown> {
  const out = { ...data };
  if (env.KAFKA_BROKERS) {
    const brokers = env.KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    out.kafka = { ...(isRecord(out.kafka) ? out.kafka : {}), brokers };
  }
  if (env.ELASTICSEARCH_URL) {
    out.elasticsearch = { ...(isRecord(out.elasticsearch) ? out.elasticsearch : {}), url: env.ELASTICSEARCH_URL };
  }
  return out;
}

/** `${NAME}` in a value is the variable's value; `$${` is a literal `${`. */
const ENV_REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` in every string value with the environment variable, so that passwords and keys
 * stay out of the file. An unset variable is an error at its path rather than an empty password.
 */
export function substituteEnv(
  data: unknown,
  env: Env,
  path: (string | number)[] = [],
): { data: unknown; unset: { path: (string | number)[]; name: string }[] } {
  const unset: { path: (string | number)[]; name: string }[] = [];
  const walk = (v: unknown, at: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      return v.replace(ENV_REFERENCE, (whole, escaped: string | undefined, name: string) => {
        if (escaped) return whole.slice(1);
        const value = env[name];
        if (value === undefined) unset.push({ path: at, name });
        return value ?? '';
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...at, i]));
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...at, k])]));
    return v;
  };
  return { data: walk(data, path), unset };
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
  const substituted = substituteEnv(raw, env);
  if (substituted.unset.length) {
    throw new ConfigError(
      substituted.unset.map((u) => ({
        file,
        ...positionOf(source, u.path),
        severity: 'error' as const,
        message: `field ${u.path.join('.')}: environment variable ${u.name} is not set`,
      })),
    );
  }
  const parsed = schema.safeParse(applyEnvOverrides(substituted.data as Record<string, unknown>, env));
  if (!parsed.success) throw new ConfigError(zodFindings(source, parsed.error));
  return parsed.data;
}

/** Config from the environment alone, for commands run without --config. */
export function configFromEnv<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  return schema.parse(applyEnvOverrides({}, env));
}
