import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_FILE_MACHINE_AMD64, readPe } from './pe.ts';

const root = join(import.meta.dirname, '..', '..');
const out = join(root, 'dist-windows');

// Not a service test, but heavy (a 90 MiB binary rewritten by postject's WebAssembly LIEF, about 2.4 GB
// of memory): it runs in the integration project, one file at a time.
describe('npm run build:windows', () => {
  it('makes canhgac-collector.exe: a PE32+ x64 console program carrying the SEA blob, its fuse set', () => {
    execFileSync('npm', ['run', '--silent', 'build:windows'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    const exe = readFileSync(join(out, 'canhgac-collector.exe'));
    const pe = readPe(exe);
    expect(pe.machine).toBe(IMAGE_FILE_MACHINE_AMD64);
    expect(pe.subsystem).toBe(3);
    expect(pe.sections.map((s) => s.name)).toEqual(expect.arrayContaining(['.text', '.rdata', '.data', '.rsrc']));
    expect(pe.rcdata.get('NODE_SEA_BLOB')).toBe(statSync(join(out, 'sea-prep.blob')).size);
    // postject flips the sentinel fuse so that node.exe runs the blob instead of its usual CLI.
    expect(exe.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
    expect(() => readPe(readFileSync(join(out, 'sea-prep.blob')))).toThrow(/no MZ/);
    process.stderr.write(`[build:windows] canhgac-collector.exe ${exe.length} bytes (${(exe.length / 1024 ** 2).toFixed(1)} MiB)\n`);
  }, 300_000);

  it('bundles a collector that runs: --help, --check of the Windows example and of a bad config (run here by Node on Linux)', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [join(out, 'canhgac-collector.cjs'), ...args], { encoding: 'utf8' });
    expect(run('--help').stdout).toMatch(/^Usage: canhgac-collector \[--config FILE\] \[--check\]/);
    const ok = run('--check', '--config', join(root, 'collector', 'collector.windows.example.yml'));
    expect([ok.status, ok.stdout.trim()]).toEqual([
      0,
      `${join(root, 'collector', 'collector.windows.example.yml')}: valid; host srv-ketoan-01, sources winlog (winlog)`,
    ]);
    const bad = run('--check', '--config', join(root, 'collector', 'windows', 'pe.ts'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^canhgac-collector: .*pe\.ts/);
  });
});
