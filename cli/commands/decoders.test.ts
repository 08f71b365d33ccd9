import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function canhgac(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['bin/canhgac.mjs', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CLAVISTER =
  'id=600001 event=conn_open [message=Connection opened conndestzone="Zone_T0" connrecvzone="Zone_INTRA" ][rules rule=Alw_NET ][conn [conn conn=Open connsrcip=10.20.1.4 conndestip=10.30.0.8 connipproto=TCP connsrcport=51000 conndestport=22 ]]';

function brokenDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-decoders-'));
  writeFileSync(
    join(dir, 'acme.yml'),
    "name: acme-waf\nmatch: { program: acmewaf }\nparse: { regex: '(?P<src>\\S+' }\nobserver: { vendor: ACME, product: WAF }\n",
  );
  return dir;
}

describe('canhgac decoders lint', () => {
  it('passes the shipped examples (rules/decoders) and exits 0', () => {
    const r = canhgac(['decoders', 'lint']);
    expect(r.stdout.trim()).toBe('2 files, 2 decoders loaded: 0 errors, 0 warnings');
    expect(r.code).toBe(0);
  });

  it('prints PATH:LINE:COL for a broken file and exits 1', () => {
    const dir = brokenDir();
    const r = canhgac(['decoders', 'lint', dir]);
    expect(r.code).toBe(1);
    const [finding, summary] = r.stdout.trim().split('\n');
    expect(finding).toMatch(new RegExp(`^${join(dir, 'acme.yml')}:3:10: error: regular expression cannot run on the linear-time engine \\(RE2\\)`));
    expect(summary).toBe('1 file, 0 decoders loaded: 1 error, 0 warnings');
  });
});

describe('canhgac decode --decoders', () => {
  it('decodes with the custom decoders before the built-in ones', () => {
    const r = canhgac(['decode', '--decoders', 'rules/decoders', '-'], `${CLAVISTER}\n`);
    expect(r.code).toBe(0);
    const event = JSON.parse(r.stdout) as { event: { module: string; type: string[] }; source: { ip: string }; destination: { port: number } };
    expect([event.event.module, event.source.ip, event.destination.port]).toEqual(['clavister-ngfw', '10.20.1.4', 22]);
    expect(r.stderr).toContain('1 decoded (clavister-ngfw 1)');
    expect(canhgac(['decode', '--list', '--decoders', 'rules/decoders']).stdout).toMatch(/^clavister-ngfw +Clavister NGFW/m);
  });

  it('stops on a broken decoder folder with the finding on standard error', () => {
    const r = canhgac(['decode', '--decoders', brokenDir(), '-'], `${CLAVISTER}\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/acme\.yml:3:10: error: regular expression/);
  });
});

describe('canhgac rules test on raw lines', () => {
  it("uses the rules folder's custom decoders, so rules fire on the appliance's lines", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-rules-'));
    const events = join(dir, 'clavister.log');
    writeFileSync(events, `${CLAVISTER.replace('event=conn_open', 'event=tcp_syn_data action=drop')}\n`);
    const r = canhgac(['rules', 'test', 'rules', '--events', events, '--format', 'auto']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('{"rule":"fw_denied","event":0}');
  });
});
