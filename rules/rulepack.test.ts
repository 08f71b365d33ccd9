import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadRuleSet } from '../correlator/detection/ruleset.ts';
import { checkRuleTests, EventRunner } from '../correlator/detection/rule-tests.ts';
import { decodeBytes, decodeLine, listFormats } from '../correlator/decoders/index.ts';
import { replayRecording } from '../correlator/drills/replay.ts';
import { loadScenario } from '../correlator/drills/scenario.ts';
import { formatScoreText, scoreDrill } from '../correlator/drills/score.ts';
import type { Correlator } from '../correlator/service.ts';
import { MemoryBus } from '../shared/bus/memory.ts';
import type { EnvelopeInput } from '../shared/envelope.ts';
import { getField } from '../shared/event.ts';
import { createLogger } from '../shared/log.ts';
import { EmbeddedIncidentStore } from '../shared/store/embedded.ts';
import { topicNames } from '../shared/topics.ts';
import { uniqueName } from '../test/support/services.ts';
import { correlatorFor, drillAssets, memoryBackend, type Backend } from '../correlator/test/harness.ts';

/**
 * The rule pack (rules/): it loads without findings, its embedded tests pass, real lines of every decoder
 * format reach its rules, the bundled drills pass against it, and one incident of each layer comes out of
 * the correlator with the unit and severity the asset register gives (the drills' sample register:
 * the pack's own ships empty).
 */
const RULES = join(import.meta.dirname);
const DRILLS = join(RULES, 'drills');
const log = createLogger('rulepack-test');

const R = {
  avDetection: '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f03',
  avNotCleaned: '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f04',
  gatewayPassed: '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f05',
  gatewayBlocked: '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f06',
  avDisabled: '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f01',
  updateFailed: '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f09',
  adminPortDenied: 'a41c7e20-6b2f-4d8e-9c13-5e7f0a2b1c01',
  policyChanged: 'a41c7e20-6b2f-4d8e-9c13-5e7f0a2b1c03',
  adminLoginFailed: 'a41c7e20-6b2f-4d8e-9c13-5e7f0a2b1c04',
  avConfigChanged: '5b8e1d7c-2f4a-4c9e-a6b3-1d0e8f2c4a08',
  collectorDropping: '5b8e1d7c-2f4a-4c9e-a6b3-1d0e8f2c4a04',
  sshBruteForce: '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11',
  ncscHash: 'd4e9a3b6-7c1f-4a2e-8b5d-6f0c9e1a2b04',
  ncscDestination: 'd4e9a3b6-7c1f-4a2e-8b5d-6f0c9e1a2b01',
  sslVpnBruteForce: '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c17',
  globalProtectBruteForce: '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c18',
};

/** FortiGate SSL-VPN login failure (logid 0101039426) from a remote peer, at minute `m`. */
const fortiSslVpnFail = (m: number, peer = '203.0.113.66') =>
  `<185>date=2026-11-26 time=07:${String(m).padStart(2, '0')}:01 devname="FGT-DC" devid="FG100F0000000001" tz="+0700" logid="0101039426" type="event" subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" tunnelid=0 remip=${peer} user="admin${m}" group="N/A" dst_host="N/A" reason="sslvpn_login_unknown_user" msg="SSL user failed to logged in"`;

/** Palo Alto GlobalProtect portal authentication failure (PAN-OS 10 GLOBALPROTECT log), at minute `m`. */
const globalProtectFail = (m: number, peer = '203.0.113.80') =>
  `<14>Nov 26 08:${String(m).padStart(2, '0')}:00 pa-dc 1,2026/11/26 08:${String(m).padStart(2, '0')}:00,012345678901,GLOBALPROTECT,0,2561,2026/11/26 08:${String(m).padStart(2, '0')}:00,vsys1,portal-auth,login,LDAP,,user${m},VN,,${peer},0.0.0.0,0.0.0.0,0.0.0.0,,,5.2.4,Windows,"Microsoft Windows 10 Pro , 64-bit",1,,Authentication failed: Invalid username or password,,failure,,0,,0,GP-Portal,7001,0x0`;

describe('the rule pack as files', () => {
  it('loads without errors or warnings, has at least 40 rules spread over the four layers, and its embedded tests pass', () => {
    const { ruleset, findings } = loadRuleSet([RULES]);
    expect(findings).toEqual([]);
    const alerting = ruleset.rules().filter((r) => ruleset.alerts(r.id));
    expect(alerting.length).toBeGreaterThanOrEqual(40);
    const perLayer = [1, 2, 3, 4].map((l) => alerting.filter((r) => r.layer === l).length);
    for (const n of perLayer) expect(n).toBeGreaterThanOrEqual(6);
    for (const r of alerting) {
      expect(r.response.runbook, r.id).toBeTruthy();
      expect(r.file, r.id).toMatch(new RegExp(`layer${r.layer}/`));
    }
    const tests = checkRuleTests(ruleset);
    expect(tests.failures).toEqual([]);
    expect(tests.rules).toBeGreaterThanOrEqual(40);
  });
});

