import { z } from 'zod';

/** What a collector produces to soc.raw for every line it read (key = host). */
export const HeartbeatSchema = z.object({
  lines: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative().default(0),
  /** Syslog TCP/TLS connections refused by a connection limit. */
  refused: z.number().int().nonnegative().optional(),
  /** UDP datagrams the kernel dropped before the collector read them. */
  kernelDropped: z.number().int().nonnegative().optional(),
  /** Winlog sources: event log gaps found since the previous heartbeat (cleared log, records overwritten unread), and their channels. */
  gaps: z.number().int().nonnegative().optional(),
  gapChannels: z.array(z.string().max(255)).max(64).optional(),
  /** Coverage log types the source carries whether or not it read an event (winlog sources). */
  logTypes: z
    .array(z.enum(['firewall', 'antivirus']))
    .max(2)
    .optional(),
  lastLineAt: z.iso.datetime().nullable().default(null),
  spoolBytes: z.number().int().nonnegative().optional(),
});

export const EnvelopeSchema = z
  .object({
    v: z.literal(1),
    kind: z.enum(['line', 'heartbeat']).default('line'),
    /** Stable per line (host, source, file identity, offset) so that a re-sent line keeps its id. */
    id: z.string().min(1).max(512),
    host: z.string().min(1).max(255),
    source: z.string().min(1).max(4096),
    format: z.string().min(1).max(64).default('auto'),
    received: z.iso.datetime({ offset: true }),
    drill: z.string().min(1).max(128).optional(),
    unit: z.string().min(1).max(255).optional(),
    peer: z.string().max(255).optional(),
    line: z.string(),
    truncated: z.boolean().optional(),
    /** The line's bytes were not all UTF-8: the collector decoded them with U+FFFD replacements. */
    invalid_utf8: z.boolean().optional(),
    /**
     * Added to the decoded event time by the correlator: a drill replayed with `--rebase now` moves its
     * events to the present without rewriting vendor timestamps inside the lines.
     */
    timeShiftMs: z.number().int().optional(),
    heartbeat: HeartbeatSchema.optional(),
  })
  .refine((e) => e.kind !== 'heartbeat' || e.heartbeat !== undefined, {
    message: 'a heartbeat envelope needs the heartbeat field',
    path: ['heartbeat'],
  });

export type Envelope = z.infer<typeof EnvelopeSchema>;
export type EnvelopeInput = z.input<typeof EnvelopeSchema>;

export type EnvelopeParse = { ok: true; envelope: Envelope } | { ok: false; reason: string };

/** Reads one soc.raw message value; never throws, so a bad message becomes a dead letter with its reason. */
export function parseEnvelope(value: Buffer | string | null): EnvelopeParse {
  if (value === null) return { ok: false, reason: 'empty message' };
  const text = typeof value === 'string' ? value : value.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const parsed = EnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `envelope field ${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { ok: true, envelope: parsed.data };
}
