import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BaseConfigSchema } from '../shared/config.ts';
import type { ConsoleOptions } from './app.ts';

const IndexPrefix = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _');

export const ConsoleSectionSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** The users file `canhgac users` manages (relative paths are relative to the config file). */
    usersFile: z.string().min(1).default('users.json'),
    /** Serve HTTPS (and Secure cookies) with this certificate and key, both PEM files. */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Secure cookies although the console speaks plain HTTP: a TLS proxy terminates in front. */
    behindTlsProxy: z.boolean().default(false),
    /**
     * The reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client, for the
     * login limits and the audit; a request from anywhere else is taken from its own address.
     */
    trustedProxies: z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: 'an IP address or a CIDR range' })).default([]),
    /** Per-account lockout: after `freeFailures` wrong passwords, locked `baseSeconds`, doubling up to `maxSeconds`. */
    lockout: z
      .object({
        freeFailures: z.number().int().min(1).max(100).default(5),
        baseSeconds: z.number().int().min(1).max(3600).default(30),
        maxSeconds: z.number().int().min(1).max(86_400).default(900),
      })
      .strict()
      .prefault({}),
    /** What one viewer may take of the live stream (sockets, and snapshots on connect or resync). */
    stream: z
      .object({
        socketsPerSession: z.number().int().min(1).max(1000).default(8),
        socketsPerUser: z.number().int().min(1).max(10_000).default(32),
        socketsTotal: z.number().int().min(1).max(100_000).default(1000),
        snapshotsPerSessionPerMinute: z.number().int().min(1).max(600).default(12),
        snapshotsPerUserPerMinute: z.number().int().min(1).max(6000).default(60),
      })
      .strict()
      .prefault({}),
    sessionTtlMinutes: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(12 * 60),
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

/**
 * What `canhgac start` takes of the console section: how the console is reached and guarded. Its address
 * is --host/--port, its users DATA/users.json and its rules the correlator's.
 */
export const StartConsoleSectionSchema = ConsoleSectionSchema.pick({
  tls: true,
  behindTlsProxy: true,
  trustedProxies: true,
  lockout: true,
  stream: true,
  sessionTtlMinutes: true,
  loginAttemptsPerMinute: true,
  metricsToken: true,
});
type ConsoleGuards = z.infer<typeof StartConsoleSectionSchema>;

function readPem(field: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** The console's options from its section; `path` resolves the TLS files as the command takes paths. */
export function consoleGuardOptions(c: ConsoleGuards, path: (p: string) => string) {
  return {
    tls: c.tls ? { cert: readPem('console.tls.cert', path(c.tls.cert)), key: readPem('console.tls.key', path(c.tls.key)) } : undefined,
    behindTlsProxy: c.behindTlsProxy,
    trustedProxies: c.trustedProxies,
    sessionTtlMs: c.sessionTtlMinutes * 60_000,
    loginAttemptsPerMinute: c.loginAttemptsPerMinute,
    lockout: { freeFailures: c.lockout.freeFailures, baseMs: c.lockout.baseSeconds * 1000, maxMs: c.lockout.maxSeconds * 1000 },
    streamLimits: c.stream,
    metricsToken: c.metricsToken,
  } satisfies Partial<ConsoleOptions>;
}

export const ConsoleConfigSchema = BaseConfigSchema.extend({
  console: ConsoleSectionSchema.prefault({}),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;
