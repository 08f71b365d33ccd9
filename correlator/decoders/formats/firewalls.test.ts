import { describe, expect, it } from 'vitest';
import { createDecodeSession } from '../index.ts';
import { checkpointFields } from './checkpoint.ts';
import { decoded, RECEIVED } from '../test-support/decode.ts';

// Lines written after each vendor's documented log format (field orders, key names, message texts).

describe('netfilter', () => {
  it('reads an iptables LOG line with a kernel timestamp and a drop prefix', () => {
    const f = decoded(
      '<4>Nov 26 07:59:01 srv01 kernel: [12345.678901] IPTABLES-DROP: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.5 DST=10.0.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=5410 DF PROTO=TCP SPT=51514 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0',
    );
    expect([f('source.ip'), f('source.port'), f('destination.ip'), f('destination.port'), f('network.transport')]).toEqual([
      '203.0.113.5',
      51514,
      '10.0.0.2',
      22,
      'tcp',
    ]);
    expect(f('event.type')).toEqual(['connection', 'denied']);
    expect(f('event.category')).toEqual(['network']);
    expect(f('host.name')).toBe('srv01');
    expect(f('network.direction')).toBe('inbound');
    expect(f('@timestamp')).toBe('2026-11-26T00:59:01.000Z');
  });

  it('reads UFW and nftables prefixes, IPv6 and ICMPv6', () => {
    expect(
      decoded('Nov 26 07:59:01 srv01 kernel: [UFW ALLOW] IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.2 LEN=52 PROTO=TCP SPT=40000 DPT=443')('event.type'),
    ).toEqual(['connection', 'allowed']);
    const v6 = decoded(
      'Nov 26 07:59:01 srv01 kernel: nft-in-drop: IN=eth0 OUT= SRC=2001:db8::1 DST=2001:db8::2 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=1',
    );
    expect([v6('source.ip'), v6('destination.ip'), v6('network.transport'), v6('event.type')]).toEqual([
      '2001:db8::1',
      '2001:db8::2',
      'ipv6-icmp',
      ['connection', 'denied'],
    ]);
  });

  it('reads a Ubiquiti rule tag as rule name and verdict', () => {
    const f = decoded('Jan  5 20:17:01 gw kernel: [WAN_IN-3000-D]IN=eth0 OUT=eth1 SRC=192.0.2.9 DST=10.1.1.1 LEN=40 PROTO=UDP SPT=123 DPT=161 LEN=20');
    expect([f('rule.name'), f('event.action'), f('event.type')]).toEqual(['WAN_IN', 'drop', ['connection', 'denied']]);
  });
});

describe('pfSense / OPNsense filterlog', () => {
  it('reads IPv4 TCP, UDP and ICMP records', () => {
    const tcp = decoded(
      '<134>Jul  3 19:10:30 filterlog[72237]: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,198.51.100.10,10.0.0.5,51000,22,0,S,123456,,64240,,mss',
    );
    expect([tcp('source.ip'), tcp('source.port'), tcp('destination.ip'), tcp('destination.port'), tcp('network.transport'), tcp('network.direction')]).toEqual([
      '198.51.100.10',
      51000,
      '10.0.0.5',
      22,
      'tcp',
      'inbound',
    ]);
    expect(tcp('event.type')).toEqual(['connection', 'denied']);
    expect(tcp('observer.vendor')).toBe('netgate');
    const udp = decoded('<134>Jul  3 19:10:30 filterlog[72237]: 7,,,1000000105,em1,match,pass,out,4,0x0,,64,0,0,DF,17,udp,76,10.0.0.5,9.9.9.9,41000,53,56');
    expect([udp('destination.port'), udp('network.transport'), udp('event.type'), udp('network.direction')]).toEqual([
      53,
      'udp',
      ['connection', 'allowed'],
      'outbound',
    ]);
    const icmp = decoded(
      '<134>Jul  3 19:10:30 filterlog[72237]: 9,,,1000000107,em0,match,block,in,4,0x0,,64,0,0,none,1,icmp,84,192.0.2.1,10.0.0.5,request,4567,1',
    );
    expect([icmp('network.transport'), icmp('source.port'), icmp('destination.ip')]).toEqual(['icmp', undefined, '10.0.0.5']);
  });

  it('reads IPv6 records, whose header fields sit at other positions', () => {
    const f = decoded(
      '<134>1 2026-11-26T07:00:00+07:00 opnsense.example filterlog 321 - - 12,,,02f4bab031b57d1e30553ce08e0ec131,igb1,match,block,in,6,0x00,0x00000,64,udp,17,40,2001:db8::5,2001:db8::1,5353,53,32',
    );
    expect([f('source.ip'), f('source.port'), f('destination.ip'), f('destination.port'), f('network.transport')]).toEqual([
      '2001:db8::5',
      5353,
      '2001:db8::1',
      53,
      'udp',
    ]);
    expect(f('@timestamp')).toBe('2026-11-26T00:00:00.000Z');
  });

  it('turns a truncated record into a pipeline error naming the decoder', () => {
    const f = decoded('<134>Jul  3 19:10:30 filterlog[72237]: 5,,,1000000103,igb0,match,block');
    expect(f('event.kind')).toBe('pipeline_error');
    expect(f('error.message')).toMatch(/^pfsense-filterlog: truncated record: 7 fields.* at position \d+$/);
  });
});