const win = (
  host: string,
  id: number,
  data: Record<string, string> = {},
  provider = 'Microsoft-Windows-Windows Defender',
  channel = 'Microsoft-Windows-Windows Defender/Operational',
) => JSON.stringify({ EventTime: '2026-11-26 07:45:00', Hostname: host, EventID: id, SourceName: provider, Channel: channel, ...data });

/** Raw lines as each product writes them (vendor documentation), the format that must read them, and pack rules they must trigger. */
const LINES: { format: string; line: string; rules: string[]; not?: string[] }[] = [
  {
    format: 'netfilter',
    rules: [R.adminPortDenied, 'ssh_attempt', 'fw_denied', 'server_telemetry'],
    line: '<4>Nov 26 07:59:01 srv-web-01 kernel: [12345.678901] IPTABLES-DROP: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.5 DST=10.20.1.11 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=5410 DF PROTO=TCP SPT=51514 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0',
  },
  {
    format: 'netfilter',
    rules: [R.ncscDestination, 'host_outbound_allowed'],
    line: '<4>Nov 26 07:59:05 srv-file-01 kernel: [12349.000001] OUT-ALLOW: IN= OUT=eth0 SRC=10.20.4.40 DST=198.51.100.66 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=5411 DF PROTO=TCP SPT=51515 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0',
  },
  {
    format: 'pfsense-filterlog',
    rules: [R.adminPortDenied, 'rdp_attempt'],
    line: '<134>Nov 26 07:59:02 filterlog[72237]: 5,,,1000000103,igb1,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,203.0.113.9,10.20.2.21,51000,3389,0,S,123456,,64240,,mss',
  },
  {
    format: 'fortigate',
    rules: [R.adminPortDenied],
    line: 'date=2026-11-26 time=07:30:00 devname="FGT-DC" devid="FG100F0000000001" eventtime=1795653000000000000 tz="+0700" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=203.0.113.50 srcport=44321 srcintf="wan1" dstip=10.20.1.11 dstport=3389 dstintf="dmz" proto=6 action="deny" policyid=99 policyname="default-deny" service="RDP"',
  },
  {
    format: 'fortigate',
    rules: [R.gatewayPassed],
    line: 'date=2026-11-26 time=07:31:00 devname="FGT-DC" logid="0211008192" type="utm" subtype="virus" eventtype="infected" level="warning" vd="root" msg="File is infected." action="passthrough" service="HTTP" srcip=198.51.100.80 dstip=10.20.1.11 srcport=80 dstport=50000 proto=6 user="nguyenvana" filename="eicar.com" virus="EICAR_TEST_FILE" url="http://198.51.100.80/eicar.com"',
  },
  {
    format: 'fortigate',
    rules: [R.policyChanged],
    line: 'date=2026-11-26 time=07:33:00 devname="FGT-DC" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="GUI(10.20.0.100)" action="Edit" cfgtid=1234 cfgpath="firewall.policy" cfgobj="12" cfgattr="action[accept->deny]" msg="Edit firewall.policy 12"',
  },
  {
    format: 'fortigate',
    rules: [R.adminLoginFailed],
    line: 'date=2026-11-26 time=07:32:00 devname="FGT-DC" logid="0100032002" type="event" subtype="system" level="alert" vd="root" logdesc="Admin login failed" sn="0" user="admin" ui="https(203.0.113.9)" method="https" srcip=203.0.113.9 dstip=10.20.0.1 action="login" status="failed" reason="passwd_invalid" msg="Administrator admin login failed from https(203.0.113.9) because of invalid password"',
  },
  { format: 'fortigate', rules: ['sslvpn_login_failed'], line: fortiSslVpnFail(20) },
  { format: 'paloalto', rules: ['globalprotect_login_failed'], line: globalProtectFail(0) },
  {
    format: 'cisco-asa',
    rules: [R.adminPortDenied],
    line: '<164>Nov 26 2026 07:40:00 asa-dc : %ASA-4-106023: Deny tcp src outside:203.0.113.12/40001 dst inside:10.20.1.15/3389 by access-group "outside_in" [0x0, 0x0]',
  },
  {
    format: 'cisco-asa',
    rules: [R.policyChanged],
    line: "<165>Nov 26 2026 07:41:00 asa-dc : %ASA-5-111008: User 'admin' executed the 'access-list outside_in extended permit tcp any any eq 3389' command.",
  },
  {
    format: 'windows-firewall',
    rules: [R.adminPortDenied],
    line: '2026-11-26 07:45:02 DROP TCP 203.0.113.14 10.20.3.35 51000 3389 60 S 12345 0 64240 - - - RECEIVE',
  },
  {
    format: 'windows-wfp',
    rules: [R.adminPortDenied],
    line: win(
      'srv-app-05',
      5157,
      {
        Direction: '%%14592',
        SourceAddress: '203.0.113.60',
        SourcePort: '50000',
        DestAddress: '10.20.3.35',
        DestPort: '3389',
        Protocol: '6',
        Application: '\\device\\harddiskvolume2\\windows\\system32\\svchost.exe',
      },
      'Microsoft-Windows-Security-Auditing',
      'Security',
    ),
  },
  {
    format: 'paloalto',
    rules: [R.adminPortDenied],
    line: '<14>Nov 26 07:50:00 pa-dc 1,2026/11/26 07:50:00,012345678901,TRAFFIC,drop,2561,2026/11/26 07:50:00,203.0.113.30,10.20.2.21,0.0.0.0,0.0.0.0,deny-inbound,,,not-applicable,vsys1,untrust,trust,ethernet1/1,,default,2026/11/26 07:50:00,0,1,51111,5985,0,0,0x0,tcp,deny,60,60,0,1,2026/11/26 07:49:59,0,any,0,1,0x0,United States,10.0.0.0-10.255.255.255,0,1,0,policy-deny',
  },
  {
    format: 'paloalto',
    rules: [R.gatewayPassed],
    line: '1,2026/11/26 07:51:00,012345678901,THREAT,virus,2561,2026/11/26 07:51:00,198.51.100.20,10.20.1.12,0.0.0.0,0.0.0.0,allow-web,,corp\\lethic,web-browsing,vsys1,untrust,trust,ethernet1/1,ethernet1/2,default,2026/11/26 07:51:00,1234,1,80,50123,0,0,0x400000,tcp,alert,"eicar.com",Eicar Test File(100000),any,medium,server-to-client',
  },
  {
    format: 'sophos-xg',
    rules: [R.adminPortDenied],
    line: 'device_name="SFW" timestamp="2026-11-26T07:52:00+0700" device_model="XGS2100" device_serial_id="X1" log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" log_subtype="Denied" fw_rule_id="5" fw_rule_name="Drop WAN" src_ip="203.0.113.40" dst_ip="10.20.1.15" protocol="TCP" src_port=40000 dst_port=22',
  },
  {
    format: 'sophos-xg',
    rules: [R.gatewayBlocked],
    not: [R.gatewayPassed],
    line: 'device_name="SFW" timestamp="2026-11-26T07:52:30+0700" device_model="XGS2100" device_serial_id="X1" log_id="030906208001" log_type="Anti-Virus" log_component="HTTP" log_subtype="Virus" status="" src_ip="198.51.100.41" dst_ip="10.20.4.40" src_port=80 dst_port=51000 virus="EICAR-AV-Test" url="http://198.51.100.41/eicar.com" filename="eicar.com"',
  },
  {
    format: 'sophos-utm',
    rules: [R.adminPortDenied],
    line: '<30>2026:11:26-07:53:10 utm-dc ulogd[4900]: id="2001" severity="info" sys="SecureNet" sub="packetfilter" name="Packet dropped" action="drop" fwrule="60001" initf="eth1" srcip="203.0.113.44" dstip="10.20.2.21" proto="6" length="60" srcport="44000" dstport="22" tcpflags="SYN"',
  },
  {
    format: 'sonicwall',
    rules: [R.adminPortDenied],
    line: '<134>  id=firewall sn=0040103CE114 time="2026-11-26 07:53:00" fw=10.20.0.3 pri=6 c=262144 gcat=6 m=537 msg="Connection Closed" src=203.0.113.41:41000:X1 dst=10.20.1.11:3389:X0 proto=tcp/3389 fw_action="drop"',
  },
  {
    format: 'checkpoint',
    rules: [R.adminPortDenied],
    line: '<134>1 2026-11-26T00:54:00Z gw-dc CheckPoint 1234 - [action:"Drop"; ifdir:"inbound"; origin:"10.20.0.4"; time:"1795654440"; src:"203.0.113.42"; s_port:"42000"; dst:"10.20.2.21"; service:"23"; proto:"6"; rule_name:"Cleanup rule"; product:"VPN-1 & FireWall-1"]',
  },
  {
    format: 'juniper-srx',
    rules: [R.adminPortDenied],
    line: '<14>1 2026-11-26T07:55:00.000+07:00 srx-dc RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address="203.0.113.43" source-port="43000" destination-address="10.20.1.11" destination-port="22" service-name="junos-ssh" protocol-id="6" icmp-type="0" policy-name="deny-ssh" source-zone-name="untrust" destination-zone-name="trust" username="N/A"]',
  },
  {
    format: 'leef',
    rules: [R.adminPortDenied],
    line: 'LEEF:1.0|WatchGuard|XTM|12.8.2.B666661|3000-0148|serial=000000000000\tpolicy=Unhandled External Packet-00\tdisp=Deny\tin_if=External\tout_if=Firebox\tsrc=203.0.113.71\tsrcPort=35979\tdst=10.20.1.11\tdstPort=22\tproto=tcp',
  },
  {
    format: 'cisco-meraki',
    rules: [R.adminPortDenied, 'rdp_attempt'],
    line: '<134>1 1795653000.596151424 MX84_7 flows deny src=203.0.113.34 dst=10.20.1.11 mac=64:1C:B0:BA:F0:EC protocol=tcp sport=49761 dport=3389',
  },
  {
    format: 'arista-ngfw',
    rules: [R.adminPortDenied, 'ssh_attempt'],
    line: '<174>Nov 26 15:55:44 INFO  uvm[0]:  {"msg":"ET SCAN Suspicious inbound","ipDestination":"10.20.1.11","ipSource":"203.0.113.56","signatureId":2403334,"timeStamp":"2026-11-26 15:55:44.77","protocol":"tcp","blocked":true,"class":"class com.untangle.app.intrusion_prevention.IntrusionPreventionLogEvent","sportItype":60000,"dportIcode":22}',
  },
  {
    format: 'pfsense-services',
    rules: [R.adminLoginFailed],
    line: "<134>Nov 26 19:10:30 php-fpm[99932]: /index.php: webConfigurator authentication error for user 'admin' from: 203.0.113.9",
  },
  {
    format: 'pfsense-services',
    rules: [],
    not: [R.adminLoginFailed],
    line: '<29>Nov 26 21:43:00 openvpn[66026]: 198.51.100.150:40000 TLS Auth Error: Auth Username/Password verification failed for peer',
  },
  {
    format: 'clamav',
    rules: [R.avDetection, R.avNotCleaned, 'av_malware_event'],
    line: '<13>Nov 26 07:40:00 srv-file-01 clamd[1234]: /srv/share/ketoan/invoice.pdf.exe: Win.Trojan.Agent-123456 FOUND',
  },
  {
    format: 'clamav',
    rules: [R.updateFailed],
    line: "<27>Nov 26 07:43:00 srv-file-01 freshclam[99]: ERROR: Can't download daily.cvd from database.clamav.net",
  },
  {
    format: 'kaspersky',
    rules: [R.avDetection, R.avNotCleaned, R.ncscHash],
    line: 'Event type: Object not disinfected\\r\\nResult description: Not disinfected\\r\\nType: Trojan\\r\\nName: HEUR:Trojan.Win32.Generic\\r\\nUser: SOTTTT\\hoa (Initiator)\\r\\nObject: C:\\Users\\hoa\\Downloads\\x.exe\\r\\nSHA256: 275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F',
  },
  {
    format: 'symantec',
    rules: [R.avDetection, R.avNotCleaned],
    line: '<54>Nov 26 07:49:00 sepm SymantecServer: Virus found,IP Address: 10.30.3.11,Computer name: ws-gd-11,Source: Auto-Protect scan,Risk name: W97M.Downloader,Occurrences: 1,File path: C:\\Users\\tv\\doc.doc,Description: ,Actual action: Left alone,Requested action: Cleaned,Secondary action: Quarantined,Event time: 2026-11-26 07:48:30,User: tv',
  },
  {
    format: 'eset-protect',
    rules: [R.avDetection, R.avNotCleaned, R.ncscHash],
    line: JSON.stringify({
      event_type: 'Threat_Event',
      ipv4: '10.30.1.24',
      hostname: 'ws-ketoan-04',
      occured: '26-Nov-2026 00:50:00',
      severity: 'Warning',
      threat_type: 'trojan',
      threat_name: 'Win32/Agent.ABC',
      object_uri: 'file:///C:/Users/nv/a.exe',
      action_taken: 'retained',
      username: 'SOTC\\nv',
      hash: '3395856CE81F2B7382DEE72602F798B642F14140',
    }),
  },
  {
    format: 'cef',
    rules: [R.avDetection],
    not: [R.avNotCleaned],
    line: 'CEF:0|Kaspersky Lab|Kaspersky Security Center|14.2|GNRL_EV_VIRUS_FOUND|Virus found|4|msg=Detected: HEUR:Trojan.Win32.Generic rt=1795654950000 dhost=srv-db-01 fname=C:\\\\Users\\\\a\\\\x.exe cs1=HEUR:Trojan.Win32.Generic cs1Label=VirusName',
  },
  {
    format: 'cef',
    rules: [R.avDetection],
    not: [R.avNotCleaned],
    line: 'CEF:0|Trend Micro|Apex Central|2019|AV:File quarantined|Virus found|3|rt=Nov 26 2026 00:48:00 GMT+00:00 dhost=ws-yte-07 dst=10.30.2.17 cs1Label=VirusName cs1=TROJ_GEN.R002C0 filePath=C:\\\\Users\\\\yte\\\\a.exe act=Quarantine',
  },
  {
    format: 'cisco-secure-endpoint',
    rules: [R.avDetection, 'av_malware_event'],
    not: [R.avNotCleaned],
    line: '{"data":{"id":1,"timestamp":1795653000,"date":"2026-11-26T00:30:00+00:00","event_type":"Threat Quarantined","event_type_id":553648143,"detection":"W32.Agent","connector_guid":"g","severity":"High","computer":{"hostname":"KT-PC-07.corp.local","user":"lan@corp.local"},"file":{"disposition":"Malicious","file_name":"a.exe","file_path":"C:\\\\a.exe","identity":{"sha256":"a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850"}}}}',
  },
  {
    format: 'bitdefender-gravityzone',
    rules: [R.avDetection],
    not: [R.avNotCleaned],
    line: '{"computer_name":"KT-PC-07","computer_fqdn":"kt-pc-07","computer_ip":"10.17.46.196","product_installed":"BEST","malware_type":"file","malware_name":"Trojan.GenericKD.1","file_path":"C:\\\\Users\\\\kt\\\\a.exe","hash":"8b3f191819931d1f2cef7289239b5f77c00b079847b9c2636e56854d1e5eff71","final_status":"deleted","timestamp":"2026-11-26T01:00:00.000Z","companyId":"623c18fb12fb8700396d6375","module":"av"}',
  },
  {
    format: 'sophos-central',
    rules: [R.avDetection, R.avNotCleaned],
    line: '{"appSha256":"01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b","source_info":{"ip":"10.0.0.6"},"customer_id":"2","endpoint_id":"1","threat":"Generic Reputation PUA","type":"Event::Endpoint::CorePuaDetection","group":"PUA","rt":"2026-11-26T01:00:00.000Z","name":"PUA detected: \'Generic Reputation PUA\' at \'C:\\\\Users\\\\lan\\\\x.zip\'","dhost":"KT-PC-08"}',
  },
  {
    format: 'm365-defender',
    rules: [R.avDetection, 'av_malware_event'],
    line: '{"category":"AdvancedHunting-DeviceEvents","properties":{"ActionType":"AntivirusDetection","DeviceName":"kt-pc-07","FileName":"invoice.pdf.exe","FolderPath":"C:\\\\Users\\\\lan\\\\Downloads\\\\invoice.pdf.exe","SHA256":"a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850","AdditionalFields":"{\\"ThreatName\\":\\"Trojan:Win32/Wacatac.B!ml\\",\\"WasRemediated\\":true,\\"Action\\":\\"quarantine\\"}","Timestamp":"2026-11-26T01:00:00Z"},"time":"2026-11-26T01:00:05Z"}',
  },
  {
    format: 'windows-defender',
    rules: [R.avDetection],
    not: [R.avNotCleaned],
    line: win('ws-ketoan-03', 1116, {
      'Threat Name': 'Trojan:Win32/Wacatac.B!ml',
      Path: 'file:_C:\\Users\\an\\Downloads\\setup.exe',
      'Detection User': 'SOTC\\an',
      'Severity Name': 'Severe',
    }),
  },
  {
    format: 'windows-defender',
    rules: [],
    not: [R.avDetection, R.avNotCleaned],
    line: win('ws-ketoan-03', 1117, { 'Threat Name': 'Trojan:Win32/Wacatac.B!ml' }),
  },
  {
    format: 'windows-defender',
    rules: [R.avNotCleaned],
    not: [R.avDetection],
    line: win('ws-ketoan-03', 1118, { 'Threat Name': 'Trojan:Win32/Wacatac.B!ml' }),
  },
  ...[5001, 5010, 5012].map((id) => ({ format: 'windows-defender', rules: [R.avDisabled], line: win('ws-ketoan-03', id) })),
  ...[2001, 2003].map((id) => ({ format: 'windows-defender', rules: [R.updateFailed], line: win('ws-ketoan-03', id) })),
  { format: 'windows-defender', rules: [R.avConfigChanged], line: win('ws-ketoan-03', 5007) },
  ...[2004, 2097, 2006, 2003].map((id) => ({
    format: 'windows-firewall-policy',
    rules: [R.policyChanged],
    line: win(
      'ketoan.stc.tinh.gov.vn',
      id,
      { RuleName: 'Allow RDP 3389', ModifyingApplication: 'C:\\Windows\\System32\\netsh.exe' },
      'Microsoft-Windows-Windows Firewall With Advanced Security',
      'Microsoft-Windows-Windows Firewall With Advanced Security/Firewall',
    ),
  })),
  // What the collector's winlog source ships (format windows-event): each record reaches its own decoder.
  { format: 'windows-event', rules: [R.avNotCleaned], line: win('ws-ketoan-03', 1119, { 'Threat Name': 'Trojan:Win32/Wacatac.B!ml' }) },
];

