import { knownKey } from '../scan/kv.ts';
import { localToEpoch, monthIndex, parseDateTime, withoutYear, type TimeContext } from '../time.ts';

/** Syslog framing (RFC 3164 and its real-world variants, RFC 5424) around any payload. */
export interface SyslogHeader {
  priority?: number;
  version?: number;
  /** Epoch milliseconds, resolved against the receive time and zone when the line has no year or offset. */
  timestamp?: number;
  hostname?: string;
  appName?: string;
  procId?: string;
  msgId?: string;
  /** RFC 5424 structured data: SD-ID to its parameters. */
  structuredData?: Record<string, Record<string, string>>;
}

export interface Framed {
  header?: SyslogHeader;
  /** Where the message starts in the line. */
  offset: number;
}

const FACILITY_LEVEL = new Set([
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
]);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function tokenEnd(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) !== 32) i++;
  return i;
}

function skipSpaces(s: string, i: number): number {
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

/** The number written in the two characters at i: read as digits, else as Number() reads the text (" 7" is 7). */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number(s.slice(i, i + 2));
}

/** "Mmm dd[ yyyy] hh:mm:ss[.fff]" at i: [epoch ms, end] or undefined. */
function bsdTimestamp(s: string, i: number, time: TimeContext): [number, number] | undefined {
  const mo = monthIndex(s, i);
  if (mo === undefined || s[i + 3] !== ' ') return undefined;
  let j = skipSpaces(s, i + 4);
  const dayStart = j;
  while (isDigit(s.charCodeAt(j))) j++;
  if (j === dayStart || j - dayStart > 2 || s[j] !== ' ') return undefined;
  const d = Number(s.slice(dayStart, j));
  j++;
  let year: number | undefined;
  if (isDigit(s.charCodeAt(j)) && isDigit(s.charCodeAt(j + 3)) && s[j + 4] === ' ') {
    year = Number(s.slice(j, j + 4));
    j += 5;
  }
  if (s[j + 2] !== ':' || s[j + 5] !== ':') return undefined;
  const h = twoDigits(s, j);
  const mi = twoDigits(s, j + 3);
  const sec = twoDigits(s, j + 6);
  if (!Number.isInteger(h) || !Number.isInteger(mi) || !Number.isInteger(sec)) return undefined;
  j += 8;
  let ms = 0;
  if (s[j] === '.') {
    const f = j + 1;
    j = f;
    while (isDigit(s.charCodeAt(j))) j++;
    ms = Math.floor(Number(`0.${s.slice(f, j)}`) * 1000) || 0;
  }
  if (year !== undefined) return [localToEpoch(time.timezone, year, mo, d, h, mi, sec, ms), j];
  return [withoutYear(time, mo, d, h, mi, sec, ms), j];
}

/** "2021-03-12T14:10:18.123+02:00" at i: [epoch ms, end] or undefined. */
function isoTimestamp(s: string, i: number, time: TimeContext): [number, number] | undefined {
  if (!(isDigit(s.charCodeAt(i)) && s[i + 4] === '-' && s[i + 10] === 'T')) return undefined;
  const end = tokenEnd(s, i);
  const t = parseDateTime(s.slice(i, end).replace('T', ' '), time);
  return Number.isNaN(t) ? undefined : [t, end];
}

/** `app[pid]:` or `app:` token: [app, pid] or undefined. */
function tag(token: string): [string, string | undefined] | undefined {
  if (token.length < 2 || token.length > 96 || token[token.length - 1] !== ':' || token[0] === '%') return undefined;
  const body = token.slice(0, -1);
  const bracket = body.indexOf('[');
  if (bracket > 0 && body[body.length - 1] === ']') return [body.slice(0, bracket), body.slice(bracket + 1, -1)];
  if (bracket >= 0 || body.includes('=')) return undefined;
  return [body, undefined];
}

/** RFC 5424 structured data at i: [elements, end] or undefined when it is not well-formed. */
function structuredData(s: string, i: number): [Record<string, Record<string, string>>, number] | undefined {
  const out: Record<string, Record<string, string>> = {};
  while (s[i] === '[') {
    let j = i + 1;
    while (j < s.length && s[j] !== ' ' && s[j] !== ']' && s[j] !== '=' && s[j] !== '"') j++;
    if (j === i + 1 || (s[j] !== ' ' && s[j] !== ']')) return undefined;
    const id = s.slice(i + 1, j);
    const params: Record<string, string> = {};
    while (s[j] === ' ') {
      j = skipSpaces(s, j);
      if (s[j] === ']') break;
      const nameStart = j;
      while (j < s.length && s[j] !== '=' && s[j] !== ' ' && s[j] !== ']' && s[j] !== '"') j++;
      if (s[j] !== '=' || s[j + 1] !== '"' || j === nameStart) return undefined;
      const name = knownKey(s.slice(nameStart, j));
      j += 2;
      let value = '';
      let chunk = j;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\' || s[j + 1] === ']')) {
          value += s.slice(chunk, j);
          chunk = j + 1;
          j += 2;
        } else j++;
      }
      if (j >= s.length) return undefined;
      params[name] = value + s.slice(chunk, j);
      j++;
    }
    if (s[j] !== ']') return undefined;
    out[id] = params;
    i = j + 1;
  }
  return [out, i];
}

