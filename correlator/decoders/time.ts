/** Resolving the many timestamp shapes of firewall and antivirus logs to ISO 8601 UTC. */
export const DEFAULT_TIMEZONE = 'Asia/Ho_Chi_Minh';

export interface TimeContext {
  /** Receive time in epoch milliseconds: the anchor for times without a year. */
  received: number;
  /** IANA zone for times that carry no offset. */
  timezone: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** An ASCII letter's lower-case code, or -1. */
function lowerLetter(c: number): number {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? c | 32 : -1;
}

const monthByCode = new Map(MONTHS.map((m, i) => [(m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2), i]));

/** The month whose English name's first three letters (any case) are at `at`; read as codes, for every syslog line has one. */
export function monthIndex(s: string, at = 0): number | undefined {
  const a = lowerLetter(s.charCodeAt(at));
  const b = lowerLetter(s.charCodeAt(at + 1));
  const c = lowerLetter(s.charCodeAt(at + 2));
  return a < 0 || b < 0 || c < 0 ? undefined : monthByCode.get((a << 16) | (b << 8) | c);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
// Offsets only change at DST boundaries (on the hour), so caching them per zone and hour is exact and keeps
// Intl off the hot path. In front of the maps, the answers for recent hours, one slot per hour number:
// lines of one stream fall in a few hours, and a slot is read without hashing.
const offsets = new Map<string, Map<number, number>>();
const HOUR_SLOTS = 1024;
const slotZone = new Array<string>(HOUR_SLOTS).fill('');
const slotHour = new Float64Array(HOUR_SLOTS).fill(Number.NaN);
const slotOffset = new Float64Array(HOUR_SLOTS);

export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC in milliseconds at the given instant. */
export function zoneOffset(zone: string, utcMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const hour = Math.floor(utcMs / 3_600_000);
  const slot = hour & (HOUR_SLOTS - 1);
  if (slotHour[slot] === hour && slotZone[slot] === zone) return slotOffset[slot]!;
  let byHour = offsets.get(zone);
  if (!byHour) offsets.set(zone, (byHour = new Map()));
  const cached = byHour.get(hour);
  if (cached !== undefined) {
    slotZone[slot] = zone;
    slotHour[slot] = hour;
    slotOffset[slot] = cached;
    return cached;
  }
  let fmt = formatters.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, fmt);
  }
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(Math.floor(utcMs / 1000) * 1000))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = asUtc - Math.floor(utcMs / 1000) * 1000;
  if (byHour.size > 50_000) byHour.clear();
  byHour.set(hour, offset);
  return offset;
}

/** Wall-clock fields in a zone to epoch milliseconds (NaN when a field is out of range). */
export function localToEpoch(zone: string, y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
  if (mo < 0 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970 || y > 9999) return NaN;
  const wall = Date.UTC(y, mo, d, h, mi, s, ms);
  const first = wall - zoneOffset(zone, wall);
  const second = wall - zoneOffset(zone, first);
  return second;
}

/** A time with month and day but no year: the year that puts it closest before (or just after) the receive time. */
let yearOf = { received: NaN, zone: '', year: 0 };

export function withoutYear(ctx: TimeContext, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
  if (ctx.received !== yearOf.received || ctx.timezone !== yearOf.zone) {
    yearOf = { received: ctx.received, zone: ctx.timezone, year: new Date(ctx.received + zoneOffset(ctx.timezone, ctx.received)).getUTCFullYear() };
  }
  const year = yearOf.year;
  const t = localToEpoch(ctx.timezone, year, mo, d, h, mi, s, ms);
  // A clock a little ahead of ours is skew; a date far ahead is last year's (logs read across New Year).
  if (t > ctx.received + 7 * 86_400_000) return localToEpoch(ctx.timezone, year - 1, mo, d, h, mi, s, ms);
  return t;
}

