import { describe, expect, it } from 'vitest';
import { KAFKA_VERSION } from '../../cli/services/versions.ts';
import { canhgac } from '../support/cli.ts';

describe('canhgac executable', () => {
  it('lists its commands with --help and exits 0', () => {
    const r = canhgac(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: canhgac <command>/m);
    expect(r.stdout).toMatch(/^ {2}services +local Kafka and Elasticsearch/m);
  });

  it('exits 2 with one line on an unknown command', () => {
    const r = canhgac(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("canhgac: unknown command 'frobnicate' (see canhgac --help)\n");
  });

  it('exits 2 with no command at all', () => {
    expect(canhgac([]).status).toBe(2);
  });

  it('prints a command help with --help', () => {
    const r = canhgac(['services', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: canhgac services up\|down\|status/);
  });

  it('exits 2 on a bad subcommand, with one line naming it', () => {
    const r = canhgac(['services', 'sideways']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown subcommand 'sideways'");
  });

  it("has the inspectors' report under its own name, with the options of operations report", () => {
    const r = canhgac(['report', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: canhgac report \[--from TIME\] \[--to TIME\]/);
    expect(canhgac(['report', '--format', 'pdf']).status).toBe(2);
  });

  it('says what the local services are doing', () => {
    const r = canhgac(['services', 'status']);
    expect(r.status).toBe(0);
    const kafka = KAFKA_VERSION.replaceAll('.', '\\.');
    expect(r.stdout).toMatch(new RegExp(String.raw`^kafka ${kafka}: (running \(pid \d+\) at 127\.0\.0\.1:\d+|stopped)$`, 'm'));
    expect(r.stdout).toMatch(/^elasticsearch 8\.19\.7: (running \(pid \d+\) at http:\/\/127\.0\.0\.1:\d+|stopped)$/m);
  });
});
