import { hostname } from 'node:os';
import { z } from 'zod';
import { BaseConfigSchema, KafkaConfigSchema, loadConfig } from '../shared/config.ts';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** A byte count written as a number or as "512MiB", "64KiB", "1GB". */
export const ByteSize = z.union([z.number(), z.string()], { error: 'a size such as 65536, 64KiB, 512MiB or 1GiB' }).transform((v, ctx) => {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v > 0) return v;
    ctx.addIssue({ code: 'custom', message: 'a positive whole number of bytes' });
    return z.NEVER;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a size such as 65536, 64KiB, 512MiB or 1GiB` });
    return z.NEVER;
  }
  return Math.floor(Number(m[1]) * unit);
});

const Listen = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    /** 0 lets the system pick a free port (tests read it back from the agent). */
    port: z.number().int().min(0).max(65535),
  })
  .strict();

const SourceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'letters, digits, and _ . : - (at most 64)');
const Format = z.string().min(1).max(64).default('auto');

export const FileSourceSchema = z
  .object({
    type: z.literal('file'),
    name: SourceName,
    /** Glob patterns: `*` and `?` within one path segment, `**` for any depth. */
    paths: z.array(z.string().min(1)).min(1),
    exclude: z.array(z.string().min(1)).default([]),
    format: Format,
    /** Where to start in a file seen for the first time at start-up; files that appear later are read from their beginning. */
    startAt: z.enum(['end', 'beginning']).default('end'),
  })
  .strict();

export const SyslogSourceSchema = z
  .object({
    type: z.literal('syslog'),
    name: SourceName,
    protocol: z.enum(['udp', 'tcp', 'tls']),
    listen: Listen,
    format: Format,
    /** TCP and TLS: connections held at once, in all and from one sender address; more are refused and counted. */
    maxConnections: z.number().int().positive().default(1000),
    maxConnectionsPerPeer: z.number().int().positive().default(32),
    /** TCP and TLS: a connection that sends nothing for this long is closed (what it sent is kept). */
    idleTimeoutSeconds: z.number().positive().max(86_400).default(300),
    /** UDP: the kernel's receive buffer (SO_RCVBUF; capped by net.core.rmem_max): what absorbs a burst while the collector is busy. */
    receiveBufferBytes: ByteSize.default(4 * 1024 ** 2).pipe(
      z
        .number()
        .int()
        .min(4096)
        .max(1024 ** 3),
    ),
    tls: z
      .object({
        cert: z.string().min(1),
        key: z.string().min(1),
        /** With `ca`, senders must present a certificate signed by it. */
        ca: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.protocol === 'tls' && !s.tls) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'protocol tls needs tls.cert and tls.key' });
    if (s.protocol !== 'tls' && s.tls) ctx.addIssue({ code: 'custom', path: ['tls'], message: `tls settings are only for protocol tls, not ${s.protocol}` });
  });

/** Event ids as numbers or inclusive ranges ("1116-1119"), expanded and sorted. */
const EventIds = z
  .array(z.union([z.number().int().min(0).max(65535), z.string().regex(/^\d{1,5}\s*-\s*\d{1,5}$/, "an event id or a range such as '1116-1119'")]))
  .min(1)
  .transform((list, ctx) => {
    const ids = new Set<number>();
    for (const item of list) {
      const [from, to] = typeof item === 'number' ? [item, item] : (item.split('-').map((n) => Number(n.trim())) as [number, number]);
      if (from > to || to > 65535) {
        ctx.addIssue({ code: 'custom', message: `'${item}' is not a range of event ids (0-65535, low-high)` });
        return z.NEVER;
      }
      for (let id = from; id <= to; id++) ids.add(id);
    }
    return [...ids].sort((a, b) => a - b);
  });

const WinlogChannel = z
  .object({
    /** The event log channel as Get-WinEvent -LogName names it. */
    name: z.string().min(1).max(255),
    /** Only these event ids; every event of the channel when absent. */
    ids: EventIds.optional(),
  })
  .strict();

export const DEFENDER_CHANNEL = 'Microsoft-Windows-Windows Defender/Operational';
export const FIREWALL_CHANNEL = 'Microsoft-Windows-Windows Firewall With Advanced Security/Firewall';
export const SECURITY_CHANNEL = 'Security';

/** Defender detections, updates and configuration changes; every firewall policy event. */
export const DEFAULT_WINLOG_CHANNELS = [
  { name: DEFENDER_CHANNEL, ids: EventIds.parse(['1006-1009', '1116-1119', '2000-2004', '5001-5013']) },
  { name: FIREWALL_CHANNEL },
];
/** Windows Filtering Platform drops and connections, logged only when the audit policy enables them. */
export const WFP_CHANNEL = { name: SECURITY_CHANNEL, ids: EventIds.parse(['5152-5159']) };

export const WinlogSourceSchema = z
  .object({
    type: z.literal('winlog'),
    name: SourceName,
    channels: z.array(WinlogChannel).min(1).default(DEFAULT_WINLOG_CHANNELS),
    /** Adds Security 5152-5159 (needs "Audit Filtering Platform Packet Drop/Connection" enabled, and the collector running with the right to read the Security log). */
    securityWfp: z.boolean().default(false),
    /** PowerShell to run Get-WinEvent with: Windows PowerShell (powershell) or PowerShell 7 (pwsh), by name on PATH or by full path. */
    command: z.string().min(1).default('powershell'),
    pollSeconds: z.number().positive().max(3600).default(5),
    /** Events read from one channel per poll; the next batch is read once the sink has taken this one. */
    batchEvents: z.number().int().positive().max(10_000).default(500),
    /** Where to start in a channel without a bookmark: its newest record, or its oldest. */
    startAt: z.enum(['end', 'beginning']).default('end'),
  })
  .strict()
  .transform((s) => ({ ...s, channels: s.securityWfp && !s.channels.some((c) => c.name === SECURITY_CHANNEL) ? [...s.channels, WFP_CHANNEL] : s.channels }))
  .superRefine((s, ctx) => {
    const names = s.channels.map((c) => c.name.toLowerCase());
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `channel '${s.channels[i]!.name}' is listed twice` });
    });
  });

/** The coverage log types a winlog source's channels carry, declared in its heartbeats. */
export function winlogLogTypes(s: { channels: readonly { name: string }[] }): ('antivirus' | 'firewall')[] {
  const types = new Set<'antivirus' | 'firewall'>();
  for (const c of s.channels) {
    if (/defender/i.test(c.name)) types.add('antivirus');
    if (/firewall/i.test(c.name) || c.name.toLowerCase() === SECURITY_CHANNEL.toLowerCase()) types.add('firewall');
  }
  return [...types].sort();
}

export const SourceSchema = z.discriminatedUnion('type', [FileSourceSchema, SyslogSourceSchema, WinlogSourceSchema]);

export const CollectorSectionSchema = z
  .object({
    /** Host identity in every envelope and the Kafka key; the machine's host name by default. */
    host: z
      .string()
      .min(1)
      .max(255)
      .default(() => hostname()),
    unit: z.string().min(1).max(255).optional(),
    /** Tags every line as part of a drill exercise. */
    drill: z.string().min(1).max(128).optional(),
    /** Checkpoints and the spool live here. */
    dataDir: z.string().min(1),
    /** Longer lines (or syslog messages) are cut here and flagged `truncated`. */
    lineLimit: ByteSize.default(65536).pipe(
      z
        .number()
        .int()
        .min(256)
        .max(16 * 1024 * 1024),
    ),
    heartbeatSeconds: z.number().positive().max(86_400).default(60),
    /** How often file sources look for new data, rotations and new files. */
    pollMs: z.number().int().min(10).max(60_000).default(250),
    /** How long a file that left its path (rotated, deleted) is still read after its last growth. */
    rotateWaitMs: z.number().int().min(0).max(3_600_000).default(5000),
    sources: z.array(SourceSchema).min(1),
    spool: z
      .object({
        /** Beyond this, file and TCP sources wait and UDP datagrams are dropped (and counted). */
        maxBytes: ByteSize.default(1024 ** 3),
        segmentBytes: ByteSize.default(16 * 1024 ** 2),
      })
      .strict()
      .default({ maxBytes: 1024 ** 3, segmentBytes: 16 * 1024 ** 2 }),
    shipping: z
      .object({
        batchRecords: z.number().int().positive().max(100_000).default(500),
        /** Kept under the broker's default message.max.bytes (1 MB) for one record batch. */
        batchBytes: ByteSize.default(900_000),
        lingerMs: z.number().int().min(0).max(10_000).default(5),
        compression: z.enum(['none', 'gzip']).default('none'),
        /** Lines held in memory while Kafka is healthy; past it, file sources wait for Kafka. */
        memoryRecords: z.number().int().positive().default(1500),
        /** A send pending this long counts as Kafka being slow: new lines go to the spool. */
        slowAfterMs: z.number().int().positive().default(5000),
        /** On shutdown, how long to wait for Kafka before leaving the rest in the spool. */
        flushTimeoutMs: z.number().int().min(0).default(10_000),
      })
      .strict()
      .default({ batchRecords: 500, batchBytes: 900_000, lingerMs: 5, compression: 'none', memoryRecords: 1500, slowAfterMs: 5000, flushTimeoutMs: 10_000 }),
    metrics: z.object({ listen: Listen }).strict().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.sources.forEach((s, i) => {
      const first = seen.get(s.name);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name '${s.name}' (also sources.${first})` });
      else seen.set(s.name, i);
    });
  });

export const CollectorConfigSchema = BaseConfigSchema.extend({
  kafka: KafkaConfigSchema,
  collector: CollectorSectionSchema,
});

export type CollectorConfig = z.infer<typeof CollectorConfigSchema>;
export type CollectorSection = z.infer<typeof CollectorSectionSchema>;
export type FileSourceConfig = z.infer<typeof FileSourceSchema>;
export type SyslogSourceConfig = z.infer<typeof SyslogSourceSchema>;
export type WinlogSourceConfig = z.infer<typeof WinlogSourceSchema>;

export function loadCollectorConfig(file: string, env: Record<string, string | undefined> = process.env): CollectorConfig {
  return loadConfig(file, CollectorConfigSchema, env);
}