/** Formats with no product of their own: framing (syslog), already-normalized events, and catch-all readers of unknown JSON or key=value. */
const GENERIC = new Set(['syslog', 'normalized', 'json', 'kv']);

describe('the rule pack over real lines of every decoder format', () => {
  const { ruleset } = loadRuleSet([RULES]);

  it.each(LINES.map((c, i) => [`${c.format} #${i}`, c] as const))('%s', (_label, c) => {
    const received = new Date('2026-11-26T01:00:00Z');
    const auto = decodeLine(c.line, { received });
    // The line is recognised on its own (as from a collector with format auto) and by its format's name.
    expect(auto.event.kind, JSON.stringify(auto)).not.toBe('pipeline_error');
    expect(decodeLine(c.line, { received, format: c.format })).toEqual(auto);
    const matched = ruleset.match(auto).map((m) => m.rule.id);
    expect(matched).toEqual(expect.arrayContaining(c.rules));
    for (const r of c.not ?? []) expect(matched).not.toContain(r);
  });

  it('exercises every decoder format but the generic ones', () => {
    const exercised = new Set(LINES.filter((c) => c.rules.length > 0).map((c) => c.format));
    const missing = listFormats()
      .map((f) => f.name)
      .filter((f) => !GENERIC.has(f) && !exercised.has(f));
    expect(missing).toEqual([]);
  });
});