function num(s: string, from: number, len: number): number {
  let v = 0;
  for (let i = from; i < from + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** Fraction digits starting at i (after the dot): milliseconds and the index after the digits. */
function fraction(s: string, i: number): [number, number] {
  let ms = 0;
  let scale = 100;
  while (i < s.length) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    ms += c * scale;
    scale /= 10;
    i++;
  }
  return [Math.floor(ms), i];
}

/** "+07:00", "+0700", "Z", "-05" at i: offset in ms, or undefined when none is there. */
function zoneSuffix(s: string, i: number): number | undefined {
  const c = s[i];
  if (c === 'Z' || c === 'z') return 0;
  if (c !== '+' && c !== '-') return undefined;
  const hh = num(s, i + 1, 2);
  let mm = 0;
  if (s[i + 3] === ':') mm = num(s, i + 4, 2);
  else if (i + 5 <= s.length && /* digits */ !Number.isNaN(num(s, i + 3, 2))) mm = num(s, i + 3, 2);
  if (Number.isNaN(hh) || Number.isNaN(mm)) return undefined;
  return (c === '-' ? -1 : 1) * (hh * 60 + mm) * 60_000;
}

/**
 * "2019-05-10T11:50:48.123+07:00", "2019-05-10 11:50:48", "2019/05/10 11:50:48" (zone-local when no offset is
 * written). Returns epoch ms or NaN.
 */
export function parseDateTime(s: string, ctx: TimeContext): number {
  const t = s.trim();
  if (t.length < 19) return NaN;
  const y = num(t, 0, 4);
  const mo = num(t, 5, 2);
  const d = num(t, 8, 2);
  const h = num(t, 11, 2);
  const mi = num(t, 14, 2);
  const sec = num(t, 17, 2);
  // NaN when a field is not all digits; one check of the sum.
  if (Number.isNaN(y + mo + d + h + mi + sec)) return NaN;
  let i = 19;
  let ms = 0;
  if (t[i] === '.' || t[i] === ',') [ms, i] = fraction(t, i + 1);
  while (t[i] === ' ') i++;
  const off = zoneSuffix(t, i) ?? (t.startsWith('UTC', i) || t.startsWith('GMT', i) ? (zoneSuffix(t, i + 3) ?? 0) : undefined);
  if (off !== undefined) {
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return NaN;
    return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - off;
  }
  return localToEpoch(ctx.timezone, y, mo - 1, d, h, mi, sec, ms);
}

/**
 * "Mar  1 2021 21:20:13", "Apr 20 2017 12:04:34 GMT+00:00", "Oct 10 07:25:12" (no year), with an optional
 * trailing zone. Returns epoch ms or NaN.
 */
export function parseMonthDay(s: string, ctx: TimeContext): number {
  const t = s.trim();
  const mo = monthIndex(t);
  if (mo === undefined || t[3] !== ' ') return NaN;
  let i = 4;
  while (t[i] === ' ') i++;
  const dayStart = i;
  while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) i++;
  const d = Number(t.slice(dayStart, i));
  if (i === dayStart || i - dayStart > 2 || t[i] !== ' ') return NaN;
  i++;
  let y: number | undefined;
  if (t[i + 4] === ' ' && !Number.isNaN(num(t, i, 4))) {
    y = num(t, i, 4);
    i += 5;
  }
  const h = num(t, i, 2);
  const mi = num(t, i + 3, 2);
  const sec = num(t, i + 6, 2);
  if (t[i + 2] !== ':' || t[i + 5] !== ':' || Number.isNaN(h + mi + sec)) return NaN;
  i += 8;
  let ms = 0;
  if (t[i] === '.') [ms, i] = fraction(t, i + 1);
  while (t[i] === ' ') i++;
  const off = zoneSuffix(t, i) ?? (t.startsWith('UTC', i) || t.startsWith('GMT', i) ? (zoneSuffix(t, i + 3) ?? 0) : undefined);
  if (y === undefined)
    return off === undefined ? withoutYear(ctx, mo, d, h, mi, sec, ms) : withoutYear({ ...ctx, timezone: 'UTC' }, mo, d, h, mi, sec, ms) - off;
  if (off !== undefined) return Date.UTC(y, mo, d, h, mi, sec, ms) - off;
  return localToEpoch(ctx.timezone, y, mo, d, h, mi, sec, ms);
}

/** Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude). */
export function parseEpoch(s: string): number {
  const t = s.trim();
  const dot = t.indexOf('.');
  const whole = dot >= 0 ? t.slice(0, dot) : t;
  if (whole.length < 9 || whole.length > 19) return NaN;
  for (let i = 0; i < whole.length; i++) if (whole.charCodeAt(i) < 48 || whole.charCodeAt(i) > 57) return NaN;
  if (whole.length <= 10) return Math.round(Number(t) * 1000);
  if (whole.length <= 13) return Number(whole);
  if (whole.length <= 16) return Math.floor(Number(whole) / 1000);
  return Math.floor(Number(whole.slice(0, 13)));
}

/** Any of the shapes above; NaN when none fits. */
export function parseAny(s: string, ctx: TimeContext): number {
  const t = s.trim();
  if (t.length === 0) return NaN;
  const c = t.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    if (t[4] === '-' || t[4] === '/') return parseDateTime(t, ctx);
    return parseEpoch(t);
  }
  return parseMonthDay(t, ctx);
}

/** 1970-01-01 to 9999-12-31 in epoch ms: the years an ISO 8601 @timestamp can carry. */
const LAST_MS = 253_402_300_799_999;

const PAD2 = Array.from({ length: 60 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * Date#toISOString by arithmetic: every event gets a timestamp, and this is several times faster than
 * a Date object and the runtime's formatter (the same text for every instant 1970-9999).
 */
export function iso(t: number): string | undefined {
  if (!(t >= 0 && t <= LAST_MS)) return undefined;
  const ms = Math.floor(t);
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const slot = days & (DAY_SLOTS - 1);
  let date = dayTexts[slot]!;
  if (dayNumbers[slot] !== days) {
    date = dateText(days);
    dayNumbers[slot] = days;
    dayTexts[slot] = date;
  }
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const mi = Math.floor(rest / 60_000);
  rest -= mi * 60_000;
  const s = Math.floor(rest / 1000);
  return `${date}${PAD2[h]}:${PAD2[mi]}:${PAD2[s]}.${PAD3[rest - s * 1000]}Z`;
}

// The date part of the last few days formatted, one slot per day number: events cluster on a few days.
const DAY_SLOTS = 64;
const dayNumbers = new Array<number>(DAY_SLOTS).fill(-1);
const dayTexts = new Array<string>(DAY_SLOTS).fill('');

/** "YYYY-MM-DDT" of a day counted from 1970-01-01. */
function dateText(days: number): string {
  // Civil date from days since 1970-01-01 in 400-year eras of the proleptic Gregorian calendar, each
  // year counted from March so that the leap day falls last.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${PAD2[month]}-${PAD2[day]}T`;
}
