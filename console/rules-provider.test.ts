import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rulesFromFolder } from './rules-provider.ts';

const RULES = join(dirname(fileURLToPath(import.meta.url)), 'test', 'rules');

describe('rulesFromFolder', () => {
  it('lists the loaded rules with their lint state and the files that did not load', async () => {
    const report = await rulesFromFolder(RULES)();
    const byId = Object.fromEntries(report.rules.map((r) => [r.id, r]));
    expect(byId['9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11']).toMatchObject({
      title: 'SSH brute force against a shared server',
      level: 'high',
      layer: 2,
      lint: { state: 'ok', findings: [] },
    });
    const warned = byId['3c2f8a9e-1b7d-4e61-8a0f-6c3d2b1a9e70']!;
    expect(warned.lint.state).toBe('warning');
    expect(warned.lint.findings[0]).toMatch(/no-layer\.yml:\d+:\d+: warning: .*layer/);
    expect(report.unloaded).toHaveLength(1);
    expect(report.unloaded[0]!.file).toMatch(/broken\.yml$/);
    expect(report.unloaded[0]!.findings[0]).toMatch(/broken\.yml:\d+:\d+: error:/);
  });

  it('loads the folder again only when a file it reads changed, was added or removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-provider-'));
    try {
      cpSync(RULES, dir, { recursive: true });
      const rules = rulesFromFolder(dir);
      const first = await rules();
      // Unchanged folder: the same report, not a new load.
      expect(await rules()).toBe(first);

      const file = join(dir, 'no-layer.yml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, 'title: Renamed rule'));
      const renamed = await rules();
      expect(renamed).not.toBe(first);
      expect(renamed.rules.find((r) => r.id === '3c2f8a9e-1b7d-4e61-8a0f-6c3d2b1a9e70')?.title).toBe('Renamed rule');
      expect(await rules()).toBe(renamed);

      // Context files count too: a list file added, then touched.
      mkdirSync(join(dir, 'lists'));
      writeFileSync(join(dir, 'lists', 'ips.txt'), '10.0.0.1\n');
      const withList = await rules();
      expect(withList).not.toBe(renamed);
      expect(await rules()).toBe(withList);
      utimesSync(join(dir, 'lists', 'ips.txt'), new Date(), new Date(Date.now() + 5000));
      expect(await rules()).not.toBe(withList);

      rmSync(join(dir, 'broken.yml'));
      const fixed = await rules();
      expect(fixed.unloaded).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