describe('VPN brute force from raw firewall lines, grouped by the remote peer', () => {
  const { ruleset } = loadRuleSet([RULES]);
  const received = new Date('2026-11-26T01:00:00Z');

  it.each([
    ['FortiGate SSL-VPN', R.sslVpnBruteForce, fortiSslVpnFail, '203.0.113.66'],
    ['Palo Alto GlobalProtect', R.globalProtectBruteForce, globalProtectFail, '203.0.113.80'],
  ] as const)('%s: ten failures from one peer fire, nine or spread peers do not', (_name, rule, line, peer) => {
    const fired = (lines: string[]) => {
      const runner = new EventRunner(ruleset);
      const out = lines.flatMap((l, i) => runner.push(decodeLine(l, { received }), i));
      return [...out, ...runner.finish()].filter((o) => o.rule === rule);
    };
    const hits = fired(Array.from({ length: 10 }, (_, m) => line(m)));
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ group: { 'source.ip': peer } });
    expect(fired(Array.from({ length: 9 }, (_, m) => line(m)))).toEqual([]);
    expect(fired(Array.from({ length: 10 }, (_, m) => line(m, `198.51.100.${m + 1}`)))).toEqual([]);
  });
});

/** Fields whose value whoever is logged controls: a control byte there must not hide the line. */
const CONTROLLED = ['file.name', 'file.path', 'url.original', 'url.full', 'url.path', 'user.name'];
const CONTROL_BYTES = ['\u0000', '\u0001', '\u001b'];

