import { describe, expect, it } from 'vitest';
import { decoded } from '../test-support/decode.ts';
import { parseCef, parseExtension } from './cef.ts';

// Lines written after each product's documented output (clamd/clamscan/freshclam, the Defender event
// schema, the CEF specification, the vendors' syslog export guides).

describe('ClamAV', () => {
  it('reads a clamd detection through syslog', () => {
    const f = decoded('<13>Nov 26 07:40:00 files01 clamd[1234]: /srv/share/invoice.pdf.exe: Win.Trojan.Agent-123456 FOUND');
    expect([f('file.path'), f('file.name'), f('threat.software.name'), f('event.kind'), f('event.category')]).toEqual([
      '/srv/share/invoice.pdf.exe',
      'invoice.pdf.exe',
      'Win.Trojan.Agent-123456',
      'alert',
      ['malware'],
    ]);
    expect(f('observer.type')).toBe('antivirus');
  });

  it("reads clamd's own log time and clamscan output with a hash", () => {
    const f = decoded('Thu Nov 26 07:41:00 2026 -> /home/user/eicar.com: Eicar-Signature(44d88612fea8a8f36de82e1278abb02f:68) FOUND');
    expect([f('threat.software.name'), f('file.hash.md5'), f('@timestamp')]).toEqual([
      'Eicar-Signature',
      '44d88612fea8a8f36de82e1278abb02f',
      '2026-11-26T00:41:00.000Z',
    ]);
    expect(decoded('/tmp/scan/sample.doc: Doc.Dropper.Agent-1 FOUND')('threat.software.name')).toBe('Doc.Dropper.Agent-1');
  });

  it('reads freshclam updates and failures', () => {
    const ok = decoded('<30>Nov 26 07:42:00 files01 freshclam[99]: daily.cvd updated (version: 27100, sigs: 2066000, f-level: 90, builder: raynman)');
    expect([ok('event.action'), ok('event.outcome'), ok('event.category')]).toEqual(['signature-updated', 'success', ['configuration']]);
    const bad = decoded("<27>Nov 26 07:43:00 files01 freshclam[99]: ERROR: Can't download daily.cvd from database.clamav.net");
    expect([bad('event.action'), bad('event.outcome')]).toEqual(['signature-update-failed', 'failure']);
    expect(
      decoded('<30>Nov 26 07:44:00 files01 freshclam[99]: main.cvd database is up-to-date (version: 62, sigs: 6647427, f-level: 90, builder: sigmgr)')(
        'event.action',
      ),
    ).toBe('signature-up-to-date');
  });
});

function winEvent(
  id: number,
  data: Record<string, string>,
  provider = 'Microsoft-Windows-Windows Defender',
  channel = 'Microsoft-Windows-Windows Defender/Operational',
): string {
  return JSON.stringify({ EventTime: '2026-11-26 07:45:00', Hostname: 'ws-042.so-tttt.local', EventID: id, SourceName: provider, Channel: channel, ...data });
}

describe('Windows Defender', () => {
  it('reads 1116 (malware detected): threat, file, user', () => {
    const f = decoded(
      winEvent(1116, {
        'Threat Name': 'Trojan:Win32/Wacatac.B!ml',
        Path: 'file:_C:\\Users\\an\\Downloads\\setup.exe',
        'Detection User': 'SOTTTT\\an',
        'Severity Name': 'Severe',
      }),
    );
    expect([f('threat.software.name'), f('file.path'), f('file.name'), f('user.name'), f('user.domain'), f('event.kind'), f('event.code')]).toEqual([
      'Trojan:Win32/Wacatac.B!ml',
      'C:\\Users\\an\\Downloads\\setup.exe',
      'setup.exe',
      'an',
      'SOTTTT',
      'alert',
      '1116',
    ]);
    expect(f('host.name')).toBe('ws-042.so-tttt.local');
    expect(f('@timestamp')).toBe('2026-11-26T00:45:00.000Z');
  });

  it.each([
    [1117, 'malware-action-taken', 'success'],
    [1118, 'malware-action-failed', 'failure'],
    [2001, 'signature-update-failed', 'failure'],
    [5001, 'realtime-protection-disabled', undefined],
    [5007, 'configuration-changed', undefined],
    [5010, 'antispyware-disabled', undefined],
  ])('reads %i as %s', (id, action, outcome) => {
    const f = decoded(winEvent(id, {}));
    expect([f('event.action'), f('event.outcome')]).toEqual([action, outcome]);
  });

  it('reads Winlogbeat-shaped records too', () => {
    const line = JSON.stringify({
      '@timestamp': '2026-11-26T00:46:00.000Z',
      winlog: {
        event_id: 1006,
        provider_name: 'Microsoft-Windows-Windows Defender',
        channel: 'Microsoft-Windows-Windows Defender/Operational',
        computer_name: 'ws-7',
        event_data: { 'Threat Name': 'EICAR_Test_File', Path: 'file:_C:\\eicar.com' },
      },
    });
    const f = decoded(line);
    expect([f('threat.software.name'), f('file.name'), f('host.name')]).toEqual(['EICAR_Test_File', 'eicar.com', 'ws-7']);
  });
});

