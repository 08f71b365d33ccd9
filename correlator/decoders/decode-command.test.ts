import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canhgac } from '../../test/support/cli.ts';

const LINES = [
  '<134>Nov 26 07:00:00 fw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.1 DST=10.0.0.1 LEN=60 PROTO=TCP SPT=4444 DPT=22',
  'this is not a log line',
  '%ASA-4-106023: Deny tcp src outside:203.0.113.6/40000 dst inside:10.0.0.10/3389 by access-group "outside_in" [0x0, 0x0]',
  '',
  'CEF:0|Vendor|Product|1.0|100',
  '<13>Nov 26 07:40:00 files01 clamd[1234]: /srv/a.exe: Win.Trojan.Agent-1 FOUND',
];

describe('canhgac decode', () => {
  it('writes one JSON event per input line, in order, and a summary on stderr; exit 0 despite pipeline errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-decode-'));
    const file = join(dir, 'mixed.log');
    writeFileSync(file, `${LINES.join('\r\n')}\n`);
    const r = canhgac(['decode', file]);
    expect(r.status).toBe(0);
    const events = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(LINES.length);
    expect(events.map((e) => e.event.original)).toEqual(LINES);
    expect(events.map((e) => e.event.kind)).toEqual(['event', 'pipeline_error', 'event', 'pipeline_error', 'pipeline_error', 'alert']);
    expect(events[0].source).toEqual({ ip: '203.0.113.1', port: 4444 });
    expect(events[2].event.module).toBe('cisco-asa');
    expect(events[4].error.message).toBe('cef: truncated header: 5 of 8 fields at position 28');
    expect(r.stderr).toBe('decode: 6 lines, 3 decoded (netfilter 1, cisco-asa 1, clamav 1), 3 pipeline errors\n');
  });

  it('places firewall lines on the servers of the --assets register, and names a register it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-decode-'));
    const assets = join(dir, 'assets.yml');
    writeFileSync(assets, 'assets:\n  - { host: srv-rdp-01, aliases: [10.0.0.10], unit: so-tc, security_level: 4, owner: { name: An } }\n');
    const r = canhgac(['decode', '--assets', assets, '-'], `${LINES[2]}\n`);
    expect(r.status).toBe(0);
    const event = JSON.parse(r.stdout);
    expect([event.host.name, event.labels.unit, event.labels.security_level, event.event.action]).toEqual(['srv-rdp-01', 'so-tc', '4', 'firewall-rule']);
    writeFileSync(assets, 'assets:\n  - { host: srv-rdp-01, unit: so-tc }\n');
    const broken = canhgac(['decode', '--assets', assets, '-'], `${LINES[2]}\n`);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/assets\.yml:2:\d+: .*security_level/);
  });

  it('reads standard input with - and applies --format and --timezone', () => {
    const r = canhgac(
      ['decode', '--format', 'netfilter', '--timezone', 'UTC', '-'],
      'Nov 26 07:00:00 fw kernel: IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 PROTO=UDP SPT=1 DPT=53\n',
    );
    expect(r.status).toBe(0);
    const event = JSON.parse(r.stdout);
    expect(event.event.module).toBe('netfilter');
    expect(event['@timestamp']).toMatch(/^\d{4}-11-26T07:00:00\.000Z$/);
  });

  it('decodes invalid UTF-8 bytes as U+FFFD, flags that line only and counts it', () => {
    const input = Buffer.concat([Buffer.from('<30>Nov 26 07:00:00 h app: caf'), Buffer.from([0xff]), Buffer.from('\n<30>Nov 26 07:00:00 h app: ok\n')]);
    const r = canhgac(['decode'], input as unknown as string);
    const events = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => [e.event.kind, e.message, e.labels?.line_escaped])).toEqual([
      ['event', 'caf\ufffd', 'invalid_utf8'],
      ['event', 'ok', undefined],
    ]);
    expect(r.stderr).toBe('decode: 2 lines, 2 decoded (syslog 2), 0 pipeline errors, 1 with characters replaced (labels.line_escaped)\n');
  });

  it('lists the formats', () => {
    const r = canhgac(['decode', '--list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^cisco-asa +Cisco ASA and Firepower Threat Defense/m);
    expect(r.stdout).toMatch(/^windows-firewall +Windows Firewall pfirewall\.log/m);
  });

  it('exits 2 on bad usage and 1 on a missing file, with one line naming it', () => {
    const bad = canhgac(['decode', '--format', 'nope']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("canhgac decode: unknown format 'nope' (see canhgac decode --list)\n");
    expect(canhgac(['decode', '--frobnicate']).status).toBe(2);
    expect(canhgac(['decode', 'a.log', 'b.log']).status).toBe(2);
    expect(canhgac(['decode', '--timezone', 'Mars/Olympus']).status).toBe(2);
    const missing = canhgac(['decode', '/nonexistent/fw.log']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('canhgac decode: /nonexistent/fw.log: no such file\n');
  });
});