describe('control bytes in a logged file name, URL or user name hide no line from the rules', () => {
  const { ruleset } = loadRuleSet([RULES]);
  const received = new Date('2026-11-26T01:00:00Z');
  // Every line of LINES that raises rules and whose event carries such a field (as written in the line).
  const cases = LINES.flatMap((c) => {
    const event = decodeLine(c.line, { received });
    const fields = CONTROLLED.filter((f) => {
      const v = getField(event, f);
      return typeof v === 'string' && v.length >= 3 && c.line.includes(v);
    });
    return c.rules.length > 0 && fields.length > 0 ? [{ ...c, fields, values: fields.map((f) => getField(event, f) as string) }] : [];
  });

  it('covers lines of at least six formats', () => {
    expect(new Set(cases.map((c) => c.format)).size).toBeGreaterThanOrEqual(6);
  });

  it.each(
    cases.flatMap((c) =>
      CONTROL_BYTES.map((b) => [`${c.format}: 0x${b.charCodeAt(0).toString(16).padStart(2, '0')} in ${c.fields.join(', ')}`, c, b] as const),
    ),
  )('%s', (_label, c, b) => {
    let line = c.line;
    for (const v of c.values) line = line.split(v).join(`${v.slice(0, 2)}${b}${v.slice(2)}`);
    const event = decodeLine(line, { received });
    expect(event.event.kind, JSON.stringify(event)).not.toBe('pipeline_error');
    expect(event.event.original).toBe(line);
    // The byte shows as its control picture (NUL as U+2400) in the field it was written into.
    const picture = String.fromCharCode(0x2400 + b.charCodeAt(0));
    expect(
      c.fields.some((f) => String(getField(event, f)).includes(picture)),
      JSON.stringify(event),
    ).toBe(true);
    expect(ruleset.match(event).map((m) => m.rule.id)).toEqual(expect.arrayContaining(c.rules));
  });
});

