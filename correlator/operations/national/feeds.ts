import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../../../shared/log.ts';
import type { FeedConfig } from '../config.ts';
import { IndicatorSchema, InboundBundleSchema } from './stix-schema.ts';

/**
 * Layer 4 import: national indicator feeds (a STIX 2.1 bundle, a plain list, or CSV; from a file or an
 * https:// URL) become list files under rules/lists/ that the rules' `expand` placeholders read
 * (`'%ncsc_ips%'`); the rules watcher reloads them without a restart. A malformed feed is rejected whole
 * with its reason and the previous lists stay.
 */
export const LIST_KINDS = ['ips', 'cidrs', 'domains', 'sha256', 'sha1', 'md5'] as const;
export type ListKind = (typeof LIST_KINDS)[number];
export type Indicators = Record<ListKind, string[]>;

export type FeedParse = { ok: true; indicators: Indicators; skipped: string[] } | { ok: false; reason: string };

/** A feed larger than this is refused rather than read into memory. */
export const MAX_FEED_BYTES = 64 * 1024 * 1024;

const empty = (): Record<ListKind, Set<string>> => ({
  ips: new Set(),
  cidrs: new Set(),
  domains: new Set(),
  sha256: new Set(),
  sha1: new Set(),
  md5: new Set(),
});
const DOMAIN = /^(?=.{1,253}$)(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** Feeds often carry defanged values ("198.51.100[.]7", "evil[dot]example"): turned back before they are checked. */
function refang(v: string): string {
  return v.replace(/\[\.\]|\(\.\)|\[dot\]|\(dot\)/gi, '.').replace(/\[:\]/g, ':');
}

function isCidr(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash < 0) return false;
  const ip = v.slice(0, slash);
  const bits = v.slice(slash + 1);
  const family = isIP(ip);
  if (!family || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** The list a plain value belongs to, or null when it is none of address, network, domain, hash. */
export function classify(raw: string): { kind: ListKind; value: string } | null {
  const v = refang(raw.trim());
  if (isIP(v)) return { kind: 'ips', value: v.toLowerCase() };
  if (isCidr(v)) return { kind: 'cidrs', value: v.toLowerCase() };
  if (/^[0-9a-f]+$/i.test(v)) {
    const kind = ({ 64: 'sha256', 40: 'sha1', 32: 'md5' } as Record<number, ListKind>)[v.length];
    return kind ? { kind, value: v.toLowerCase() } : null;
  }
  const d = v.toLowerCase().replace(/\.$/, '');
  return DOMAIN.test(d) ? { kind: 'domains', value: d } : null;
}

function finish(sets: Record<ListKind, Set<string>>, skipped: string[]): FeedParse {
  const indicators = Object.fromEntries(LIST_KINDS.map((k) => [k, [...sets[k]].sort()])) as Indicators;
  if (LIST_KINDS.every((k) => indicators[k].length === 0))
    return { ok: false, reason: 'the feed holds no indicator canhgac can use (an empty or truncated download keeps the previous lists)' };
  return { ok: true, indicators, skipped };
}

/** Splits one CSV line; quoted fields may hold commas and doubled quotes. */
function csvFields(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"' && line[i + 1] === '"') (v += '"'), (i += 2);
        else if (line[i] === '"') break;
        else v += line[i++];
      }
      i++;
      out.push(v);
      if (i < line.length && line[i] !== ',') return null;
      i++;
    } else {
      const end = line.indexOf(',', i);
      out.push(line.slice(i, end < 0 ? line.length : end).trim());
      i = end < 0 ? line.length + 1 : end + 1;
    }
  }
  return out;
}

const HEADER_NAMES = ['indicator', 'value', 'ioc', 'observable'];

/** One value a line (text), or the indicator column of a CSV (by header name, else the first column). */
export function parseList(text: string, csv: boolean): FeedParse {
  const sets = empty();
  const lines = text.split(/\r?\n/);
  let column = 0;
  let first = true;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line || line.startsWith('#')) continue;
    let value = line;
    if (csv) {
      const fields = csvFields(line);
      if (!fields) return { ok: false, reason: `line ${n + 1}: unbalanced quotes` };
      if (first) {
        first = false;
        const header = fields.findIndex((f) => HEADER_NAMES.includes(f.toLowerCase()));
        if (header >= 0) {
          column = header;
          continue;
        }
      }
      if (fields.length <= column) return { ok: false, reason: `line ${n + 1}: no column ${column + 1}` };
      value = fields[column]!;
    }
    const c = classify(value);
    if (!c) return { ok: false, reason: `line ${n + 1}: '${value.slice(0, 100)}' is not an IP address, network, domain or file hash` };
    sets[c.kind].add(c.value);
  }
  return finish(sets, []);
}

type Token = { t: 'str'; v: string } | { t: 'sym'; v: string } | { t: 'word'; v: string };