describe('FortiGate', () => {
  it('reads a traffic deny with policy, transport number and time zone', () => {
    const f = decoded(
      'date=2026-11-26 time=07:30:00 devname="FGT-HCM" devid="FG100F0000000001" eventtime=1795653000000000000 tz="+0700" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=203.0.113.50 srcport=44321 srcintf="wan1" dstip=10.10.0.8 dstport=3389 dstintf="internal" proto=6 action="deny" policyid=12 policyname="block-rdp" service="RDP"',
    );
    expect([f('source.ip'), f('source.port'), f('destination.ip'), f('destination.port'), f('network.transport')]).toEqual([
      '203.0.113.50',
      44321,
      '10.10.0.8',
      3389,
      'tcp',
    ]);
    expect([f('event.type'), f('event.action'), f('rule.name'), f('@timestamp')]).toEqual([
      ['connection', 'denied'],
      'deny',
      'block-rdp',
      '2026-11-26T00:30:00.000Z',
    ]);
  });

  it('reads a utm virus log: malware name, file and user', () => {
    const f = decoded(
      'date=2026-11-26 time=07:31:00 logid="0211008192" type="utm" subtype="virus" eventtype="infected" level="warning" vd="root" msg="File is infected." action="blocked" service="HTTP" srcip=10.10.0.20 dstip=198.51.100.80 srcport=50000 dstport=80 proto=6 user="nguyenvana" filename="eicar.com" virus="EICAR_TEST_FILE" url="http://198.51.100.80/eicar.com"',
    );
    expect([f('threat.software.name'), f('file.name'), f('user.name'), f('event.kind')]).toEqual(['EICAR_TEST_FILE', 'eicar.com', 'nguyenvana', 'alert']);
    expect(f('event.category')).toEqual(['network', 'malware']);
    expect(f('event.type')).toContain('denied');
  });

  it('reads an event log (admin login failure)', () => {
    const f = decoded(
      'date=2026-11-26 time=07:32:00 logid="0100032002" type="event" subtype="system" level="alert" vd="root" logdesc="Admin login failed" sn="0" user="admin" ui="https(203.0.113.9)" method="https" srcip=203.0.113.9 dstip=10.10.0.1 action="login" status="failed" reason="passwd_invalid" msg="Administrator admin login failed from https(203.0.113.9) because of invalid password"',
    );
    expect([f('user.name'), f('source.ip'), f('event.action'), f('event.outcome')]).toEqual(['admin', '203.0.113.9', 'login', 'failure']);
  });
});

