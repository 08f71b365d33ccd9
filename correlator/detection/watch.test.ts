import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleLimitsSchema } from './limits.ts';
import { watchRules, type ReloadEvent } from './watch.ts';

const rule = (id: string, value: string) => `title: ${id}\nid: ${id}\nlayer: 1\ndetection:\n  s: { a: ${value} }\n  condition: s\n`;
const ids = (e: { ruleset: { match(ev: unknown): { rule: { id: string } }[] } }, a: string) =>
  e.ruleset
    .match({ a })
    .map((m) => m.rule.id)
    .sort();

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'watch-'));
  mkdirSync(join(dir, 'lists'));
  writeFileSync(join(dir, 'one.yml'), rule('one', 'x'));
  writeFileSync(join(dir, 'two.yml'), rule('two', 'y'));
  return dir;
}

/** Waits for the watcher's next reload, bounded. */
function nextReload(events: ReloadEvent[], count: number): Promise<ReloadEvent> {
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

describe('hot reload', () => {
  it('swaps a changed file in; a broken file keeps its previous good version and is reported', async () => {
    const dir = setup();
    const events: ReloadEvent[] = [];
    const w = watchRules(dir, (e) => events.push(e), { debounceMs: 30 });
    try {
      expect(ids(w, 'x')).toEqual(['one']);
      writeFileSync(join(dir, 'one.yml'), rule('one', 'z'));
      const changed = await nextReload(events, 1);
      expect(changed.changed).toEqual([join(dir, 'one.yml')]);
      expect(ids(w, 'z')).toEqual(['one']);
      expect(ids(w, 'x')).toEqual([]);

      writeFileSync(join(dir, 'one.yml'), 'title: one\nid: one\ndetection:\n  s: { a|bogus: q }\n  condition: s\n');
      const broken = await nextReload(events, 2);
      expect(broken.kept).toEqual([join(dir, 'one.yml')]);
      expect(broken.findings.some((f) => f.severity === 'error' && f.file === join(dir, 'one.yml') && f.line === 4)).toBe(true);
      expect(ids(w, 'z')).toEqual(['one']);
      expect(ids(w, 'y')).toEqual(['two']);

      rmSync(join(dir, 'two.yml'));
      await nextReload(events, 3);
      expect(ids(w, 'y')).toEqual([]);
      expect(ids(w, 'z')).toEqual(['one']);
    } finally {
      w.close();
    }
  });
  it('a 3,000-deep condition on reload is an error naming the file; the file keeps its previous version, the others run', () => {
    const dir = setup();
    const w = watchRules(dir, () => undefined, { debounceMs: 10_000 });
    try {
      const deep = `${'('.repeat(3000)}s${')'.repeat(3000)}`;
      writeFileSync(join(dir, 'one.yml'), `title: one\nid: one\nlayer: 1\ndetection:\n  s: { a: q }\n  condition: ${deep}\n`);
      const e = w.reload();
      expect(e?.kept).toEqual([join(dir, 'one.yml')]);
      expect(e?.findings.filter((f) => f.severity === 'error')).toEqual([
        { file: join(dir, 'one.yml'), line: 6, col: 78, severity: 'error', message: "condition: nested deeper than 64 levels (parentheses and 'not')" },
      ]);
      expect(ids(w, 'x')).toEqual(['one']);
      expect(ids(w, 'y')).toEqual(['two']);
      expect(ids(w, 'q')).toEqual([]);
    } finally {
      w.close();
    }
  });
  it('a new file above the size limit is refused unread; the rules in force stay', () => {
    const dir = setup();
    const w = watchRules(dir, () => undefined, { debounceMs: 10_000, limits: RuleLimitsSchema.parse({ maxFileBytes: 4096 }) });
    try {
      writeFileSync(join(dir, 'huge.yml'), `${rule('huge', 'h')}# ${'x'.repeat(8192)}\n`);
      const e = w.reload();
      expect(e?.findings.filter((f) => f.severity === 'error').map((f) => [f.file, f.line, f.message.slice(0, 48)])).toEqual([
        [join(dir, 'huge.yml'), 1, 'the file is larger than the rule file limit of 4'],
      ]);
      expect(ids(w, 'h')).toEqual([]);
      expect(ids(w, 'x')).toEqual(['one']);
    } finally {
      w.close();
    }
  });
  it('loads a rule refused for a missing list once the list file appears', () => {
    const dir = setup();
    writeFileSync(join(dir, 'ioc.yml'), "title: ioc\nid: ioc\nlayer: 4\ndetection:\n  s: { a|expand: '%ioc%' }\n  condition: s\n");
    const w = watchRules(dir, () => undefined, { debounceMs: 10_000 });
    try {
      expect(w.findings.filter((f) => f.severity === 'error').map((f) => f.message)).toEqual([
        'placeholder %ioc% is not resolved: no list rules/lists/ioc.txt (an empty list file resolves it)',
      ]);
      expect(w.ruleset.detections.has('ioc')).toBe(false);
      writeFileSync(join(dir, 'lists', 'ioc.txt'), '6.6.6.6\n');
      const e = w.reload();
      expect(e?.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(ids(w, '6.6.6.6')).toEqual(['ioc']);
      expect(w.reload()).toBeNull();
    } finally {
      w.close();
    }
  });
  it('reloads lists and the asset register; a broken register keeps the previous one', () => {
    const dir = setup();
    writeFileSync(join(dir, 'ioc.yml'), "title: ioc\nid: ioc\nlayer: 4\ndetection:\n  s: { a|expand: '%ioc%' }\n  condition: s\n");
    writeFileSync(join(dir, 'lists', 'ioc.txt'), '# filled by the national feed\n');
    writeFileSync(join(dir, 'assets.yml'), 'assets:\n  - { host: web01, unit: U, security_level: 2, owner: { name: O } }\n');
    const w = watchRules(dir, () => undefined, { debounceMs: 10_000 });
    try {
      expect(w.findings.map((f) => f.message).filter((m) => /placeholder/.test(m))).toEqual([]);
      expect(ids(w, '6.6.6.6')).toEqual([]);
      writeFileSync(join(dir, 'lists', 'ioc.txt'), '6.6.6.6\n');
      const e = w.reload();
      expect(e?.changed).toEqual([join(dir, 'lists')]);
      expect(ids(w, '6.6.6.6')).toEqual(['ioc']);
      writeFileSync(join(dir, 'assets.yml'), 'assets:\n  - { host: web01, unit: U, security_level: 9, owner: { name: O } }\n');
      const bad = w.reload();
      expect(bad?.findings.some((f) => f.file === join(dir, 'assets.yml') && f.severity === 'error')).toBe(true);
      expect(w.ruleset.context.assets.lookup('web01')?.security_level).toBe(2);
      writeFileSync(join(dir, 'assets.yml'), 'assets:\n  - { host: web01, unit: U, security_level: 5, owner: { name: O } }\n');
      w.reload();
      expect(w.ruleset.context.assets.lookup('web01')?.security_level).toBe(5);
      expect(w.reload()).toBeNull();
    } finally {
      w.close();
    }
  });
});
