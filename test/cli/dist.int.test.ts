import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../shared/package-root.ts';
import { compiledBin } from '../support/cli.ts';

// In the integration project although it needs no service: it rebuilds dist/, which no other test file
// may see half-written, and a build takes a core for several seconds.
const DIST = join(PACKAGE_ROOT, 'dist');

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [compiledBin, ...args], { cwd: PACKAGE_ROOT, encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the installed bin runs the compiled dist/', () => {
  beforeAll(() => {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 180_000 });
    expect(build.status, build.stdout + build.stderr).toBe(0);
  }, 200_000);

  it('holds JavaScript only, no test code, and nothing that loads tsx or the test folders', () => {
    const files = readdirSync(DIST, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files).toContain(join('cli', 'main.js'));
    expect(files.filter((f) => /\.test\.js$|(^|\/)test\//.test(f))).toEqual([]);
    for (const f of files) {
      const text = readFileSync(join(DIST, f), 'utf8');
      // No loader, no test helper, no specifier left pointing at a .ts source.
      expect(text, f).not.toMatch(/(from |import\()['"](tsx|[^'"]*\/test\/[^'"]*|[^'"]*\.ts)['"]/);
    }
  });

  it('lists every command, services included', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const name of ['start', 'collector', 'correlator', 'console', 'decode', 'rules', 'drill', 'operations', 'services', 'users']) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    }
  });

  it('finds the bundled rule pack from dist/ and decodes a real line', () => {
    const lint = run(['rules', 'lint']);
    expect(lint.status, lint.stderr).toBe(0);
    expect(lint.stderr + lint.stdout).toMatch(/\d+ rules loaded: 0 errors/);
    const line = '<4>Dec  2 10:00:00 srv-web-01 kernel: [1.0] IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.1 LEN=60 PROTO=TCP SPT=40000 DPT=22';
    const decoded = run(['decode', '--format', 'netfilter'], `${line}\n`);
    expect(decoded.status, decoded.stderr).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({ source: { ip: '203.0.113.7' }, destination: { port: 22 } });
  });
});
