import { z } from 'zod';
import { BaseConfigSchema } from '../shared/config.ts';

const IndexPrefix = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _');

export const ConsoleSectionSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** The users file `canhgac users` manages (relative paths are relative to the config file). */
    usersFile: z.string().min(1).default('users.json'),
    /** Serve HTTPS (and Secure cookies) with this certificate and key, both PEM files. */
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
    /** Secure cookies and client addresses from X-Forwarded-For when a TLS proxy terminates in front. */
    behindTlsProxy: z.boolean().default(false),
    sessionTtlMinutes: z.number().int().min(5).max(7 * 24 * 60).default(12 * 60),
    loginAttemptsPerMinute: z.number().int().min(1).max(1000).default(10),
    /** Overrides kafka.topicPrefix for the incidents topic. */
    topicPrefix: z.string().optional(),
    /** Overrides elasticsearch.indexPrefix. */
    indexPrefix: IndexPrefix.optional(),
    /** The rules folder listed at GET /api/rules. */
    rules: z.string().min(1).default('rules'),
    /** Prometheus may scrape /metrics with `Authorization: Bearer <token>` instead of a session. */
    metricsToken: z.string().min(16).optional(),
  })
  .strict();

export const ConsoleConfigSchema = BaseConfigSchema.extend({
  console: ConsoleSectionSchema.prefault({}),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;
