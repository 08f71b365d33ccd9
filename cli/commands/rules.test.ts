import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const data = 'correlator/detection/testdata';

function canhgac(...args: string[]) {
  const r = spawnSync(process.execPath, ['test/support/canhgac-sources.mjs', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FINDING = /^(?<path>[^:]+):(?<line>\d+):(?<col>\d+): (?<severity>error|warning): (?<message>.+)$/;

describe('canhgac rules lint', () => {
  it('prints PATH:LINE:COL: severity: MESSAGE per finding, a summary, and exits 1 on errors', () => {
    const r = canhgac('rules', 'lint', `${data}/lint`);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    const summary = lines.pop()!;
    expect(summary).toBe('4 files, 1 rule loaded: 7 errors, 3 warnings');
    for (const l of lines) expect(l).toMatch(FINDING);
    const found = lines.map((l) => {
      const g = FINDING.exec(l)!.groups!;
      return `${String(g.path).split('/').pop()}:${g.line}:${g.col} ${g.severity}`;
    });
    expect(found).toEqual([
      'broken.yml:6:5 error',
      'broken.yml:15:26 error',
      'broken.yml:22:5 error',
      'broken.yml:30:11 error',
      'duplicate.yml:2:1 error',
      'invalid.yml:4:36 error',
      'invalid.yml:5:3 error',
      'warnings.yml:1:1 warning',
      'warnings.yml:5:5 warning',
      'warnings.yml:6:5 warning',
    ]);
    expect(r.stdout).toContain("unknown modifier 'startwith'");
    expect(r.stdout).toContain("condition names 'filter'");
    expect(r.stdout).toContain('cannot run on the linear-time engine');
    expect(r.stdout).toContain("rule 'no_such_rule' is not defined");
    expect(r.stdout).toContain("duplicate id 'lint-1'");
    expect(r.stdout).toContain("did you mean 'destination.port'?");
    expect(r.stdout).toContain("modifier 'all' on a single value changes nothing");
  });
  it('exits 0 with warnings only, and on the real Sigma test rules', () => {
    const w = canhgac('rules', 'lint', `${data}/lint/warnings.yml`, `${data}/sigma`);
    expect(w.code).toBe(0);
    expect(w.stdout.trimEnd().split('\n').pop()).toMatch(/^8 files, 9 rules loaded: 0 errors, \d+ warnings$/);
  });
  it('a 3,000-deep condition is one finding with its position, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-deep-'));
    const file = join(dir, 'deep.yml');
    writeFileSync(
      file,
      `title: deep\nid: deep\nlayer: 1\ndetection:\n  sel: { destination.port: 22 }\n  condition: ${'('.repeat(3000)}sel${')'.repeat(3000)}\n`,
    );
    const r = canhgac('rules', 'lint', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(`${file}:6:78: error: condition: nested deeper than 64 levels (parentheses and 'not')`);
  });
  it('--config checks against the limits of a correlator config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-limits-'));
    const rule = join(dir, 'list.yml');
    writeFileSync(
      rule,
      `title: list\nid: list\nlayer: 1\ndetection:\n  sel:\n    destination.port: [${Array.from({ length: 30 }, (_, i) => 1000 + i).join(', ')}]\n  condition: sel\n`,
    );
    const config = join(dir, 'correlator.yml');
    writeFileSync(config, 'correlator:\n  ruleLimits: { costWarning: 10, costError: 20 }\n');
    expect(canhgac('rules', 'lint', rule).code).toBe(0);
    const limited = canhgac('rules', 'lint', '--config', config, rule);
    expect(limited.code).toBe(1);
    expect(limited.stdout).toContain(
      `${rule}:6:5: error: estimated matching cost 30 per event (30 inline values, 0 wildcards, 0 regex characters, 1 selection references) is above the limit of 20`,
    );
    writeFileSync(config, 'correlator:\n  ruleLimits: { costWarning: many }\n');
    const bad = canhgac('rules', 'lint', '--config', config, rule);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/correlator\.yml:2:.*costWarning/);
  });
  it('bad usage exits 2', () => {
    expect(canhgac('rules', 'frobnicate').code).toBe(2);
    expect(canhgac('rules', 'test').code).toBe(2);
  });
});

describe('canhgac rules test', () => {
  it('prints one JSON line per match and per correlation hit, on event time', () => {
    const r = canhgac('rules', 'test', `${data}/cases`, '--events', `${data}/cases/events.ndjson`);
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toEqual([
      { rule: 'failing', event: 0 },
      { rule: 'ssh-conn', event: 0 },
      { rule: 'ssh-conn', event: 1 },
      { rule: 'ssh-conn', event: 3 },
      { rule: 'ssh-conn', event: 4 },
      { rule: 'brute', events: [0, 4, 3], group: { src_ip: '1.1.1.1' } },
    ]);
  });
  it('respects the log source unless --ignore-logsource', () => {
    const events = `${data}/ok/events.ndjson`;
    const lines = (s: string) =>
      s
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const id = '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11';
    const r = canhgac('rules', 'test', `${data}/ok`, '--events', events);
    expect(lines(r.stdout)).toEqual([{ rule: id, event: 0 }]);
    // A line that is not JSON is reported with its line number and makes the exit status 1.
    expect(r.stderr).toContain(`${events}:4:1: error: not JSON`);
    expect(r.code).toBe(1);
    const all = canhgac('rules', 'test', `${data}/ok`, '--events', events, '--ignore-logsource');
    expect(lines(all.stdout)).toEqual([
      { rule: id, event: 0 },
      { rule: id, event: 1 },
    ]);
  });
  it('decodes raw lines with --format', () => {
    const r = canhgac('rules', 'test', `${data}/sigma`, '--events', `${data}/cases/pfsense.log`, '--format', 'pfsense');
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ rule: '5e6f7a8b-9cad-4ebf-9012-4c5d6e7f8a08', event: 0 }]);
    expect(canhgac('rules', 'test', `${data}/sigma`, '--events', `${data}/cases/pfsense.log`, '--format', 'nope').code).toBe(2);
  });
  it('checks the test cases rules carry', () => {
    const ok = canhgac('rules', 'test', `${data}/ok`);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('1 rules with tests, 4 test cases, 0 failed\n');
    const bad = canhgac('rules', 'test', `${data}/cases`);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([`${data}/cases/failing-test.yml:10:7: error: test: rule 'failing' does not match tests.match[0]`]);
  });
});
