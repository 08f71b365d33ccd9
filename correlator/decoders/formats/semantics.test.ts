import { describe, expect, it } from 'vitest';
import { decoded } from '../test-support/decode.ts';

/** Direction and identity per vendor, on lines in each vendor's documented format (see ../README.md, "Decisions per decoder"). */
describe('direction and identity', () => {
  it('FortiGate traffic: policy number as rule.id, NAT, bytes and packets each way, application, interfaces, serial', () => {
    const f = decoded(
      'date=2026-11-26 time=07:35:00 devname="FGT-DC" devid="FG100F0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.3.35 srcport=51000 srcintf="dmz" dstip=198.51.100.7 dstport=443 dstintf="wan1" proto=6 action="close" policyid=12 policyname="dmz-out" service="HTTPS" transip=203.0.113.2 transport=61000 app="HTTPS.BROWSER" sentbyte=1200 rcvdbyte=5400 sentpkt=10 rcvdpkt=12',
    );
    expect([f('rule.id'), f('rule.name'), f('source.nat.ip'), f('source.nat.port'), f('destination.nat')]).toEqual([
      '12',
      'dmz-out',
      '203.0.113.2',
      61000,
      undefined,
    ]);
    expect([f('source.bytes'), f('destination.bytes'), f('source.packets'), f('destination.packets'), f('network.bytes'), f('network.packets')]).toEqual([
      1200, 5400, 10, 12, 6600, 22,
    ]);
    expect([
      f('network.application'),
      f('observer.ingress.interface.name'),
      f('observer.egress.interface.name'),
      f('observer.serial_number'),
      f('event.outcome'),
    ]).toEqual(['https.browser', 'dmz', 'wan1', 'FG100F0000000001', 'success']);
  });

  it('FortiGate IPsec tunnel the gateway initiated: the gateway is the source, the peer the destination', () => {
    const f = decoded(
      'date=2026-11-26 time=07:36:00 devname="FGT-DC" logid="0101037127" type="event" subtype="vpn" level="notice" vd="root" logdesc="Progress IPsec phase 1" action="negotiate" remip=198.51.100.50 locip=203.0.113.1 remport=500 locport=500 status="success" init="local" mode="main" dir="outbound"',
    );
    expect([f('source.ip'), f('destination.ip'), f('destination.port')]).toEqual(['203.0.113.1', '198.51.100.50', 500]);
  });

  it('Cisco ASA: event.action by message id, logon failures as failures', () => {
    const teardown = decoded(
      '%ASA-6-302014: Teardown TCP connection 1234 for outside:203.0.113.5/40000 to inside:10.20.1.11/22 duration 0:00:01 bytes 0 TCP FINs',
    );
    expect([teardown('event.action'), teardown('event.outcome')]).toEqual(['flow-expiration', 'success']);
    const login = decoded('%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.20.0.5 : user = admin : user IP = 203.0.113.9');
    expect([login('event.action'), login('event.outcome'), login('source.ip'), login('user.name')]).toEqual([
      'logon-failed',
      'failure',
      '203.0.113.9',
      'admin',
    ]);
  });

  it('FTD: rule names of several words end at the next key', () => {
    const f = decoded(
      '%FTD-1-430003: AccessControlRuleAction: Allow, SrcIP: 10.0.1.20, DstIP: 198.51.100.44, SrcPort: 57379, DstPort: 53, Protocol: udp, IngressZone: inside, EgressZone: outside, ACPolicy: default, AccessControlRuleName: Intrusion-Rule, Prefilter Policy: Default Prefilter Policy, User: No Authentication Required',
    );
    expect([f('rule.name'), f('event.action'), f('cisco.ftd.rule_action')]).toEqual(['Intrusion-Rule', 'connection-finished', 'allow']);
  });

  it('Palo Alto THREAT: NAT, zones, application, threat id and severity', () => {
    const f = decoded(
      '1,2026/11/26 07:51:00,012345678901,THREAT,vulnerability,2561,2026/11/26 07:51:00,203.0.113.20,203.0.113.1,0.0.0.0,10.20.1.11,allow-web,,,web-browsing,vsys1,untrust,dmz,ethernet1/1,ethernet1/3,default,2026/11/26 07:51:00,1234,1,51000,443,0,8443,0x400000,tcp,reset-both,"/cgi-bin/x",Apache Struts Remote Code Execution Vulnerability(33185),any,critical,client-to-server',
    );
    expect([
      f('destination.nat.ip'),
      f('destination.nat.port'),
      f('source.nat'),
      f('observer.ingress.zone'),
      f('observer.egress.zone'),
      f('network.application'),
    ]).toEqual(['10.20.1.11', 8443, undefined, 'untrust', 'dmz', 'web-browsing']);
    expect([f('threat.software.name'), f('panw.threat.id'), f('panw.threat.severity'), f('event.severity'), f('event.outcome')]).toEqual([
      'Apache Struts Remote Code Execution Vulnerability',
      '33185',
      'critical',
      1,
      'failure',
    ]);
  });

  it('Palo Alto GlobalProtect failure: the client is the source, the outcome a failure with its reason', () => {
    const f = decoded(
      '1,2026/11/26 08:00:00,012345678901,GLOBALPROTECT,0,2561,2026/11/26 08:00:00,vsys1,gateway-auth,login,LDAP,,nv.an,VN,PC-AN,203.0.113.80,0.0.0.0,0.0.0.0,0.0.0.0,,,5.2.4,Windows,"Windows 10",1,,Authentication failed: Invalid username or password,,failure,,0,,0,GP-GW,7001,0x0',
    );
    expect([f('source.ip'), f('source.domain'), f('user.name'), f('event.action'), f('event.outcome'), f('event.reason')]).toEqual([
      '203.0.113.80',
      'PC-AN',
      'nv.an',
      'gateway-auth',
      'failure',
      'Authentication failed: Invalid username or password',
    ]);
  });

  it('Windows Defender: the detection user, not the service account; severity, category, threat id and action taken', () => {
    const f = decoded(
      JSON.stringify({
        EventTime: '2026-11-26 07:45:00',
        Hostname: 'ws-ketoan-03',
        EventID: 1117,
        SourceName: 'Microsoft-Windows-Windows Defender',
        Channel: 'Microsoft-Windows-Windows Defender/Operational',
        Domain: 'NT AUTHORITY',
        AccountName: 'SYSTEM',
        'Threat ID': '2147735505',
        'Threat Name': 'Trojan:Win32/Wacatac.B!ml',
        'Severity ID': '5',
        'Severity Name': 'Severe',
        'Category Name': 'Trojan',
        'Detection User': 'SOTC\\an',
        'Action Name': 'Quarantine',
        Path: 'file:_C:\\Users\\an\\Downloads\\setup.exe',
      }),
    );
    expect([
      f('user.name'),
      f('user.domain'),
      f('event.severity'),
      f('threat.software.type'),
      f('threat.software.id'),
      f('defender.action'),
      f('defender.severity'),
      f('event.action'),
    ]).toEqual(['an', 'SOTC', 5, 'Trojan', '2147735505', 'Quarantine', 'Severe', 'malware-action-taken']);
  });

  it('Sophos XG: rule number and name, serial, zones, NAT and bytes', () => {
    const f = decoded(
      'device_name="SFW" timestamp="2026-11-26T07:52:00+0700" device_model="XGS2100" device_serial_id="X1234" log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" fw_rule_id="5" fw_rule_name="LAN to WAN" in_interface="Port1" out_interface="Port2" src_zone="LAN" dst_zone="WAN" src_ip="10.20.3.35" dst_ip="198.51.100.9" src_trans_ip="203.0.113.3" protocol="TCP" src_port=40000 dst_port=443 sent_bytes=100 recv_bytes=2000',
    );
    expect([
      f('rule.id'),
      f('rule.name'),
      f('observer.serial_number'),
      f('observer.ingress.zone'),
      f('observer.egress.interface.name'),
      f('source.nat.ip'),
      f('source.bytes'),
      f('destination.bytes'),
      f('event.outcome'),
    ]).toEqual(['5', 'LAN to WAN', 'X1234', 'LAN', 'Port2', '203.0.113.3', 100, 2000, 'success']);
  });

  it('CEF: the reporting device is the observer; a detection is about the endpoint it names', () => {
    const f = decoded(
      'CEF:0|Kaspersky Lab|Kaspersky Security Center|14.2|GNRL_EV_VIRUS_FOUND|Virus found|4|msg=Detected rt=1795654950000 dvchost=ksc-01 dhost=srv-db-01 fname=x.exe cs1=HEUR:Trojan.Win32.Generic cs1Label=VirusName',
    );
    expect([f('observer.name'), f('host.name')]).toEqual(['ksc-01', 'srv-db-01']);
  });
});
