import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ruleHealthAudit } from '../../operations/audits/rule-health.ts';
import { decodeLine } from '../index.ts';
import { useCustomDecoders } from '../registry.ts';
import { watchDecoders, type DecodersReload } from './watch.ts';

const LINE = '<134>Nov 26 07:59:01 waf-01 acmewaf[88]: src=203.0.113.7 verdict=block';

/** A decoder taking program acmewaf that maps `field` to source.ip. */
const decoderFile = (field: string) =>
  `name: acme-waf\nmatch: { program: acmewaf }\nparse: { kv: }\nobserver: { vendor: ACME, product: WAF }\nfields:\n  source.ip: ${field}\n  event.action: verdict\n`;

function decoded() {
  const e = decodeLine(LINE, { received: new Date('2026-11-26T01:00:00Z') }) as unknown as {
    event: { module: string; action?: string };
    source?: { ip?: string };
  };
  return { module: e.event.module, ip: e.source?.ip, action: e.event.action };
}

function nextReload(events: DecodersReload[], count: number): Promise<DecodersReload> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (events.length >= count) {
        clearInterval(poll);
        resolve(events[count - 1]!);
      } else if (Date.now() - started > 5000) {
        clearInterval(poll);
        reject(new Error('no reload within 5 s'));
      }
    }, 20);
  });
}

afterEach(() => useCustomDecoders([]));

describe('custom decoders hot reload', () => {
  it('a decoder added, changed, broken and fixed while running: the broken file keeps its last good version and is reported until fixed', async () => {
    const rules = mkdtempSync(join(tmpdir(), 'decoders-watch-'));
    const dir = join(rules, 'decoders');
    const file = join(dir, 'acme.yml');
    const events: DecodersReload[] = [];
    // The folder does not exist yet: the watcher picks it up when it appears.
    const w = watchDecoders(dir, (e) => events.push(e), { debounceMs: 30 });
    try {
      expect(w.decoders).toEqual([]);
      expect(decoded().module).not.toBe('acme-waf');

      mkdirSync(dir);
      writeFileSync(file, decoderFile('src'));
      const added = await nextReload(events, 1);
      expect(added.changed).toContain(file);
      expect(decoded()).toEqual({ module: 'acme-waf', ip: '203.0.113.7', action: 'block' });

      writeFileSync(file, decoderFile('src') + 'rules:\n  - set: { event.outcome: maybe }\n');
      const broken = await nextReload(events, events.length + 1);
      expect(broken.kept).toEqual([file]);
      expect(w.findings.map((f) => `${f.file}:${f.line}:${f.col}`)).toEqual([`${file}:9:12`]);
      // The last good version still decodes.
      expect(decoded()).toEqual({ module: 'acme-waf', ip: '203.0.113.7', action: 'block' });
      // ... and the rule-health audit turns the finding into the same incident a broken rule raises.
      const health = ruleHealthAudit(w.findings);
      expect(health).toHaveLength(1);
      expect(health[0]).toMatchObject({ audit: 'rule-health', group: { 'rule.file': file } });
      expect(health[0]!.message).toContain('first at line 9, column 12');

      writeFileSync(file, decoderFile('nosuchfield'));
      await nextReload(events, events.length + 1);
      expect(w.findings).toEqual([]);
      expect(decoded()).toEqual({ module: 'acme-waf', ip: undefined, action: 'block' });

      rmSync(file);
      await nextReload(events, events.length + 1);
      expect(w.decoders).toEqual([]);
      expect(decoded().module).not.toBe('acme-waf');
    } finally {
      w.close();
      rmSync(rules, { recursive: true, force: true });
    }
  });

  it('a file broken from the start is left out and reported; close() uninstalls the decoders', () => {
    const rules = mkdtempSync(join(tmpdir(), 'decoders-watch-'));
    const dir = join(rules, 'decoders');
    mkdirSync(dir);
    writeFileSync(join(dir, 'good.yml'), decoderFile('src'));
    writeFileSync(join(dir, 'bad.yml'), 'name: other\nmatch: { prefix: x }\nparse: { regex: "(no group)" }\nobserver: { vendor: A, product: B }\n');
    const w = watchDecoders(dir);
    try {
      expect(w.decoders.map((d) => d.name)).toEqual(['acme-waf']);
      expect(w.findings.map((f) => `${f.line}:${f.col} ${f.message}`)).toEqual([
        '3:10 the regular expression names no group: write (?P<name>...) for each field to keep',
      ]);
      expect(decoded().module).toBe('acme-waf');
    } finally {
      w.close();
      rmSync(rules, { recursive: true, force: true });
    }
    expect(decoded().module).not.toBe('acme-waf');
  });
});