describe('Cisco ASA and FTD', () => {
  const cases: [string, Record<string, unknown>][] = [
    [
      '%ASA-2-106001: Inbound TCP connection denied from 203.0.113.1/4321 to 10.0.0.5/22 flags SYN  on interface outside',
      { 'source.ip': '203.0.113.1', 'source.port': 4321, 'destination.port': 22, 'network.transport': 'tcp', verdict: 'denied' },
    ],
    [
      '%ASA-2-106006: Deny inbound UDP from 203.0.113.2/5353 to 10.0.0.6/161 on interface outside',
      { 'source.ip': '203.0.113.2', 'destination.ip': '10.0.0.6', 'destination.port': 161, 'network.transport': 'udp', verdict: 'denied' },
    ],
    [
      '%ASA-2-106007: Deny inbound UDP from 203.0.113.3/53 to 10.0.0.7/1024 due to DNS Response',
      { 'source.port': 53, 'destination.port': 1024, verdict: 'denied' },
    ],
    [
      '%ASA-3-106014: Deny inbound icmp src outside:203.0.113.4 dst inside:10.0.0.8 (type 8, code 0)',
      { 'source.ip': '203.0.113.4', 'destination.ip': '10.0.0.8', 'network.transport': 'icmp', verdict: 'denied' },
    ],
    [
      '%ASA-6-106015: Deny TCP (no connection) from 10.0.0.9/443 to 203.0.113.5/51000 flags RST  on interface inside',
      { 'source.ip': '10.0.0.9', 'destination.port': 51000, verdict: 'denied' },
    ],
    [
      '%ASA-4-106023: Deny tcp src outside:203.0.113.6/40000 dst inside:10.0.0.10/3389 by access-group "outside_in" [0x0, 0x0]',
      { 'destination.port': 3389, 'rule.name': 'outside_in', verdict: 'denied' },
    ],
    [
      '%ASA-6-106100: access-list inside_out permitted tcp inside/10.0.0.11(50123) -> outside/198.51.100.1(443) hit-cnt 1 first hit [0x1, 0x0]',
      {
        'source.ip': '10.0.0.11',
        'source.port': 50123,
        'destination.ip': '198.51.100.1',
        'destination.port': 443,
        'rule.name': 'inside_out',
        verdict: 'allowed',
      },
    ],
    [
      '%ASA-6-302013: Built inbound TCP connection 101 for outside:203.0.113.7/50000 (203.0.113.7/50000) to dmz:10.0.1.5/443 (198.51.100.5/443)',
      { 'source.ip': '203.0.113.7', 'destination.ip': '10.0.1.5', 'network.direction': 'inbound', types: ['connection', 'start'] },
    ],
    [
      '%ASA-6-302013: Built outbound TCP connection 102 for outside:198.51.100.9/443 (198.51.100.9/443) to inside:10.0.0.12/51515 (203.0.113.100/51515)',
      { 'source.ip': '10.0.0.12', 'source.port': 51515, 'destination.ip': '198.51.100.9', 'destination.port': 443, 'network.direction': 'outbound' },
    ],
    [
      '%ASA-6-302014: Teardown TCP connection 101 for outside:203.0.113.7/50000 to dmz:10.0.1.5/443 duration 0:00:30 bytes 1024 TCP FINs',
      { 'source.ip': '203.0.113.7', types: ['connection', 'end'] },
    ],
    [
      '%ASA-6-302015: Built outbound UDP connection 103 for outside:9.9.9.9/53 (9.9.9.9/53) to inside:10.0.0.13/40000 (203.0.113.100/40000)',
      { 'source.ip': '10.0.0.13', 'destination.port': 53, 'network.transport': 'udp' },
    ],
    [
      '%ASA-6-302016: Teardown UDP connection 103 for outside:9.9.9.9/53 to inside:10.0.0.13/40000 duration 0:00:01 bytes 80',
      { 'network.transport': 'udp', types: ['connection', 'end'] },
    ],
    [
      '%ASA-6-302020: Built inbound ICMP connection for faddr 203.0.113.8/0 gaddr 198.51.100.6/0 laddr 10.0.0.14/0',
      { 'source.ip': '203.0.113.8', 'destination.ip': '10.0.0.14', 'network.transport': 'icmp' },
    ],
    [
      '%ASA-6-302020: Built outbound ICMP connection for faddr 198.51.100.20/0 gaddr 203.0.113.100/7 laddr 10.0.0.14/7 type 8 code 0',
      { 'source.ip': '10.0.0.14', 'destination.ip': '198.51.100.20', 'network.direction': 'outbound' },
    ],
    [
      // A teardown does not say who started the flow: the local host is taken as the source.
      '%ASA-6-302021: Teardown ICMP connection for faddr 198.51.100.20/0 gaddr 203.0.113.100/7 laddr 10.0.0.14/7 type 8 code 0',
      { 'source.ip': '10.0.0.14', 'destination.ip': '198.51.100.20', types: ['connection', 'end'] },
    ],
    [
      // FTD names the initiator first whatever its inbound/outbound word says.
      '%FTD-6-302013: Built outbound TCP connection 104 for inside:10.0.0.20/52000 (203.0.113.100/52000) to outside:198.51.100.30/443 (198.51.100.30/443)',
      { 'source.ip': '10.0.0.20', 'source.port': 52000, 'destination.ip': '198.51.100.30', 'destination.port': 443, 'network.direction': undefined },
    ],
    [
      '%ASA-1-106103: access-list inside_in denied tcp for user nguyenvana inside/10.0.0.21(50001) -> outside/198.51.100.31(25) hit-cnt 1 first hit [0x1, 0x0]',
      { 'source.ip': '10.0.0.21', 'source.port': 50001, 'destination.port': 25, 'user.name': 'nguyenvana', 'rule.name': 'inside_in', verdict: 'denied' },
    ],
    [
      '%ASA-4-313005: No matching connection for ICMP error message: icmp src outside:198.51.100.32(CORP\\le.b) dst inside:10.0.0.22 (type 3, code 3) on outside interface.  Original IP payload: udp src 10.0.0.22/53 dst 198.51.100.32/41000.',
      { 'source.ip': '10.0.0.22', 'source.port': 53, 'destination.ip': '198.51.100.32', 'destination.port': 41000, 'user.name': 'le.b' },
    ],
    [
      '%ASA-4-313009: Denied invalid ICMP code 9, for outside:203.0.113.12/7 (203.0.113.12/7) to identity:198.51.100.33/0 (198.51.100.33/0), ICMP id 7, ICMP type 8',
      { 'source.ip': '203.0.113.12', 'destination.ip': '198.51.100.33', 'network.transport': 'icmp', verdict: 'denied' },
    ],
    [
      '%ASA-6-607001: Pre-allocate SIP Via UDP secondary channel for inside:10.0.0.23/5060 to outside:198.51.100.34 from INVITE message',
      { 'source.ip': '198.51.100.34', 'destination.ip': '10.0.0.23', 'destination.port': 5060, 'network.transport': 'udp' },
    ],
    [
      '%ASA-4-313004: Denied ICMP type=0, from laddr 10.0.0.24 on interface inside to 198.51.100.36: no matching session',
      { 'source.ip': '10.0.0.24', 'destination.ip': '198.51.100.36', 'network.transport': 'icmp', verdict: 'denied' },
    ],
    [
      '%ASA-5-304001: tranb@10.0.0.25(CORP\\tranb) Accessed URL 198.51.100.37:http://198.51.100.37/login',
      { 'source.ip': '10.0.0.25', 'destination.ip': '198.51.100.37', verdict: 'allowed' },
    ],
    ['%ASA-7-609002: Teardown local-host inside:10.0.0.26 duration 0:00:10', { 'source.ip': '10.0.0.26', types: ['connection', 'end'] }],
    [
      '%ASA-6-725002: Device completed SSL handshake with client outside:203.0.113.13/51234 to 198.51.100.38/443 for TLSv1.2 session',
      { 'source.ip': '203.0.113.13', 'source.port': 51234 },
    ],
    [
      "%ASA-4-113030: Group VPN_USERS User hoa IP 203.0.113.14 User ACL acl_hoa from AAA doesn't exist on the device, terminating connection.",
      { 'source.ip': '203.0.113.14', 'user.name': 'hoa', 'event.action': 'client-vpn-error', verdict: 'denied' },
    ],
    [
      '%ASA-4-750003: Local:203.0.113.100:500 Remote:198.51.100.35:500 Username:vpnuser Negotiation aborted due to ERROR: Failed to find a matching policy',
      { 'source.ip': '203.0.113.100', 'source.port': 500, 'destination.ip': '198.51.100.35', 'user.name': 'vpnuser', 'event.action': 'error' },
    ],
    [
      '%ASA-3-313001: Denied ICMP type=8, code=0 from 203.0.113.9 on interface outside',
      { 'source.ip': '203.0.113.9', 'network.transport': 'icmp', verdict: 'denied' },
    ],
    [
      '%ASA-3-710003: TCP access denied by ACL from 203.0.113.10/40001 to outside:198.51.100.7/22',
      { 'source.ip': '203.0.113.10', 'destination.ip': '198.51.100.7', 'destination.port': 22, verdict: 'denied' },
    ],
    [
      '%ASA-4-733100: [ Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, max configured rate is 10; Current average rate is 5 per second, max configured rate is 5; Cumulative total count is 3000',
      { 'event.kind': 'alert', 'event.code': '733100' },
    ],
    [
      '%FTD-6-430002: EventPriority: Low, DeviceUUID: 00000000-0000-0000-0000-000000000000, InstanceID: 1, FirstPacketSecond: 2026-11-26T00:00:00Z, ConnectionID: 1, AccessControlRuleAction: Allow, SrcIP: 10.0.0.15, DstIP: 198.51.100.8, SrcPort: 50500, DstPort: 443, Protocol: tcp, User: CORP\\tranthib, AccessControlRuleName: Allow-Web',
      {
        'source.ip': '10.0.0.15',
        'destination.port': 443,
        'user.name': 'tranthib',
        'user.domain': 'CORP',
        'rule.name': 'Allow-Web',
        verdict: 'allowed',
        'observer.product': 'ftd',
      },
    ],
    [
      '%FTD-6-430003: EventPriority: Low, AccessControlRuleAction: Block, SrcIP: 203.0.113.11, DstIP: 10.0.0.16, SrcPort: 40404, DstPort: 445, Protocol: tcp, AccessControlRuleName: Block-SMB',
      { 'source.ip': '203.0.113.11', 'destination.port': 445, verdict: 'denied', types: ['denied', 'end'] },
    ],
  ];
  it('reads AnyConnect session lines an export cut before the tag', () => {
    const f = decoded('TunnelGroup <VPN> GroupPolicy <Staff> User <lan.n> IP <203.0.113.15> No IPv6 address available for SVC connection');
    expect([f('event.module'), f('source.ip'), f('user.name')]).toEqual(['cisco-asa', '203.0.113.15', 'lan.n']);
  });

  it.each(cases)('%s', (text, want) => {
    const f = decoded(`<166>Nov 26 2026 07:00:00 asa-hcm : ${text}`);
    expect(f('event.kind')).not.toBe('pipeline_error');
    expect(f('host.name')).toBe('asa-hcm');
    for (const [k, v] of Object.entries(want)) {
      if (k === 'verdict') expect(f('event.type')).toContain(v);
      else if (k === 'types') expect(f('event.type')).toEqual(expect.arrayContaining(v as string[]));
      else expect(f(k), k).toEqual(v);
    }
  });
});