describe('ClamAV detections with invalid UTF-8 in the file name', () => {
  it('still raise the detection, with the bad bytes shown as U+FFFD and the event flagged', () => {
    const { ruleset } = loadRuleSet([RULES]);
    // A Latin-1 "ó" (0xf3) and a stray continuation byte (0x80) in a name written on a non-UTF-8 share.
    const bytes = Buffer.concat([
      Buffer.from('<13>Nov 26 07:40:00 srv-file-01 clamd[1234]: /srv/share/ketoan/h'),
      Buffer.from([0xf3, 0x61, 0x80]),
      Buffer.from('don.pdf.exe: Win.Trojan.Agent-123456 FOUND'),
    ]);
    const event = decodeBytes(bytes, { received: new Date('2026-11-26T01:00:00Z') });
    expect([event.event.kind, getField(event, 'file.path'), getField(event, 'threat.software.name'), event.labels?.line_escaped]).toEqual([
      'alert',
      '/srv/share/ketoan/h\ufffda\ufffddon.pdf.exe',
      'Win.Trojan.Agent-123456',
      'invalid_utf8',
    ]);
    expect(ruleset.match(event).map((m) => m.rule.id)).toEqual(expect.arrayContaining([R.avDetection, R.avNotCleaned]));
  });
});

describe('ClamAV detections with control bytes in the file name', () => {
  let backend: Backend | undefined;
  let correlator: Correlator | undefined;
  afterAll(async () => {
    await correlator?.stop();
    await backend?.close();
  });

  it('raise their incidents on the server, with its unit from the register', async () => {
    backend = await memoryBackend('control-bytes');
    correlator = correlatorFor(backend.bus, backend.store, backend.topics, uniqueName('rulepack-control-bytes'), {
      rules: [RULES],
      extraAssets: drillAssets(),
      log,
    });
    await correlator.start();
    const now = Date.now();
    // Shipped by the SOC's syslog collector, whose own unit must not be stamped on the file server.
    const envs: EnvelopeInput[] = ['\u0000', '\u0001', '\u001b'].map((b, i) => ({
      v: 1,
      id: `ctl/${i}`,
      host: 'soc-collector-01',
      source: 'syslog-udp',
      format: 'auto',
      unit: 'so-tttt',
      received: new Date(now + i * 1000).toISOString(),
      line: `<13>${local(now + i * 1000).syslog} srv-file-01 clamd[1234]: /srv/share/ketoan/hoa${b}don-${i}.pdf.exe: Win.Trojan.Agent-123456 FOUND`,
    }));
    const producer = await backend.bus.producer();
    await producer.send(
      backend.topics.raw,
      envs.map((e) => ({ key: e.host, value: JSON.stringify(e) })),
    );
    await producer.close();
    const b = backend;
    await vi.waitFor(
      async () => {
        const incidents = (await b.store.searchIncidents({ size: 500 })).incidents;
        const detection = incidents.find((i) => i.rule.id === R.avDetection);
        expect(detection, JSON.stringify(incidents.map((i) => i.rule.id))).toBeDefined();
        expect([detection!.host, detection!.unit, detection!.alert_count]).toEqual([['srv-file-01'], 'so-gddt', 3]);
        expect(incidents.some((i) => i.rule.id === R.avNotCleaned)).toBe(true);
      },
      { timeout: 30_000, interval: 100 },
    );
  });
});

