import type { StandinEvent } from './winlog-standin.ts';

/**
 * Test fixtures: Windows events in the shape the winlog reader prints, with the EventData names and
 * value forms Windows writes (modelled on Defender, WFP and firewall events as public samples show them).
 */
type Fixture = Omit<StandinEvent, 'RecordId'>;

export const DEFENDER = 'Microsoft-Windows-Windows Defender/Operational';
export const FIREWALL = 'Microsoft-Windows-Windows Firewall With Advanced Security/Firewall';
export const SECURITY = 'Security';

const at = (i: number) => new Date(Date.UTC(2026, 11, 1, 8, 0, 0) + i * 1000).toISOString();

function defender(id: number, computer: string, i: number, extra: Record<string, string>): Fixture {
  return {
    EventID: id,
    ProviderName: 'Microsoft-Windows-Windows Defender',
    Channel: DEFENDER,
    Computer: computer,
    TimeCreated: at(i),
    Level: id === 1116 || id === 1118 || id === 1119 ? 'Warning' : 'Information',
    EventData: {
      'Product Name': 'Microsoft Defender Antivirus',
      'Product Version': '4.18.24090.11',
      'Detection ID': `{6C1B2E7A-3F0D-4A39-9E57-${String(100000000000 + i).slice(-12)}}`,
      'Detection Time': at(i),
      'Threat ID': '2147519003',
      'Threat Name': 'Virus:DOS/EICAR_Test_File',
      'Severity ID': '5',
      'Severity Name': 'Severe',
      'Category ID': '42',
      'Category Name': 'Virus',
      FWLink: 'https://go.microsoft.com/fwlink/?linkid=37020&name=Virus:DOS/EICAR_Test_File&threatid=2147519003&enterprise=1',
      'Source ID': '3',
      'Source Name': 'Real-Time Protection',
      'Process Name': 'C:\\Windows\\explorer.exe',
      'Detection User': 'SOTTTT\\nguyen.van.a',
      Path: `file:_C:\\Users\\nguyen.van.a\\Downloads\\hoadon-${i}.exe`,
      'Origin ID': '4',
      'Origin Name': 'Internet',
      'Execution ID': '0',
      'Execution Name': 'Unknown',
      'Type ID': '0',
      'Type Name': 'Concrete',
      'Pre Execution Status': '0',
      'Security intelligence Version': 'AV: 1.419.163.0, AS: 1.419.163.0, NIS: 1.419.163.0',
      'Engine Version': 'AM: 1.1.24090.11, NIS: 1.1.24090.11',
      ...extra,
    },
  };
}

/** 1116: malware detected by real-time protection. */
export const defenderDetected = (computer: string, i: number): Fixture =>
  defender(1116, computer, i, { 'Status Code': '1', 'Status Description': '', State: '1' });

/** 1117: the action (quarantine) succeeded. */
export const defenderActionTaken = (computer: string, i: number): Fixture =>
  defender(1117, computer, i, {
    'Action ID': '2',
    'Action Name': 'Quarantine',
    'Error Code': '0x00000000',
    'Error Description': 'The operation completed successfully. ',
    'Post Clean Status': '0',
    'Remediation User': 'NT AUTHORITY\\SYSTEM',
  });

/** 1118: the action failed: the file is still there. */
export const defenderActionFailed = (computer: string, i: number): Fixture =>
  defender(1118, computer, i, {
    'Action ID': '2',
    'Action Name': 'Quarantine',
    'Error Code': '0x80508023',
    'Error Description': 'The program could not find the malware and other potentially unwanted software on this device. ',
    'Post Clean Status': '0',
    'Remediation User': 'NT AUTHORITY\\SYSTEM',
  });

function wfp(id: 5152 | 5157, computer: string, i: number): Fixture {
  return {
    EventID: id,
    ProviderName: 'Microsoft-Windows-Security-Auditing',
    Channel: SECURITY,
    Computer: computer,
    TimeCreated: at(i),
    Level: 'Information',
    EventData: {
      ProcessId: id === 5152 ? '0' : '4',
      Application: id === 5152 ? '-' : 'System',
      Direction: '%%14592',
      SourceAddress: `203.0.113.${(i % 250) + 1}`,
      SourcePort: String(40000 + (i % 20000)),
      DestAddress: '10.20.1.15',
      DestPort: id === 5152 ? '3389' : '445',
      Protocol: '6',
      FilterRTID: '79612',
      LayerName: id === 5152 ? '%%14597' : '%%14610',
      LayerRTID: id === 5152 ? '13' : '44',
      ...(id === 5157 ? { RemoteUserID: 'S-1-0-0', RemoteMachineID: 'S-1-0-0' } : {}),
    },
  };
}

/** 5152: the Filtering Platform blocked a packet; 5157: it blocked a connection. */
export const wfpPacketDropped = (computer: string, i: number): Fixture => wfp(5152, computer, i);
export const wfpConnectionBlocked = (computer: string, i: number): Fixture => wfp(5157, computer, i);

/** 2004 (older builds) or 2097 (Windows Server 2022 and later): a firewall rule was added. */
export function firewallRuleAdded(id: 2004 | 2097, computer: string, i: number): Fixture {
  return {
    EventID: id,
    ProviderName: 'Microsoft-Windows-Windows Firewall With Advanced Security',
    Channel: FIREWALL,
    Computer: computer,
    TimeCreated: at(i),
    Level: 'Information',
    EventData: {
      RuleId: `{B7A1C2D3-0E4F-4A5B-8C6D-${String(100000000000 + i).slice(-12)}}`,
      RuleName: `Allow RDP from anywhere ${i}`,
      Origin: '1',
      ApplicationPath: '',
      ServiceName: '',
      Direction: '1',
      Protocol: '6',
      LocalPorts: '3389',
      RemotePorts: '*',
      Action: '3',
      Profiles: '2147483647',
      LocalAddresses: '*',
      RemoteAddresses: '*',
      EmbeddedContext: '',
      Flags: '1',
      Active: '1',
      EdgeTraversal: '0',
      LooseSourceMapped: '0',
      SecurityOptions: '0',
      ModifyingUser: 'S-1-5-21-3623811015-3361044348-30300820-1013',
      ModifyingApplication: 'C:\\Windows\\System32\\netsh.exe',
      SchemaVersion: '543',
      RuleStatus: '65536',
      LocalOnlyMapped: '0',
      ...(id === 2097 ? { ErrorCode: '0', ProfileUsed: '4' } : {}),
    },
  };
}

/** A realistic mix, cycling through detections, drops and rule changes. */
export function mixedEvents(computer: string, from: number, n: number): Fixture[] {
  const makers = [
    defenderDetected,
    wfpPacketDropped,
    defenderActionTaken,
    wfpConnectionBlocked,
    (c: string, i: number) => firewallRuleAdded(i % 2 ? 2097 : 2004, c, i),
    defenderActionFailed,
  ];
  return Array.from({ length: n }, (_, k) => makers[(from + k) % makers.length]!(computer, from + k));
}