describe('Windows Firewall pfirewall.log', () => {
  it('follows the #Fields header of the file, line after line', () => {
    const session = createDecodeSession();
    const lines = [
      '#Version: 1.5',
      '#Software: Microsoft Windows Firewall',
      '#Time Format: Local',
      '#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid',
      '2026-11-26 07:45:01 DROP TCP 203.0.113.20 10.0.0.30 51234 445 52 S 3918340411 0 8192 - - - RECEIVE 4',
    ];
    const events = lines.map((l) => session.decode(l, { received: RECEIVED }));
    expect(events.slice(0, 4).map((e) => e.event.kind)).toEqual(['state', 'state', 'state', 'state']);
    const drop = events[4]! as Record<string, any>;
    expect([drop.source.ip, drop.source.port, drop.destination.port, drop.network.transport, drop.network.direction, drop.process.pid]).toEqual([
      '203.0.113.20',
      51234,
      445,
      'tcp',
      'inbound',
      4,
    ]);
    expect(drop.event.type).toEqual(['connection', 'denied']);
    expect(drop['@timestamp']).toBe('2026-11-26T00:45:01.000Z');
  });

  it('reads a lone record with the default column order', () => {
    const f = decoded('2026-11-26 07:45:02 ALLOW UDP 10.0.0.30 8.8.8.8 55000 53 0 - - - - - - - SEND');
    expect([f('destination.ip'), f('destination.port'), f('network.transport'), f('event.type'), f('network.direction')]).toEqual([
      '8.8.8.8',
      53,
      'udp',
      ['connection', 'allowed'],
      'outbound',
    ]);
  });
});

