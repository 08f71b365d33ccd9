import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorrelationEngine } from './correlation/engine.ts';
import { loadRuleSet } from './ruleset.ts';

const dir = join(import.meta.dirname, 'testdata', 'sigma');

/** Normalized events as the decoders produce them (ECS), one firewall and one antivirus shape. */
function firewall(action: string, src: string, port: number, t = '2024-05-02T10:00:00Z') {
  return {
    '@timestamp': t,
    event: { kind: 'event', category: ['network'], type: ['connection'], action, original: `${action} ${src} -> 10.10.1.10:${port}` },
    observer: { vendor: 'netgate', product: 'pfSense', type: 'firewall' },
    source: { ip: src, port: 51515 },
    destination: { ip: '10.10.1.10', port },
    network: { transport: 'tcp' },
  };
}

function antivirus(signature: string, path: string) {
  return {
    '@timestamp': '2024-05-02T10:00:00Z',
    event: { kind: 'alert', category: ['malware'], type: ['info'], action: 'detected', original: `${path}: ${signature} FOUND` },
    observer: { vendor: 'Cisco', product: 'ClamAV' },
    file: { path, name: path.split('\\').pop() },
    threat: { software: { name: signature } },
    host: { name: 'portal' },
  };
}

const ids = (matches: { rule: { title: string } }[]) => matches.map((m) => m.rule.title).sort();

describe('real Sigma rules for the firewall and antivirus categories', () => {
  const { ruleset, findings } = loadRuleSet([dir]);

  it('load without errors; the Windows rule is valid, its unknown fields are warnings', () => {
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(ruleset.detections.size).toBe(7);
    expect(ruleset.correlations.size).toBe(1);
    const unknown = findings.filter((f) => /is not in the event schema/.test(f.message));
    expect(unknown.map((f) => f.message.match(/field '(\w+)'/)![1]).sort()).toEqual(['CommandLine', 'CommandLine', 'Image']);
    expect(unknown.every((f) => f.file.endsWith('proc_creation_win_encoded_powershell.yml') && f.line > 1)).toBe(true);
  });

  it('firewall rules match normalized firewall events through the taxonomy mapping', () => {
    expect(ids(ruleset.match(firewall('pass', '10.1.2.3', 23)))).toEqual(['Cleartext Protocol Usage Allowed Through The Firewall']);
    expect(ids(ruleset.match(firewall('block', '10.1.2.3', 23)))).toEqual(['Firewall Denied Connection']);
    expect(ids(ruleset.match(firewall('pass', '203.0.113.9', 3389)))).toEqual(['RDP Allowed From Outside The Private Ranges']);
    expect(ids(ruleset.match(firewall('pass', '192.168.1.9', 3389)))).toEqual([]);
  });

  it('antivirus rules match normalized antivirus events', () => {
    expect(ids(ruleset.match(antivirus('Win.Trojan.Meterpreter-9', 'C:\\Users\\an\\x.exe')))).toEqual(['Antivirus Exploitation Framework Detection']);
    expect(ids(ruleset.match(antivirus('HackTool:Win32/Mimikatz', 'C:\\tools\\m.exe')))).toEqual(['Antivirus Password Dumper Detection']);
    expect(ids(ruleset.match(antivirus('Suspicious.Dump', 'C:\\Windows\\Temp\\lsass.dmp')))).toEqual(['Antivirus Password Dumper Detection']);
    expect(ids(ruleset.match(antivirus('PHP/WebShell.A', 'D:\\www\\upload\\x.php')))).toEqual(['Antivirus Web Shell Detection']);
    expect(ids(ruleset.match(antivirus('PHP/WebShell.A', 'D:\\src\\tests\\fixtures\\x.php')))).toEqual([]);
    expect(ids(ruleset.match(antivirus('Eicar-Test-Signature', 'C:\\eicar.com')))).toEqual([]);
  });

  it('log sources keep antivirus rules off firewall events and the reverse', () => {
    const fwWithSignature = { ...firewall('pass', '1.1.1.1', 443), threat: { software: { name: 'Meterpreter' } } };
    expect(ids(ruleset.match(fwWithSignature))).toEqual([]);
    expect(ids(ruleset.match(fwWithSignature, { ignoreLogsource: true }))).toEqual(['Antivirus Exploitation Framework Detection']);
  });

  it('the Windows rule works on flat events with its own field names when the log source is ignored', () => {
    const event = { Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', CommandLine: 'powershell.exe /enc SQBFAFgA' };
    expect(ids(ruleset.match(event, { ignoreLogsource: true }))).toEqual(['Encoded PowerShell Command Line']);
    const b64 = { Image: 'C:\\x\\pwsh.exe', CommandLine: `pwsh -noprofile ${Buffer.from('$a=1; IEX (New-Object Net.WebClient)').toString('base64')}` };
    expect(ids(ruleset.match(b64, { ignoreLogsource: true }))).toEqual(['Encoded PowerShell Command Line']);
  });

  it('the port-scan correlation in the same file counts distinct denied ports per source', () => {
    const engine = new CorrelationEngine(ruleset, {});
    const hits = [];
    for (let i = 0; i < 6; i++) {
      const ev = firewall('deny', '198.51.100.7', 1000 + i, new Date(Date.UTC(2024, 4, 2, 10, 0, i * 10)).toISOString());
      for (const m of ruleset.match(ev)) {
        expect(m.alert).toBe(false);
        hits.push(...engine.feed(m.rule.id, ev, Date.parse(ev['@timestamp']), i));
      }
    }
    expect(hits.map((h) => ({ rule: h.rule.title, group: h.group, refs: h.refs }))).toEqual([
      { rule: 'Port Scan Against The Data Centre', group: { src_ip: '198.51.100.7' }, refs: [0, 1, 2, 3, 4] },
    ]);
  });
});