describe('Windows Filtering Platform', () => {
  it.each([
    [5152, 'denied'],
    [5156, 'allowed'],
    [5157, 'denied'],
  ])('reads %i as %s', (id, verdict) => {
    const f = decoded(
      winEvent(
        id,
        {
          Direction: '%%14592',
          SourceAddress: '203.0.113.60',
          SourcePort: '50000',
          DestAddress: '10.0.0.60',
          DestPort: '445',
          Protocol: '6',
          Application: '\\device\\harddiskvolume2\\windows\\system32\\svchost.exe',
        },
        'Microsoft-Windows-Security-Auditing',
        'Security',
      ),
    );
    expect([f('source.ip'), f('destination.port'), f('network.transport'), f('network.direction'), f('process.name')]).toEqual([
      '203.0.113.60',
      445,
      'tcp',
      'inbound',
      'svchost.exe',
    ]);
    expect(f('event.type')).toEqual(['connection', verdict]);
  });
});

describe('CEF', () => {
  it('reads header and extension with its escapes and maps common keys', () => {
    const f = decoded(
      '<134>Nov 26 07:47:00 av-console CEF:0|Security|threatmanager|1.0|100|detected a \\| in message|10|src=10.0.0.70 spt=1232 dst=203.0.113.70 dpt=80 proto=TCP act=blocked suser=CORP\\\\binh msg=Detected a threat.\\nNo action needed cs1Label=Virus Name cs1=Trojan.Generic fname=bad.exe filePath=C:\\\\Temp\\\\bad.exe fileHash=275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f request=http://x.example/?a\\=b',
    );
    expect([f('source.ip'), f('source.port'), f('destination.ip'), f('destination.port'), f('network.transport')]).toEqual([
      '10.0.0.70',
      1232,
      '203.0.113.70',
      80,
      'tcp',
    ]);
    expect([f('user.name'), f('user.domain'), f('threat.software.name'), f('file.path'), f('file.name'), f('file.hash.sha256')]).toEqual([
      'binh',
      'CORP',
      'Trojan.Generic',
      'C:\\Temp\\bad.exe',
      'bad.exe',
      '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
    ]);
    expect(f('message')).toBe('Detected a threat.\nNo action needed');
    expect(f('cef.name')).toBe('detected a | in message');
    expect((f('cef.extensions') as Record<string, string>).request).toBe('http://x.example/?a=b');
    expect(f('event.type')).toContain('denied');
    expect(f('observer.vendor')).toBe('Security');
  });

  it('turns a truncated header and a dangling escape into pipeline errors naming cef and the position', () => {
    const cut = decoded('CEF:0|Vendor|Product|1.0|100');
    expect(cut('event.kind')).toBe('pipeline_error');
    expect(cut('error.message')).toBe('cef: truncated header: 5 of 8 fields at position 28');
    const dangling = decoded('CEF:0|V|P|1|2|N|3|src=10.0.0.1 msg=broken\\');
    expect(dangling('error.message')).toMatch(/^cef: dangling escape at the end of the line at position \d+$/);
  });

  it('tells escaped from unescaped = and | by the run of backslashes before them', () => {
    expect(parseExtension('a=x\\\\\\=y b=c d=e\\\\ f=g\\\\', 0)).toEqual({ a: 'x\\=y', b: 'c', d: 'e\\', f: 'g\\' });
    expect(() => parseExtension('a=x\\\\\\', 0)).toThrow('dangling escape');
    expect(parseCef('CEF:0|V\\\\|P\\|Q|1|2|N|3|a=b', 4)).toMatchObject({ vendor: 'V\\', product: 'P|Q', severity: '3', ext: { a: 'b' } });
  });

  it('reads "CEF: 0|" with a space before the version, as Check Point\'s Log Exporter writes it', () => {
    const f = decoded(
      'CEF: 0|Check Point|VPN-1 & FireWall-1|Check Point|Log|TCP_22|Unknown|act=Drop deviceDirection=0 rt=1795654440000 spt=51000 dpt=22 src=203.0.113.80 dst=10.0.0.80 proto=6',
    );
    expect([f('event.kind'), f('source.ip'), f('destination.port'), f('network.transport'), f('event.type')]).toEqual([
      'event',
      '203.0.113.80',
      22,
      'tcp',
      ['denied'],
    ]);
  });

  it('maps Trend Micro Apex Central and Kaspersky Security Center specifics', () => {
    const trend = decoded(
      'CEF:0|Trend Micro|Apex Central|2019|AV:File quarantined|Virus found|3|rt=Nov 26 2026 00:48:00 GMT+00:00 dhost=PC-KETOAN01 dst=10.0.0.71 cs1Label=VirusName cs1=TROJ_GEN.R002C0 filePath=C:\\\\Users\\\\ketoan\\\\a.exe act=Quarantine',
    );
    expect([trend('source.ip'), trend('host.name'), trend('threat.software.name'), trend('file.name'), trend('@timestamp')]).toEqual([
      '10.0.0.71',
      'PC-KETOAN01',
      'TROJ_GEN.R002C0',
      'a.exe',
      '2026-11-26T00:48:00.000Z',
    ]);
    // Managed-product records (engine and pattern updates) name the endpoint in Product/Endpoint_IP.
    const update = decoded(
      'CEF:0|Trend Micro|Apex Central|2019|800102|Engine Update Status|3|rt=Nov 26 2026 00:49:00 GMT+00:00 shost=PC-KETOAN02 cs2Label=Product/Endpoint_IP cs2=10.0.0.74 cn2Label=Engine cn2=4096',
    );
    expect([update('source.ip'), update('host.name')]).toEqual(['10.0.0.74', 'PC-KETOAN02']);
  });
});