describe('Palo Alto PAN-OS', () => {
  it('reads a TRAFFIC record', () => {
    const f = decoded(
      '<14>Nov 26 07:50:00 pa-hcm 1,2026/11/26 07:50:00,012345678901,TRAFFIC,drop,2561,2026/11/26 07:50:00,203.0.113.30,10.0.0.40,0.0.0.0,0.0.0.0,deny-inbound,,,not-applicable,vsys1,untrust,trust,ethernet1/1,,default,2026/11/26 07:50:00,0,1,51111,3389,0,0,0x0,tcp,deny,60,60,0,1,2026/11/26 07:49:59,0,any,0,1,0x0,United States,10.0.0.0-10.255.255.255,0,1,0,policy-deny',
    );
    expect([f('source.ip'), f('source.port'), f('destination.ip'), f('destination.port'), f('network.transport'), f('rule.name')]).toEqual([
      '203.0.113.30',
      51111,
      '10.0.0.40',
      3389,
      'tcp',
      'deny-inbound',
    ]);
    expect(f('event.type')).toContain('denied');
    expect(f('@timestamp')).toBe('2026-11-26T00:50:00.000Z');
  });

  it('reads a THREAT virus record: threat name and file', () => {
    const f = decoded(
      '1,2026/11/26 07:51:00,012345678901,THREAT,virus,2561,2026/11/26 07:51:00,198.51.100.20,10.0.0.41,0.0.0.0,0.0.0.0,allow-web,,corp\\lethic,web-browsing,vsys1,untrust,trust,ethernet1/1,ethernet1/2,default,2026/11/26 07:51:00,1234,1,80,50123,0,0,0x400000,tcp,reset-both,"eicar.com",Eicar Test File(100000),any,medium,server-to-client',
    );
    expect([f('threat.software.name'), f('file.name'), f('user.name'), f('event.kind')]).toEqual(['Eicar Test File', 'eicar.com', 'lethic', 'alert']);
    expect(f('event.type')).toContain('denied');
  });
});