/** STIX patterning tokens (section 9); throws on text that is no pattern at all. */
function tokens(pattern: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (/\s/.test(c)) i++;
    else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= pattern.length) throw new Error('unterminated string literal');
        if (pattern[i] === '\\') {
          const next = pattern[i + 1];
          if (next !== "'" && next !== '\\') throw new Error(`invalid escape \\${next ?? ''}`);
          v += next;
          i += 2;
        } else if (pattern[i] === "'") break;
        else v += pattern[i++];
      }
      i++;
      out.push({ t: 'str', v });
    } else if ('[]()=,'.includes(c)) {
      out.push({ t: 'sym', v: c });
      i++;
    } else if ('!<>'.includes(c)) {
      const two = pattern.slice(i, i + 2);
      const op = two === '!=' || two === '<=' || two === '>=' ? two : c;
      out.push({ t: 'sym', v: op });
      i += op.length;
    } else {
      const m = /^[A-Za-z0-9_\-.:*]+/.exec(pattern.slice(i));
      if (!m) throw new Error(`unexpected '${c}'`);
      // A quoted property name inside a path (file:hashes.'SHA-256') is part of the path.
      let w = m[0];
      i += w.length;
      while (w.endsWith('.') && pattern[i] === "'") {
        const end = pattern.indexOf("'", i + 1);
        if (end < 0) throw new Error('unterminated property name');
        w += pattern.slice(i, end + 1);
        i = end + 1;
        const rest = /^[A-Za-z0-9_\-.]*/.exec(pattern.slice(i))![0];
        w += rest;
        i += rest.length;
      }
      out.push({ t: 'word', v: w });
    }
  }
  let depth = 0;
  for (const t of out) {
    if (t.t === 'sym' && t.v === '[') depth++;
    if (t.t === 'sym' && t.v === ']' && --depth < 0) throw new Error("']' without '['");
  }
  if (depth !== 0) throw new Error("'[' without ']'");
  return out;
}

const PATHS: Record<string, ListKind | 'ip' | 'hash'> = {
  'ipv4-addr:value': 'ip',
  'ipv6-addr:value': 'ip',
  'domain-name:value': 'domains',
  "file:hashes.'SHA-256'": 'sha256',
  'file:hashes.SHA256': 'sha256',
  "file:hashes.'SHA-1'": 'sha1',
  'file:hashes.SHA1': 'sha1',
  'file:hashes.MD5': 'md5',
  "file:hashes.'MD5'": 'md5',
};

/**
 * The values of a pattern made of equality comparisons on addresses, domains and file hashes joined by
 * OR (`[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'x.example']`). Anything else (AND,
 * sequences, other objects) is `unsupported`: skipped, not an error. Throws on a malformed pattern.
 */
export function patternValues(pattern: string): { kind: ListKind; value: string }[] | 'unsupported' {
  const ts = tokens(pattern);
  const values: { kind: ListKind; value: string }[] = [];
  let i = 0;
  const sym = (v: string) => ts[i]?.t === 'sym' && ts[i]!.v === v;
  const or = () => ts[i]?.t === 'word' && ts[i]!.v.toUpperCase() === 'OR';
  for (;;) {
    if (!sym('[')) return 'unsupported';
    i++;
    for (;;) {
      const path = ts[i];
      const op = ts[i + 1];
      const lit = ts[i + 2];
      if (path?.t !== 'word' || op?.t !== 'sym' || op.v !== '=' || lit?.t !== 'str') return 'unsupported';
      const target = PATHS[path.v];
      if (!target) return 'unsupported';
      const c = classify(lit.v);
      const kind = target === 'ip' ? (c?.kind === 'ips' || c?.kind === 'cidrs' ? c.kind : null) : c?.kind === target ? target : null;
      if (!kind || !c) throw new Error(`'${lit.v.slice(0, 100)}' is not a valid value for ${path.v}`);
      values.push({ kind, value: c.value });
      i += 3;
      if (or()) {
        i++;
        continue;
      }
      break;
    }
    if (!sym(']')) return 'unsupported';
    i++;
    if (i === ts.length) return values;
    if (!or()) return 'unsupported';
    i++;
  }
}