describe('the bundled drills against the rule pack', () => {
  const running: { correlator: Correlator; store: EmbeddedIncidentStore }[] = [];
  afterEach(async () => {
    for (const p of running.splice(0)) {
      await p.correlator.stop();
      await p.store.close();
    }
  });

  it.each(['ssh-brute-force', 'port-scan-sweep', 'malware-outbreak', 'silent-source'])(
    '%s passes: every expected incident is detected in time',
    async (name) => {
      const bus = new MemoryBus(3);
      const store = new EmbeddedIncidentStore(mkdtempSync(join(tmpdir(), 'rulepack-drill-')));
      const topics = topicNames('rp.');
      const correlator = correlatorFor(bus, store, topics, `rulepack-${name}`, {
        rules: [RULES],
        extraAssets: drillAssets(),
        eventsPerAlert: 5,
        tickMs: 200,
        log,
      });
      running.push({ correlator, store });
      await correlator.start();
      const scenario = loadScenario(join(DRILLS, name, 'scenario.yml'));
      const drillId = `rp-${name}`;
      const r = await replayRecording({
        file: scenario.recordingPath,
        producer: await bus.producer(),
        topic: topics.raw,
        speed: 'max',
        drillId,
        rebase: 'now',
      });
      await vi.waitFor(async () => expect(await correlator.drillClosed(drillId), `drill ${drillId} closed`).toBe(true), { timeout: 40_000, interval: 100 });
      const report = await scoreDrill(store, scenario, drillId, { shiftMs: r.shiftMs });
      expect(
        report.expected.map((e) => e.outcome),
        formatScoreText(report),
      ).toEqual(report.expected.map(() => 'detected'));
      expect(report.passed).toBe(true);
    },
  );
});

// ---- One incident per layer, through the correlator over both backends ----

