import { join } from 'node:path';
import { z } from 'zod';
import { CollectorSectionSchema } from '../../collector/config.ts';
import { StartConsoleSectionSchema } from '../../console/config.ts';
import { CorrelatorConfigSchema, CorrelatorSectionSchema } from '../../correlator/config.ts';
import { BaseConfigSchema, configFromEnv, loadConfig } from '../../shared/config.ts';
import { PACKAGE_ROOT } from '../../shared/package-root.ts';

/** The bundled rule pack and demo recordings, found from the package's folder whatever the working directory. */
export const BUNDLED_RULES = join(PACKAGE_ROOT, 'rules');
/** The demo: ten minutes of data-centre traffic with an SSH brute force four minutes in. */
export const DEMO_RECORDING = join(BUNDLED_RULES, 'drills', 'ssh-brute-force', 'recording.ndjson.gz');
/** The data centre of the bundled drills: the demo's own asset register, never loaded without the demo. */
export const DEMO_ASSETS = join(BUNDLED_RULES, 'drills', 'assets.yml');
/** x20 plays the ten minutes in 30 s: the attack shows after about 12 s, every incident within a minute. */
export const DEMO_SPEED = 20;

/**
 * `canhgac start --config FILE`: the correlator's and operations' sections as `canhgac correlator` reads
 * them, plus an optional collector section whose sources feed the same pipeline. Quieter logs by default:
 * the terminal is for the address and the login.
 */
export function startConfigSchema(dataDir: string) {
  return CorrelatorConfigSchema.extend({
    log: BaseConfigSchema.shape.log.unwrap().prefault({ level: 'warn' }),
    correlator: CorrelatorSectionSchema.extend({ rules: z.string().min(1).default(BUNDLED_RULES) }).prefault({}),
    /** The embedded store (no elasticsearch section): alerts and closed incidents older than this are deleted. */
    store: z
      .object({ retentionMonths: z.number().int().min(1).default(12) })
      .strict()
      .prefault({}),
    /** TLS, trusted proxies, login and stream limits, the metrics token: as in `canhgac console`. */
    console: StartConsoleSectionSchema.prefault({}),
    /** Sources (file tail, syslog) as in `canhgac collector`; dataDir defaults to DATA/collector. */
    collector: z
      .preprocess((v) => (isRecord(v) && v.dataDir === undefined ? { ...v, dataDir: join(dataDir, 'collector') } : v), CollectorSectionSchema)
      .optional(),
  });
}

export type StartConfig = z.infer<ReturnType<typeof startConfigSchema>>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The config file, or the environment alone. Paths in the file are taken as `canhgac correlator` and
 * `canhgac collector` take them (from the working directory). Throws ConfigError naming file, line and field.
 */
export function loadStartConfig(file: string | undefined, dataDir: string, env: Record<string, string | undefined> = process.env): StartConfig {
  const schema = startConfigSchema(dataDir);
  return file ? loadConfig(file, schema, env) : configFromEnv(schema, env);
}
