import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/log.ts';
import { ListStore } from '../../detection/lists.ts';
import { watchRules } from '../../detection/watch.ts';
import { FeedSchema } from '../config.ts';
import { importFeed, parseFeed, patternValues, type FetchLike } from './feeds.ts';

const NOW = new Date('2026-11-20T00:00:00.000Z');
const opts = { now: () => NOW, log: createLogger('feeds-test') };
const H256 = 'b'.repeat(64);

function indicator(n: number, pattern: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--0000000${n}-1111-4111-8111-111111111111`,
    created: '2026-11-01T00:00:00.000Z',
    modified: '2026-11-01T00:00:00.000Z',
    pattern,
    pattern_type: 'stix',
    valid_from: '2026-11-01T00:00:00Z',
    ...extra,
  };
}

const bundle = (objects: unknown[]) => JSON.stringify({ type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects });

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-feeds-'));
  const lists = join(dir, 'lists');
  const feedFile = join(dir, 'feed');
  return { dir, lists, feedFile, feed: (over: Record<string, unknown> = {}) => FeedSchema.parse({ name: 'ncsc', source: feedFile, ...over }) };
}

describe('national indicator feeds', () => {
  it('turns a STIX 2.1 indicator bundle into the lists the expand placeholders read', async () => {
    const s = setup();
    writeFileSync(
      s.feedFile,
      bundle([
        {
          type: 'identity',
          spec_version: '2.1',
          id: 'identity--5d0092c5-5f74-4287-9642-33f4c354e56d',
          created: '2026-01-01T00:00:00.000Z',
          modified: '2026-01-01T00:00:00.000Z',
          name: 'NCSC',
        },
        indicator(1, "[ipv4-addr:value = '203.0.113.7']"),
        indicator(2, "[domain-name:value = 'c2.example.net'] OR [ipv4-addr:value = '198.51.100.0/24']"),
        indicator(3, `[file:hashes.'SHA-256' = '${H256.toUpperCase()}']`),
        indicator(4, "[ipv6-addr:value = '2001:db8::66' OR ipv6-addr:value = '2001:db8::67']"),
        indicator(5, "[ipv4-addr:value = '192.0.2.99']", { valid_until: '2026-11-10T00:00:00Z' }),
        indicator(6, "[ipv4-addr:value = '192.0.2.98']", { revoked: true }),
        indicator(7, "[url:value = 'http://x.example/a']"),
        indicator(8, "[ipv4-addr:value = '192.0.2.97' AND network-traffic:dst_port = 443]"),
        indicator(9, 'rule x { condition: true }', { pattern_type: 'yara' }),
      ]),
    );
    const r = await importFeed(s.feed(), s.lists, opts);
    expect(r).toMatchObject({ ok: true, counts: { ips: 3, cidrs: 1, domains: 1, sha256: 1, sha1: 0, md5: 0 } });
    expect(r.ok && r.skipped.length).toBe(5);

    const store = new ListStore();
    expect(store.loadDir(s.lists)).toEqual([]);
    expect(store.get('ncsc_ips')).toEqual(['2001:db8::66', '2001:db8::67', '203.0.113.7']);
    expect(store.get('ncsc_cidrs')).toEqual(['198.51.100.0/24']);
    expect(store.get('ncsc_domains')).toEqual(['c2.example.net']);
    expect(store.get('ncsc_sha256')).toEqual([H256]);
    expect(store.get('ncsc_md5')).toEqual([]);
    expect(readdirSync(s.lists).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads plain lists (defanged values too) and CSV by its indicator column', async () => {
    const s = setup();
    writeFileSync(s.feedFile, `# national list 2026-11-19\n203.0.113.9\nevil[.]example.org\n\n${'c'.repeat(40)}\n10.66.0.0/16\n`);
    expect(await importFeed(s.feed({ format: 'text' }), s.lists, opts)).toMatchObject({ ok: true, counts: { ips: 1, domains: 1, sha1: 1, cidrs: 1 } });
    writeFileSync(s.feedFile, `type,indicator,note\nip,203.0.113.10,"scanner, seen twice"\nmd5,${'d'.repeat(32)},dropper\n`);
    expect(await importFeed(s.feed(), s.lists, opts)).toMatchObject({ ok: true, counts: { ips: 1, md5: 1, domains: 0 } });
    expect(readFileSync(join(s.lists, 'ncsc_ips.txt'), 'utf8')).toMatch(/^# feed ncsc from .*\n203\.0\.113\.10\n$/);
    // The previous import's domain is gone: a feed replaces its lists whole.
    expect(
      readFileSync(join(s.lists, 'ncsc_domains.txt'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    ).toEqual([]);
  });

  it('rejects a malformed feed whole with the reason and keeps the previous lists', async () => {
    const s = setup();
    writeFileSync(s.feedFile, '203.0.113.1\n');
    await importFeed(s.feed(), s.lists, opts);
    const before = readFileSync(join(s.lists, 'ncsc_ips.txt'), 'utf8');
    const cases: [string, RegExp][] = [
      ['{"type": "bundle", "id": ', /not JSON/],
      [JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [] }), /not a STIX 2.1 bundle: id/],
      [bundle([indicator(1, "[ipv4-addr:value = '203.0.113.5'")]), /pattern .*'\[' without '\]'/],
      [bundle([indicator(1, "[ipv4-addr:value = '203.0.113.5]")]), /unterminated string literal/],
      [bundle([indicator(1, "[ipv4-addr:value = '999.1.1.1']")]), /'999\.1\.1\.1' is not a valid value for ipv4-addr:value/],
      [bundle([{ ...indicator(1, "[ipv4-addr:value = '203.0.113.5']"), valid_from: undefined }]), /objects\[0\].*valid_from/],
      [bundle([indicator(1, "[url:value = 'http://x']")]), /no indicator canhgac can use/],
      ['203.0.113.2\nnot an indicator!\n', /line 2: 'not an indicator!' is not an IP address/],
      ['', /no indicator/],
    ];
    for (const [text, reason] of cases) {
      writeFileSync(s.feedFile, text);
      const r = await importFeed(s.feed(), s.lists, opts);
      expect(r.ok, text).toBe(false);
      expect(!r.ok && r.reason, text).toMatch(reason);
      expect(readFileSync(join(s.lists, 'ncsc_ips.txt'), 'utf8')).toBe(before);
    }
    expect(await importFeed(s.feed({ source: join(s.dir, 'absent') }), s.lists, opts)).toMatchObject({ ok: false, reason: /no such file/ });
  });

  it('fetches a feed over https with its token; plain http is refused', async () => {
    const s = setup();
    writeFileSync(join(s.dir, 'token'), 'secret-token\n');
    const calls: { url: string; auth: string | undefined }[] = [];
    const fetchImpl: FetchLike = async (url, init) => {
      calls.push({ url, auth: init.headers.authorization });
      return { ok: true, status: 200, text: async () => bundle([indicator(1, "[domain-name:value = 'phish.example.com']")]) };
    };
    const r = await importFeed(s.feed({ source: 'https://feeds.example.gov.vn/ncsc.json', tokenFile: join(s.dir, 'token') }), s.lists, {
      ...opts,
      fetch: fetchImpl,
    });
    expect(r).toMatchObject({ ok: true, counts: { domains: 1 } });
    expect(calls).toEqual([{ url: 'https://feeds.example.gov.vn/ncsc.json', auth: 'Bearer secret-token' }]);
    const down: FetchLike = async () => ({ ok: false, status: 503, text: async () => '' });
    expect(await importFeed(s.feed({ source: 'https://feeds.example.gov.vn/ncsc.json' }), s.lists, { ...opts, fetch: down })).toMatchObject({
      ok: false,
      reason: /HTTP 503/,
    });
    expect(await importFeed(s.feed({ source: 'http://feeds.example.gov.vn/x' }), s.lists, { ...opts, fetch: fetchImpl })).toMatchObject({
      ok: false,
      reason: /https:\/\/ only/,
    });
  });

  it('reads the patterns it supports and calls the rest unsupported', () => {
    expect(patternValues("[file:hashes.MD5 = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']")).toEqual([{ kind: 'md5', value: 'a'.repeat(32) }]);
    // The escaped quote is decoded, and a domain cannot hold one.
    expect(() => patternValues("[domain-name:value = 'it\\'s.example']")).toThrow("'it's.example' is not a valid value for domain-name:value");
    expect(patternValues("[ipv4-addr:value != '203.0.113.1']")).toBe('unsupported');
    expect(patternValues("[ipv4-addr:value = '203.0.113.1'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.2']")).toBe('unsupported');
    expect(patternValues("[ipv4-addr:value = '203.0.113.1'] WITHIN 5 SECONDS")).toBe('unsupported');
    expect(() => patternValues("[domain-name:value = 'bad\\x']")).toThrow(/invalid escape/);
    expect(parseFeed('203.0.113.1, 203.0.113.2', 'auto', NOW)).toMatchObject({ ok: true, indicators: { ips: ['203.0.113.1'] } });
  });

  it('reaches the rules: an expand placeholder matches the imported indicators after the watcher reloads, without a restart', async () => {
    const s = setup();
    const rules = join(s.dir, 'rules');
    mkdirSync(join(rules, 'lists'), { recursive: true });
    writeFileSync(join(rules, 'lists', 'ncsc_ips.txt'), '192.0.2.1\n');
    writeFileSync(
      join(rules, 'national-ip.yml'),
      [
        'title: Traffic from a national indicator address',
        'id: 5f1b9a52-7d0c-4a0e-9a55-3c1f2d7e8b10',
        'level: high',
        'layer: 4',
        'logsource: { category: firewall }',
        'detection:',
        '  sel:',
        "    source.ip|expand: '%ncsc_ips%'",
        '  condition: sel',
        '',
      ].join('\n'),
    );
    const watcher = watchRules(rules, () => undefined);
    try {
      const ev = { '@timestamp': '2026-11-20T00:00:00Z', event: { kind: 'event', category: ['network'], original: 'x' }, source: { ip: '203.0.113.77' } };
      const matches = () => watcher.ruleset.match(ev, { ignoreLogsource: true }).map((m) => m.rule.id);
      expect(matches()).toEqual([]);
      writeFileSync(s.feedFile, '203.0.113.77\n');
      expect((await importFeed(s.feed(), join(rules, 'lists'), opts)).ok).toBe(true);
      watcher.reload();
      expect(matches()).toEqual(['5f1b9a52-7d0c-4a0e-9a55-3c1f2d7e8b10']);
      writeFileSync(s.feedFile, '{ broken');
      expect((await importFeed(s.feed(), join(rules, 'lists'), opts)).ok).toBe(false);
      watcher.reload();
      expect(matches()).toEqual(['5f1b9a52-7d0c-4a0e-9a55-3c1f2d7e8b10']);
    } finally {
      watcher.close();
    }
  });
});
