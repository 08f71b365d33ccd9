import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Sigma timespans ("90s", "5m", "1h", "2d"), also used for `response.escalate_after`. */
export function parseTimespan(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : null;
}

/** A config field holding a timespan ("15m"), read as milliseconds. */
export const DurationSchema = z.string().transform((text, ctx) => {
  const ms = parseTimespan(text);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a duration like 90s, 5m, 1h, 5d` });
    return z.NEVER;
  }
  return ms;
});
