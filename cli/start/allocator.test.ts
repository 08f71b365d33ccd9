import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ALLOCATOR_SET, allocatorEnv, START_ALLOCATOR_ENV } from './allocator.ts';

describe('allocatorEnv: when start re-executes itself with glibc settings', () => {
  it('asks for it for start on Linux, with the settings and the marker, keeping the rest of the environment', () => {
    const env = allocatorEnv(['start', '--data', '/tmp/x'], { PATH: '/usr/bin', CANHGAC_ADMIN_PASSWORD: 'p' }, 'linux');
    expect(env).toEqual({ ...START_ALLOCATOR_ENV, PATH: '/usr/bin', CANHGAC_ADMIN_PASSWORD: 'p', [ALLOCATOR_SET]: '1' });
    expect(Object.keys(START_ALLOCATOR_ENV).length).toBeGreaterThan(0);
  });

  it('not once the marker is set: the re-executed process runs as it is', () => {
    expect(allocatorEnv(['start'], { [ALLOCATOR_SET]: '1' }, 'linux')).toBeUndefined();
  });

  it('not for the other commands', () => {
    for (const command of ['collector', 'correlator', 'console', 'drill', 'services', 'users']) {
      expect(allocatorEnv([command, 'start'], {}, 'linux')).toBeUndefined();
    }
    expect(allocatorEnv([], {}, 'linux')).toBeUndefined();
  });

  it('not outside Linux, where the variables are not glibc’s', () => {
    expect(allocatorEnv(['start'], {}, 'darwin')).toBeUndefined();
    expect(allocatorEnv(['start'], {}, 'win32')).toBeUndefined();
  });

  it('leaves a setting the user chose himself as it is', () => {
    const env = allocatorEnv(['start'], { MALLOC_ARENA_MAX: '4' }, 'linux');
    expect(env?.MALLOC_ARENA_MAX).toBe('4');
    expect(env?.[ALLOCATOR_SET]).toBe('1');
  });
});

describe('execWithAllocatorSettings', () => {
  // A script that calls it as the bin does, in a child process: it prints its process id before the call
  // and the settings it ends up with after it.
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-allocator-'));
  const script = join(dir, 'run.mjs');
  writeFileSync(
    script,
    `import { execWithAllocatorSettings } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'allocator.ts')).href)};
    console.log('before ' + process.pid);
    execWithAllocatorSettings(process.argv.slice(2));
    console.log(JSON.stringify({ pid: process.pid, arena: process.env.MALLOC_ARENA_MAX ?? null, set: process.env.${ALLOCATOR_SET} ?? null }));
    process.exitCode = 7;
`,
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (argv: string[]) => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', script, ...argv], {
      encoding: 'utf8',
      env: { ...process.env, [ALLOCATOR_SET]: undefined, MALLOC_ARENA_MAX: undefined },
    });
    const lines = res.stdout.trim().split('\n');
    return { status: res.status, before: lines.slice(0, -1), after: JSON.parse(lines.at(-1)!) as { pid: number; arena: string | null; set: string | null } };
  };

  it.skipIf(process.platform !== 'linux')('re-executes start once, as the same process, with the settings and its exit status', () => {
    const res = run(['start', '--port', '0']);
    expect(res.status).toBe(7);
    // Two runs of the script before the call (the first, then the re-executed one), one after it.
    expect(res.before).toEqual([`before ${res.after.pid}`, `before ${res.after.pid}`]);
    expect(res.after).toMatchObject({ arena: START_ALLOCATOR_ENV.MALLOC_ARENA_MAX, set: '1' });
  });

  it('runs another command as it is', () => {
    const res = run(['collector']);
    expect(res.status).toBe(7);
    expect(res.before).toEqual([`before ${res.after.pid}`]);
    expect(res.after).toMatchObject({ arena: null, set: null });
  });
});