/** Reads the syslog header, if any; the message is line.slice(offset). Never throws. */
export function parseSyslog(line: string, time: TimeContext): Framed {
  let i = 0;
  // Every field in place (undefined when the line has none), in one order: one shape for every line's
  // header, however many of its fields the line has, for the sniffs and decoders that all read it.
  const header: SyslogHeader = {
    priority: undefined,
    version: undefined,
    timestamp: undefined,
    hostname: undefined,
    appName: undefined,
    procId: undefined,
    msgId: undefined,
    structuredData: undefined,
  };
  let framed = false;
  if (line.charCodeAt(0) === 60 /* < */) {
    let j = 1;
    while (j < 5 && isDigit(line.charCodeAt(j))) j++;
    if (j > 1 && line[j] === '>' && Number(line.slice(1, j)) <= 191) {
      header.priority = Number(line.slice(1, j));
      i = j + 1;
      framed = true;
      if (line[i] === '1' && line[i + 1] === ' ') return rfc5424(line, i + 2, header, time);
    }
  }
  i = skipSpaces(line, i);
  const stamp = bsdTimestamp(line, i, time) ?? isoTimestamp(line, i, time);
  if (!stamp) return framed ? { header, offset: i } : { offset: 0 };
  header.timestamp = stamp[0];
  i = stamp[1];
  if (line[i] === ':') i++;
  i = skipSpaces(line, i);
  let end = tokenEnd(line, i);
  let token = line.slice(i, end);
  let t = tag(token);
  if (
    !t &&
    token.length > 0 &&
    !token.includes('=') &&
    !token.includes(',') &&
    !token.includes('|') &&
    !token.startsWith('%') &&
    token[0] !== '[' &&
    token[0] !== '{'
  ) {
    header.hostname = token;
    i = skipSpaces(line, end);
    end = tokenEnd(line, i);
    token = line.slice(i, end);
    if (token === ':') {
      i = skipSpaces(line, end);
      return { header, offset: i };
    }
    const dot = token.indexOf('.');
    if (dot > 0 && FACILITY_LEVEL.has(token.slice(0, dot))) {
      i = skipSpaces(line, end);
      end = tokenEnd(line, i);
      token = line.slice(i, end);
    }
    t = tag(token);
  }
  if (t) {
    header.appName = t[0];
    if (t[1] !== undefined) header.procId = t[1];
    i = skipSpaces(line, end);
  }
  return { header, offset: i };
}

function rfc5424(line: string, i: number, header: SyslogHeader, time: TimeContext): Framed {
  header.version = 1;
  const fields: (string | undefined)[] = [];
  for (let k = 0; k < 5; k++) {
    const end = tokenEnd(line, i);
    const token = line.slice(i, end);
    fields.push(token === '-' ? undefined : token);
    i = end + 1;
    if (end >= line.length) break;
  }
  const [stamp, host, app, proc, msgId] = fields;
  if (stamp !== undefined) {
    const t = isoTimestamp(stamp, 0, time)?.[0] ?? epochSeconds(stamp);
    if (t !== undefined) header.timestamp = t;
  }
  if (host !== undefined) header.hostname = host;
  if (app !== undefined) header.appName = app;
  if (proc !== undefined) header.procId = proc;
  if (msgId !== undefined) header.msgId = msgId;
  i = Math.min(i, line.length);
  if (line[i] === '-' && (line[i + 1] === ' ' || i + 1 >= line.length)) i = Math.min(i + 2, line.length);
  else if (line[i] === '[') {
    const sd = structuredData(line, i);
    if (sd) {
      header.structuredData = sd[0];
      i = skipSpaces(line, sd[1]);
    }
  }
  if (line.charCodeAt(i) === 0xfeff) i++;
  return { header, offset: i };
}

/** Cisco Meraki writes epoch seconds where RFC 5424 wants a timestamp. */
function epochSeconds(s: string): number | undefined {
  const n = Number(s);
  return Number.isFinite(n) && n > 1e9 && n < 1e11 ? Math.floor(n * 1000) : undefined;
}
