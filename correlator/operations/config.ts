import { validateCronExpression } from 'cron';
import { z } from 'zod';
import { DurationSchema } from '../detection/parse/timespan.ts';

const Duration = DurationSchema;

/** A cron expression (cron 4: five fields, or six with seconds first). */
const Cron = z.string().superRefine((v, ctx) => {
  if (!validateCronExpression(v).valid) ctx.addIssue({ code: 'custom', message: `'${v}' is not a cron expression (five fields, or six with seconds first)` });
});

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'an RFC 4122 UUID in lower case');

/**
 * The national side is configuration, never code: the centre has moved between ministries, so its
 * endpoint, the province's identity, credentials, client certificate and signing key all live here.
 * Secrets are read from files (key/cert paths, tokenFile) so that the config file itself can be shared.
 */
export const PushSchema = z
  .object({
    /** The TAXII 2.1 collection's objects endpoint: https://HOST/API-ROOT/collections/ID/objects/ */
    url: z.url().refine((u) => u.startsWith('https://'), 'the national push goes over HTTPS only'),
    tokenFile: z.string().min(1).optional(),
    basic: z
      .object({ username: z.string().min(1), passwordFile: z.string().min(1) })
      .strict()
      .optional(),
    /** TLS client certificate (PEM files) and the CA that signed the centre's server certificate. */
    clientCert: z
      .object({ cert: z.string().min(1), key: z.string().min(1), passphraseFile: z.string().min(1).optional() })
      .strict()
      .optional(),
    ca: z.string().min(1).optional(),
    signing: z
      .object({
        /** ed25519 or ecdsa (P-256, SHA-256) with a PEM private key; hmac-sha256 with a shared secret file. */
        algorithm: z.enum(['ed25519', 'ecdsa-p256-sha256', 'hmac-sha256']),
        keyFile: z.string().min(1),
        keyId: z.string().min(1),
        header: z
          .string()
          .regex(/^[A-Za-z0-9-]+$/)
          .default('X-Canhgac-Signature'),
      })
      .strict()
      .optional(),
    timeout: Duration.prefault('30s'),
    attempts: z.number().int().min(1).max(20).default(5),
    /** First retry delay; each retry doubles it. */
    backoff: Duration.prefault('2s'),
  })
  .strict();

export const NationalSchema = z
  .object({
    identity: z
      .object({
        name: z.string().min(1),
        namespace: Uuid.optional(),
        contact: z.string().min(1).optional(),
        sectors: z.array(z.string().regex(/^[a-z0-9-]+$/)).default(['government-local']),
        since: z.iso.datetime().default('2019-06-07T00:00:00.000Z'),
      })
      .strict(),
    tlp: z.enum(['white', 'green', 'amber', 'red']).default('amber'),
    push: PushSchema.optional(),
    /** How often incidents that qualify but were not exported (a failed push, a stopped exporter) are retried. */
    retrySchedule: Cron.default('*/10 * * * *'),
    /** The daily report lists national deadlines due within this. */
    dueSoon: Duration.prefault('2d'),
  })
  .strict();

export const FeedSchema = z
  .object({
    /** Lists written: NAME_ips, NAME_cidrs, NAME_domains, NAME_sha256, NAME_sha1, NAME_md5 under rules/lists/. */
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _'),
    /** A file path, or an https:// URL. */
    source: z.string().min(1),
    format: z.enum(['auto', 'stix', 'text', 'csv']).default('auto'),
    tokenFile: z.string().min(1).optional(),
    schedule: Cron.default('0 */1 * * *'),
  })
  .strict();

export const AuditsSchema = z
  .object({
    schedule: Cron.default('0 * * * * *'),
    /** A registered server with no firewall or no antivirus telemetry for this long is a coverage gap. */
    coverageWindow: Duration.prefault('15m'),
    /** A source whose collector still beats but whose last line is older than this is silent. */
    silentAfter: Duration.prefault('1h'),
    /** A collector with no heartbeat for this long is silent as a whole. */
    heartbeatLost: Duration.prefault('5m'),
    /** Antivirus signatures older than this on a registered server are a finding. */
    signatureMaxAge: Duration.prefault('3d'),
  })
  .strict();

export const OperationsSectionSchema = z
  .object({
    escalation: z
      .object({
        schedule: Cron.default('30 * * * * *'),
        /** Time the next layer has to acknowledge, by the layer it goes to (default: the severity's). */
        ackAfterByLayer: z.object({ 2: Duration.optional(), 3: Duration.optional(), 4: Duration.optional() }).strict().default({}),
      })
      .strict()
      .prefault({}),
    audits: AuditsSchema.prefault({}),
    report: z
      .object({
        schedule: Cron.default('0 0 7 * * *'),
        /** Folder the daily report (JSON, text, HTML) is written to. */
        dir: z.string().min(1).default('reports'),
      })
      .strict()
      .prefault({}),
    national: NationalSchema.optional(),
    feeds: z.array(FeedSchema).default([]),
  })
  .strict();

export type OperationsSection = z.infer<typeof OperationsSectionSchema>;
export type NationalConfig = z.infer<typeof NationalSchema>;
export type PushConfig = z.infer<typeof PushSchema>;
export type FeedConfig = z.infer<typeof FeedSchema>;
export type AuditsConfig = z.infer<typeof AuditsSchema>;