/** The indicators of a STIX 2.1 bundle that are in force now; revoked, expired and unsupported ones are skipped. */
export function parseStixBundle(text: string, now: Date): FeedParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const bundle = InboundBundleSchema.safeParse(json);
  if (!bundle.success) {
    const issue = bundle.error.issues[0]!;
    return { ok: false, reason: `not a STIX 2.1 bundle: ${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  const sets = empty();
  const skipped: string[] = [];
  for (const [n, o] of bundle.data.objects.entries()) {
    if (o.type !== 'indicator') continue;
    const ind = IndicatorSchema.safeParse(o);
    if (!ind.success) {
      const issue = ind.error.issues[0]!;
      return { ok: false, reason: `objects[${n}] (${o.id}): ${issue.path.join('.') || '(root)'}: ${issue.message}` };
    }
    const i = ind.data;
    if (i.revoked) {
      skipped.push(`${i.id}: revoked`);
      continue;
    }
    if (i.valid_until && Date.parse(i.valid_until) <= now.getTime()) {
      skipped.push(`${i.id}: expired ${i.valid_until}`);
      continue;
    }
    if (i.pattern_type !== 'stix') {
      skipped.push(`${i.id}: pattern_type ${i.pattern_type}`);
      continue;
    }
    let values;
    try {
      values = patternValues(i.pattern);
    } catch (err) {
      return { ok: false, reason: `objects[${n}] (${i.id}): pattern ${JSON.stringify(i.pattern.slice(0, 200))}: ${(err as Error).message}` };
    }
    if (values === 'unsupported') {
      skipped.push(`${i.id}: pattern not supported: ${i.pattern.slice(0, 200)}`);
      continue;
    }
    for (const v of values) sets[v.kind].add(v.value);
  }
  return finish(sets, skipped);
}

export function parseFeed(text: string, format: FeedConfig['format'], now: Date): FeedParse {
  const chosen =
    format !== 'auto'
      ? format
      : text.trimStart().startsWith('{')
        ? 'stix'
        : text.split(/\r?\n/).some((l) => !l.trim().startsWith('#') && l.includes(','))
          ? 'csv'
          : 'text';
  if (chosen === 'stix') return parseStixBundle(text, now);
  return parseList(text, chosen === 'csv');
}

export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** The feed's text from its file or https:// URL; throws with the reason. */
export async function readFeedSource(feed: FeedConfig, fetchImpl: FetchLike = fetch): Promise<string> {
  if (/^[a-z]+:\/\//i.test(feed.source)) {
    if (!feed.source.startsWith('https://')) throw new Error(`${feed.source}: feeds are fetched over https:// only`);
    const headers: Record<string, string> = { accept: 'application/taxii+json;version=2.1, application/json, text/plain, text/csv' };
    if (feed.tokenFile) headers.authorization = `Bearer ${readFileSync(feed.tokenFile, 'utf8').trim()}`;
    const res = await fetchImpl(feed.source, { headers, signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`${feed.source}: HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > MAX_FEED_BYTES) throw new Error(`${feed.source}: larger than ${MAX_FEED_BYTES} bytes`);
    return text;
  }
  if (!existsSync(feed.source)) throw new Error(`${feed.source}: no such file`);
  return readFileSync(feed.source, 'utf8');
}

export function listFileName(feed: string, kind: ListKind): string {
  return `${feed}_${kind}.txt`;
}

/**
 * Writes every list of a feed (an empty one too, so that its placeholder stays defined): all temporary
 * files first, each fsynced, then the renames, so a failure midway leaves the previous lists as they were.
 */
export function writeFeedLists(listsDir: string, feed: string, indicators: Indicators, header: string): string[] {
  mkdirSync(listsDir, { recursive: true });
  const staged: { tmp: string; file: string }[] = [];
  for (const kind of LIST_KINDS) {
    const file = join(listsDir, listFileName(feed, kind));
    // Not a .txt name: the list loader and the watcher ignore it until the rename.
    const tmp = join(listsDir, `.${listFileName(feed, kind)}.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `# ${header}\n${indicators[kind].map((v) => `${v}\n`).join('')}`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    staged.push({ tmp, file });
  }
  for (const s of staged) renameSync(s.tmp, s.file);
  const dirFd = openSync(listsDir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return staged.map((s) => s.file);
}

export type ImportResult =
  | { ok: true; feed: string; counts: Record<ListKind, number>; skipped: string[]; files: string[] }
  | { ok: false; feed: string; reason: string };

/** One import of one feed; never throws: a failure is the result, with the reason, and the lists are untouched. */
export async function importFeed(feed: FeedConfig, listsDir: string, opts: { now: () => Date; log: Logger; fetch?: FetchLike }): Promise<ImportResult> {
  let text: string;
  try {
    text = await readFeedSource(feed, opts.fetch);
  } catch (err) {
    opts.log.warn({ feed: feed.name, err: (err as Error).message }, 'feed not read; previous lists kept');
    return { ok: false, feed: feed.name, reason: (err as Error).message };
  }
  const now = opts.now();
  const parsed = parseFeed(text, feed.format, now);
  if (!parsed.ok) {
    opts.log.warn({ feed: feed.name, reason: parsed.reason }, 'malformed feed rejected; previous lists kept');
    return { ok: false, feed: feed.name, reason: `${feed.source}: ${parsed.reason}` };
  }
  const counts = Object.fromEntries(LIST_KINDS.map((k) => [k, parsed.indicators[k].length])) as Record<ListKind, number>;
  let files: string[];
  try {
    files = writeFeedLists(listsDir, feed.name, parsed.indicators, `feed ${feed.name} from ${feed.source}, imported ${now.toISOString()}`);
  } catch (err) {
    return { ok: false, feed: feed.name, reason: `writing the lists: ${(err as Error).message}` };
  }
  opts.log.info({ feed: feed.name, counts, skipped: parsed.skipped.length }, 'feed imported');
  return { ok: true, feed: feed.name, counts, skipped: parsed.skipped, files };
}
