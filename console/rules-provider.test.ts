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
});
