import { localToEpoch, monthIndex, parseAny, withoutYear, type TimeContext } from '../time.ts';

/**
 * Timestamp formats of custom decoders: the named shapes (iso8601, epoch, epoch_ms, auto) or a pattern of
 * tokens, the ones Java and Elastic date formats use: yyyy yy MM MMM dd d HH H mm ss SSS (fraction of any
 * length) and Z / XXX (zone offset written in the value). Anything else is literal text. Without a year the
 * receive time decides it, as for syslog; without an offset the format's zone (else the decode's) applies.
 */
export type TimestampParser = (value: string, time: TimeContext, zone: string | undefined) => number;

const TOKENS: [token: string, pattern: string, field: string][] = [
  ['yyyy', '(\\d{4})', 'year'],
  ['yy', '(\\d{2})', 'year2'],
  ['MMM', '([A-Za-z]{3})', 'monthName'],
  ['MM', '(\\d{1,2})', 'month'],
  ['dd', '(\\d{1,2})', 'day'],
  ['d', '(\\d{1,2})', 'day'],
  ['HH', '(\\d{1,2})', 'hour'],
  ['H', '(\\d{1,2})', 'hour'],
  ['mm', '(\\d{2})', 'minute'],
  ['ss', '(\\d{2})', 'second'],
  ['SSS', '(\\d{1,9})', 'fraction'],
  ['XXX', '(Z|[+-]\\d{2}:?\\d{2})', 'offset'],
  ['Z', '(Z|[+-]\\d{2}:?\\d{2})', 'offset'],
];

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** Compiles a format; a string is the reason it cannot be used. */
export function compileTimestamp(format: string): TimestampParser | string {
  switch (format) {
    case 'auto':
      return (v, time, zone) => parseAny(v, zone ? { ...time, timezone: zone } : time);
    case 'iso8601':
      return (v, time, zone) => {
        const t = parseAny(v, zone ? { ...time, timezone: zone } : time);
        return /^\d{4}-\d\d-\d\d/.test(v.trim()) ? t : NaN;
      };
    case 'epoch':
      return (v) => Math.round(Number(v) * 1000);
    case 'epoch_ms':
      return (v) => (/^\d+$/.test(v.trim()) ? Number(v) : NaN);
  }
  const fields: string[] = [];
  let source = '^\\s*';
  for (let i = 0; i < format.length; ) {
    const hit = TOKENS.find(([token]) => format.startsWith(token, i));
    if (hit) {
      source += hit[1];
      fields.push(hit[2]);
      i += hit[0].length;
    } else if (format[i] === "'") {
      // 'literal text', as in Java patterns ("yyyy-MM-dd'T'HH:mm:ss").
      const end = format.indexOf("'", i + 1);
      if (end < 0) return `unterminated quote at position ${i} of the format`;
      source += [...format.slice(i + 1, end)].map(escape).join('');
      i = end + 1;
    } else {
      if (/[A-Za-z]/.test(format[i]!))
        return `unknown letter '${format[i]}' at position ${i} of the format (tokens: yyyy yy MM MMM dd d HH H mm ss SSS Z XXX; quote literal letters)`;
      source += escapeChar(format[i]!);
      i++;
    }
  }
  if (!fields.includes('hour') && !fields.includes('day')) return 'the format has neither a day (dd) nor an hour (HH)';
  if (!fields.includes('month') && !fields.includes('monthName')) return 'the format has no month (MM or MMM)';
  // The pattern is built from the fixed token patterns and escaped literals: linear, no nested repetition.
  const re = new RegExp(`${source}\\s*$`);
  return (value, time, zone) => {
    const m = re.exec(value);
    if (!m) return NaN;
    const f: Record<string, string> = {};
    fields.forEach((name, k) => {
      f[name] = m[k + 1]!;
    });
    const month = f.monthName !== undefined ? monthIndex(f.monthName) : Number(f.month) - 1;
    if (month === undefined) return NaN;
    const day = Number(f.day ?? 1);
    const hour = Number(f.hour ?? 0);
    const minute = Number(f.minute ?? 0);
    const second = Number(f.second ?? 0);
    const ms = f.fraction !== undefined ? Math.floor(Number(`0.${f.fraction}`) * 1000) : 0;
    const year = f.year !== undefined ? Number(f.year) : f.year2 !== undefined ? 2000 + Number(f.year2) : undefined;
    if (f.offset !== undefined) {
      const o = f.offset === 'Z' ? 0 : (f.offset[0] === '-' ? -1 : 1) * (Number(f.offset.slice(1, 3)) * 60 + Number(f.offset.slice(-2))) * 60_000;
      const y = year ?? new Date(time.received).getUTCFullYear();
      return Date.UTC(y, month, day, hour, minute, second, ms) - o;
    }
    const ctx = zone ? { ...time, timezone: zone } : time;
    return year === undefined ? withoutYear(ctx, month, day, hour, minute, second, ms) : localToEpoch(ctx.timezone, year, month, day, hour, minute, second, ms);
  };
}