describe('Sophos XG, SonicWall, Check Point, Juniper SRX', () => {
  it('reads a Sophos XG firewall deny', () => {
    const f = decoded(
      'device_name="SFW" timestamp="2026-11-26T07:52:00+0700" device_model="XGS2100" device_serial_id="X1" log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" log_subtype="Denied" fw_rule_id="5" fw_rule_name="Drop WAN" src_ip="203.0.113.40" dst_ip="10.0.0.50" protocol="TCP" src_port=40000 dst_port=22',
    );
    expect([f('source.ip'), f('destination.port'), f('network.transport'), f('rule.name'), f('event.type')]).toEqual([
      '203.0.113.40',
      22,
      'tcp',
      'Drop WAN',
      ['denied', 'connection'],
    ]);
    expect(f('@timestamp')).toBe('2026-11-26T00:52:00.000Z');
  });

  it('reads a SonicWall drop with ip:port:interface endpoints', () => {
    const f = decoded(
      '<134>  id=firewall sn=0040103CE114 time="2026-11-26 07:53:00" fw=10.0.0.1 pri=6 c=262144 gcat=6 m=537 msg="Connection Closed" src=203.0.113.41:41000:X1 dst=10.0.0.51:443:X0 proto=tcp/https fw_action="drop" usr="admin"',
    );
    expect([f('source.ip'), f('source.port'), f('destination.ip'), f('destination.port'), f('network.transport'), f('user.name'), f('event.type')]).toEqual([
      '203.0.113.41',
      41000,
      '10.0.0.51',
      443,
      'tcp',
      'admin',
      ['denied'],
    ]);
  });

  it('reads a Check Point Log Exporter record', () => {
    const f = decoded(
      '<134>1 2026-11-26T00:54:00Z gw-hcm CheckPoint 1234 - [action:"Drop"; ifdir:"inbound"; origin:"10.0.0.2"; time:"1795654440"; src:"203.0.113.42"; s_port:"42000"; dst:"10.0.0.52"; service:"23"; proto:"6"; rule_name:"Cleanup rule"; product:"VPN-1 & FireWall-1"]',
    );
    expect([f('source.ip'), f('source.port'), f('destination.port'), f('network.transport'), f('rule.name'), f('event.type')]).toEqual([
      '203.0.113.42',
      42000,
      23,
      'tcp',
      'Cleanup rule',
      ['denied', 'connection'],
    ]);
  });

  it('reads Check Point values with escaped quotes and backslashes, and refuses an unterminated one', () => {
    expect(checkpointFields('[a:"say \\"hi\\""; b:"C:\\\\x"; c:"\\\\"]', 0)).toEqual({ a: 'say "hi"', b: 'C:\\x', c: '\\' });
    expect(() => checkpointFields('[a:"open \\"]', 0)).toThrow('unterminated value of a');
  });

  it('reads a Juniper SRX RT_FLOW session deny from structured data', () => {
    const f = decoded(
      '<14>1 2026-11-26T07:55:00.000+07:00 srx-hcm RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address="203.0.113.43" source-port="43000" destination-address="10.0.0.53" destination-port="22" service-name="junos-ssh" protocol-id="6" icmp-type="0" policy-name="deny-ssh" source-zone-name="untrust" destination-zone-name="trust" username="N/A"]',
    );
    expect([f('source.ip'), f('destination.port'), f('network.transport'), f('rule.name'), f('event.action'), f('event.type')]).toEqual([
      '203.0.113.43',
      22,
      'tcp',
      'deny-ssh',
      'flow_deny',
      ['denied', 'connection'],
    ]);
  });
});