const TZ_OFFSET_MS = 7 * 3_600_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');
/** Local time of the data centre (UTC+7), as the devices write it. */
function local(t: number) {
  const d = new Date(t + TZ_OFFSET_MS);
  return {
    syslog: `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    windows: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
  };
}

/**
 * Raw envelopes, timed around now (a flatline would otherwise see registered servers silent since the
 * past): layer 1 Defender switched off on srv-db-01, layer 2 SSH brute force on srv-web-01 (connections
 * the server's firewall let in, so no admin-port deny fires besides), layer 3 a heartbeat of srv-app-05's
 * collector reporting dropped lines, layer 4 srv-file-01 connecting to an address of the national list.
 * No envelope carries `unit`: units must come from the asset register.
 */
function layerScenario(now: number): { key: string; value: string }[] {
  const envs: EnvelopeInput[] = [];
  const t0 = now - 60_000;
  const line = (host: string, source: string, at: number, text: string, i: number): EnvelopeInput => ({
    v: 1,
    id: `layers/${host}/${i}`,
    host,
    source,
    format: 'auto',
    received: new Date(at + 200).toISOString(),
    line: text,
  });
  envs.push(
    line(
      'srv-db-01',
      'winlogbeat',
      t0,
      JSON.stringify({
        EventTime: local(t0).windows,
        Hostname: 'srv-db-01',
        EventID: 5001,
        SourceName: 'Microsoft-Windows-Windows Defender',
        Channel: 'Microsoft-Windows-Windows Defender/Operational',
      }),
      0,
    ),
  );
  for (let i = 0; i < 12; i++) {
    const at = t0 + i * 3000;
    envs.push(
      line(
        'srv-web-01',
        '/var/log/kern.log',
        at,
        `<4>${local(at).syslog} srv-web-01 kernel: [1000.${i}] SSH-IN-ACCEPT: IN=eth0 OUT= SRC=203.0.113.77 DST=10.20.1.11 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=${100 + i} DF PROTO=TCP SPT=${40000 + i} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0`,
        i + 1,
      ),
    );
  }
  envs.push({
    v: 1,
    kind: 'heartbeat',
    id: 'layers/srv-app-05/hb',
    host: 'srv-app-05',
    source: 'collector',
    received: new Date(t0 + 5000).toISOString(),
    line: '',
    heartbeat: { lines: 5000, dropped: 120, lastLineAt: new Date(t0).toISOString() },
  });
  envs.push(
    line(
      'srv-file-01',
      '/var/log/kern.log',
      t0 + 8000,
      `<4>${local(t0 + 8000).syslog} srv-file-01 kernel: [2000.1] OUT-ALLOW: IN= OUT=eth0 SRC=10.20.4.40 DST=198.51.100.66 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=51515 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0`,
      99,
    ),
  );
  return envs.map((e) => ({ key: e.host, value: JSON.stringify(e) }));
}

const EXPECTED_PER_LAYER = [
  // high on a security-level-3 server: one step up
  { layer: 1, rule: R.avDisabled, unit: 'so-tc', severity: 'critical', host: 'srv-db-01' },
  { layer: 2, rule: R.sshBruteForce, unit: 'so-tttt', severity: 'critical', host: 'srv-web-01' },
  // level 2 servers keep the rule's level
  { layer: 3, rule: R.collectorDropping, unit: 'so-yt', severity: 'high', host: 'srv-app-05' },
  { layer: 4, rule: R.ncscDestination, unit: 'so-gddt', severity: 'high', host: 'srv-file-01' },
];

// On the in-memory bus and the embedded store: that Kafka with Elasticsearch gives the same incidents is
// the pipeline's integration test (correlator/pipeline.int.test.ts).
describe('one incident per layer', () => {
  let backend: Backend | undefined;
  let correlator: Correlator | undefined;
  afterAll(async () => {
    await correlator?.stop();
    await backend?.close();
  });

  it('raw lines give four incidents, layers 1 to 4, each with the unit and severity of its server in the asset register', async () => {
    backend = await memoryBackend('layers');
    // Live traffic: a correlation waits for the watermark (newest event minus the allowed lateness), so a
    // short lateness lets the brute force fire within the test instead of five minutes later.
    correlator = correlatorFor(backend.bus, backend.store, backend.topics, uniqueName('rulepack-layers'), {
      rules: [RULES],
      extraAssets: drillAssets(),
      allowedLatenessMs: 3000,
      eventsPerAlert: 5,
      tickMs: 200,
      log,
    });
    await correlator.start();
    const producer = await backend.bus.producer();
    await producer.send(backend.topics.raw, layerScenario(Date.now()));
    await producer.close();
    const b = backend;
    const incidents = await vi.waitFor(
      async () => {
        const found = (await b.store.searchIncidents({ size: 500 })).incidents;
        const got = found
          .map((i) => ({ layer: i.layer, rule: i.rule.id, unit: i.unit, severity: i.severity, host: i.host.join(',') }))
          .sort((x, y) => x.layer - y.layer);
        expect(got).toEqual(EXPECTED_PER_LAYER);
        return found;
      },
      { timeout: 60_000, interval: 100 },
    );
    for (const i of incidents) {
      expect(i.drill).toBeNull();
      expect(i.runbook).toBeTruthy();
      expect(i.share_national).toBe(i.rule.id === R.sshBruteForce || i.rule.id === R.ncscDestination);
    }
  });
});