describe('Kaspersky, Symantec, ESET', () => {
  it('reads Kaspersky event text', () => {
    const f = decoded(
      'Result description: Deleted\\r\\nType: Trojan\\r\\nName: HEUR:Trojan.Win32.Generic\\r\\nUser: SOTTTT\\hoa (Initiator)\\r\\nObject: C:\\Users\\hoa\\Downloads\\x.exe\\r\\nSHA256: 275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F',
    );
    expect([f('threat.software.name'), f('file.name'), f('user.name'), f('event.action')]).toEqual(['HEUR:Trojan.Win32.Generic', 'x.exe', 'hoa', 'Deleted']);
  });

  it('reads a Symantec Endpoint Protection risk record', () => {
    const f = decoded(
      '<54>Nov 26 07:49:00 sepm SymantecServer: Virus found,IP Address: 10.0.0.72,Computer name: PC-TV01,Source: Auto-Protect scan,Risk name: W97M.Downloader,Occurrences: 1,File path: C:\\Users\\tv\\doc.doc,Description: ,Actual action: Quarantined,Requested action: Cleaned,Secondary action: Quarantined,Event time: 2026-11-26 07:48:30,User: tv',
    );
    expect([f('threat.software.name'), f('file.path'), f('source.ip'), f('user.name'), f('host.name'), f('event.type')]).toEqual([
      'W97M.Downloader',
      'C:\\Users\\tv\\doc.doc',
      '10.0.0.72',
      'tv',
      'PC-TV01',
      ['denied'],
    ]);
  });

  it('reads the older Symantec risk export: the file right after Occurrences, the risk source as source.ip', () => {
    const f = decoded(
      'Security risk found,IP Address: 10.0.0.75,Computer name: PC-KT02,Source: Auto-Protect scan,Risk name: WS.Reputation.1,Occurrences: 1,C:\\Users\\kt\\setup.exe,,Actual action: Quarantined,Requested action: Quarantined,Secondary action: Left alone,Event time: 2026-11-26 07:48:30,User: kt,Source computer: FILESRV,Source IP: 10.0.0.9',
    );
    expect([f('file.path'), f('file.name'), f('source.ip'), f('host.name'), f('threat.software.name')]).toEqual([
      'C:\\Users\\kt\\setup.exe',
      'setup.exe',
      '10.0.0.9',
      'PC-KT02',
      'WS.Reputation.1',
    ]);
  });

  it('recognises a Symantec application control record without a syslog header', () => {
    const f = decoded(
      'PC-KT03,10.0.0.77,Blocked,[AC7-2.1] Block scripts - Caller MD5=d73b04b0e696b0945283defa3eee4538,File Write,Begin: 2026-11-26 07:48:30,End: 2026-11-26 07:48:30,Rule: Block scripts,9552,C:/Users/kt/run.exe,0,No Module Name,C:/Users/kt/x.bat,User: kt,Domain: CORP,Action Type: ,File size (bytes): 1403,Device ID: ',
    );
    expect([f('event.module'), f('source.ip'), f('user.name'), f('event.type'), f('host.name')]).toEqual([
      'symantec',
      '10.0.0.77',
      'kt',
      ['denied'],
      'PC-KT03',
    ]);
  });

  it('takes a headerless line for Symantec on two different signatures only', () => {
    const module = (line: string) => decoded(line)('event.module');
    expect(module('x,Scan ID: 1,Computer name: PC-1')).toBe('symantec');
    // The same signature twice is one; "Begin:" without its space is none.
    expect(module('x,Scan ID: 1,Scan ID: 2,Begin:now')).not.toBe('symantec');
    expect(module(':Scan ID: 1,Local Host IP: 10.0.0.1')).toBe('symantec');
  });
  it('reads a Symantec intrusion "detected but not blocked" as allowed, with the attacker as source', () => {
    const f = decoded(
      'srv04,Event Description: [SID: 30369] Audit: Scanner Activity attack detected but not blocked. Application path: SYSTEM,Local Host IP: 10.0.0.76,Local Host MAC: 000000000000,Remote Host Name: ,Remote Host IP: 203.0.113.76,Remote Host MAC: 000000000000,Inbound,TCP,Intrusion ID: 0,Begin: 2026-11-26 07:48:30,End Time: 2026-11-26 07:48:30,Occurrences: 1,Application: SYSTEM,Location: Default,User Name: none,Domain Name: ,Local Port: 5985,Remote Port: 42734',
    );
    expect([f('source.ip'), f('source.port'), f('destination.port'), f('event.type')]).toEqual(['203.0.113.76', 42734, 5985, ['allowed']]);
  });

  it('reads an ESET PROTECT threat event', () => {
    const f = decoded(
      JSON.stringify({
        event_type: 'Threat_Event',
        ipv4: '10.0.0.73',
        hostname: 'pc-nv01',
        occured: '26-Nov-2026 00:50:00',
        severity: 'Warning',
        threat_type: 'trojan',
        threat_name: 'Win32/Agent.ABC',
        object_uri: 'file:///C:/Users/nv/a.exe',
        action_taken: 'cleaned by deleting',
        username: 'SOTTTT\\nv',
        hash: '3395856CE81F2B7382DEE72602F798B642F14140',
      }),
    );
    expect([f('threat.software.name'), f('file.name'), f('user.name'), f('file.hash.sha1'), f('@timestamp'), f('host.name')]).toEqual([
      'Win32/Agent.ABC',
      'a.exe',
      'nv',
      '3395856CE81F2B7382DEE72602F798B642F14140',
      '2026-11-26T00:50:00.000Z',
      'pc-nv01',
    ]);
  });
});
