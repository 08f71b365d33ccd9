import { describe, expect, it } from 'vitest';
import { decoded } from '../test-support/decode.ts';

/**
 * The decoders added for issue 16 and the weak ones it raised, on lines in each vendor's documented format
 * (addresses from the documentation ranges). The corpus test measures them on real lines besides.
 */
describe('pfSense / OPNsense services besides filterlog', () => {
  it('DHCP: the client is the source, the server the destination, transport udp', () => {
    const f = decoded('<190>Nov 26 07:39:41 dhcpd[64305]: DHCPREQUEST for 10.150.60.56 (10.150.60.1) from 4c:55:41:a0:fa:99 (laptop-7) via igb1.60');
    expect([f('event.module'), f('source.ip'), f('destination.ip'), f('network.transport'), f('event.action'), f('observer.product')]).toEqual([
      'pfsense-services',
      '10.150.60.56',
      '10.150.60.1',
      'udp',
      'dhcprequest',
      'pfsense',
    ]);
    const v6 = decoded('<190>Nov 26 18:11:58 dhcpd[6555]: Solicit message from fe80::e6c9:2b22:f9db:bfad port 546, transaction ID 0x3C21A200');
    expect([v6('source.ip'), v6('source.port')]).toEqual(['fe80::e6c9:2b22:f9db:bfad', 546]);
  });

  it('OpenVPN: the peer and the user; an authentication failure is a failure', () => {
    const f = decoded('<29>Nov 26 21:42:57 openvpn[66026]: bob/198.51.100.149:37849 MULTI_sva: pool returned IPv4=10.170.170.2, IPv6=(Not enabled)');
    expect([f('source.ip'), f('source.port'), f('user.name')]).toEqual(['198.51.100.149', 37849, 'bob']);
    const failed = decoded('<29>Nov 26 21:43:00 openvpn[66026]: 198.51.100.150:40000 TLS Auth Error: Auth Username/Password verification failed for peer');
    expect([failed('source.ip'), failed('event.outcome')]).toEqual(['198.51.100.150', 'failure']);
  });

  it('web configurator logins, IPsec (charon), Unbound, HAProxy', () => {
    const login = decoded("<134>Nov 26 19:10:30 php-fpm[99932]: /index.php: webConfigurator authentication error for user 'admin' from: 203.0.113.9");
    expect([login('source.ip'), login('user.name'), login('event.outcome'), login('event.category')]).toEqual([
      '203.0.113.9',
      'admin',
      'failure',
      ['authentication'],
    ]);
    const ike = decoded(
      '<30>1 2026-11-26T07:08:00.777042+07:00 fw.example.net charon 18610 - - 14[NET] <con1000|11> sending packet: from 203.0.113.1[500] to 198.51.100.7[4500] (464 bytes)',
    );
    expect([ike('source.ip'), ike('source.port'), ike('destination.ip'), ike('destination.port')]).toEqual(['203.0.113.1', 500, '198.51.100.7', 4500]);
    const dns = decoded('<30>Nov 26 16:18:59 unbound[26931]: [26931:2] info: 172.16.33.2 clients4.google.com. A IN');
    expect([dns('source.ip'), dns('dns.question.name'), dns('dns.question.type')]).toEqual(['172.16.33.2', 'clients4.google.com', 'A']);
    const web = decoded(
      '<134>Nov 26 16:15:18 haproxy[41476]: 10.87.93.55:59607 [26/Nov/2026:16:15:18.502] front~ back/srv1 0/0/0/2/2 400 182 - - ---- 2/2/0/1/0 0/0 "GET /favicon.ico HTTP/1.1"',
    );
    expect([web('source.ip'), web('source.port')]).toEqual(['10.87.93.55', 59607]);
  });

  it('leaves filterlog to its own decoder', () => {
    expect(
      decoded(
        '<134>Nov 26 07:10:30 filterlog[72237]: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,198.51.100.1,10.0.0.5,1234,22,0,S,123456,,64240,,mss',
      )('event.module'),
    ).toBe('pfsense-filterlog');
  });
});

describe('Check Point', () => {
  it('takes allowed/denied from rule_action, logins from the action, NAT from xlate*', () => {
    const f = decoded(
      '<134>1 2026-11-26T00:54:00Z gw-hcm CheckPoint 1234 - [action:"Inform"; rule_action:"Accept"; src:"10.0.0.5"; s_port:"51000"; dst:"203.0.113.80"; service:"443"; proto:"6"; xlatesrc:"198.51.100.2"; xlatesport:"40001"; xlatedst:"0.0.0.0"; product:"VPN-1 & FireWall-1"]',
    );
    expect([f('event.type'), f('event.action'), f('source.nat.ip'), f('source.nat.port'), f('destination.nat')]).toEqual([
      ['allowed', 'connection'],
      'Inform',
      '198.51.100.2',
      40001,
      undefined,
    ]);
    const login = decoded(
      '<134>1 2026-11-26T00:55:00Z gw-hcm CheckPoint 2700 - [action:"Failed Log In"; origin:"203.0.113.56"; time:"1795654500"; user:"admin"; product:"Connectra"]',
    );
    expect([login('event.type'), login('event.outcome'), login('event.category')]).toEqual([['denied'], 'failure', ['authentication']]);
  });

  it('reads a header-less record and the quoted-column export', () => {
    const bare = decoded('syslog[action:"Drop"; src:"198.51.100.3"; dst:"10.0.0.9"; proto:"17"; service:"53"; product:"VPN-1 & FireWall-1"]');
    expect([bare('event.module'), bare('source.ip'), bare('destination.port'), bare('event.type')]).toEqual([
      'checkpoint',
      '198.51.100.3',
      53,
      ['denied', 'connection'],
    ]);
    const legacy = decoded(
      '"22" "26Nov2026" "07:44:49" "eth1" "FW-01" "Log" "Accept" "443" "44250" "198.51.100.20" "10.0.0.80" "tcp" "81" "WebAccess" "81-Policy" "" "inzone: External; outzone: Internal; service_id: https" "Multi-product" "" ""',
    );
    expect([
      legacy('source.ip'),
      legacy('source.port'),
      legacy('destination.ip'),
      legacy('destination.port'),
      legacy('network.transport'),
      legacy('rule.name'),
      legacy('event.type'),
    ]).toEqual(['198.51.100.20', 44250, '10.0.0.80', 443, 'tcp', 'WebAccess', ['allowed', 'connection']]);
  });
});

describe('Juniper Junos events without structured data', () => {
  it('login and command events name the user; firewall-filter logs carry the packet', () => {
    expect(decoded("mgd[94759]: UI_AUTH_EVENT: Authenticated user 'jdoe' assigned to class 'super-user'")('user.name')).toBe('jdoe');
    expect(decoded("sshd[1234]: SSHD_LOGIN_FAILED: Login failed for user 'root' from host '203.0.113.66'")('source.ip')).toBe('203.0.113.66');
    const fw = decoded(
      '<158>1 2026-11-26T15:18:05.010+07:00 srx-01 - - - - node1.fpc0 PFE_FW_SYSLOG_IP: FW: reth2.605 D udp 198.51.100.2 10.0.0.12 5353 53 (3 packets)',
    );
    expect([fw('source.ip'), fw('destination.ip'), fw('destination.port'), fw('network.transport'), fw('event.type'), fw('network.packets')]).toEqual([
      '198.51.100.2',
      '10.0.0.12',
      53,
      'udp',
      ['connection', 'denied'],
      3,
    ]);
  });
});

describe('Cisco Meraki', () => {
  it('flows and firewall: the verdict word or rule number (0 allow, 1 deny)', () => {
    const flow = decoded(
      '<134>1 1795653000.596151424 MX84_7 flows deny src=203.0.113.34 dst=10.0.0.234 mac=64:1C:B0:BA:F0:EC protocol=tcp sport=49761 dport=3389',
    );
    expect([flow('event.module'), flow('observer.name'), flow('source.ip'), flow('destination.port'), flow('network.transport'), flow('event.type')]).toEqual([
      'cisco-meraki',
      'MX84_7',
      '203.0.113.34',
      3389,
      'tcp',
      ['connection', 'start', 'denied'],
    ]);
    const fw = decoded('1795653000.954105815 FW_MX_01 firewall src=10.0.0.4 dst=198.51.100.8 protocol=tcp sport=42644 dport=543 pattern: 1 all');
    expect([fw('event.type'), fw('@timestamp')]).toEqual([['connection', 'start', 'denied'], '2026-11-26T00:30:00.954Z']);
  });

  it('ip_flow keeps the NAT translation apart; urls carry the request; IDS alerts the signature and direction', () => {
    const nat = decoded(
      '<134>1 1795653000.997155282 MX100 ip_flow_start src=10.0.0.234 dst=203.0.113.145 protocol=tcp sport=34294 dport=80 translated_src_ip=198.51.100.4 translated_port=34294',
    );
    expect([nat('source.ip'), nat('source.nat.ip'), nat('source.nat.port')]).toEqual(['10.0.0.234', '198.51.100.4', 34294]);
    const url = decoded(
      '1795653000.773622789 FW_MX_01 urls src=fe80:110:8897:efab:9202:b3ff:fe1e:8329:64194 dst=fe80:110:8897:efab:9202:b3ff:fe1e:8330:80 mac=AA:BB:CC:DD:EE:FF request: GET http://www.example.com/a.txt',
    );
    expect([url('source.ip'), url('source.port'), url('destination.port'), url('url.original')]).toEqual([
      'fe80:110:8897:efab:9202:b3ff:fe1e:8329',
      64194,
      80,
      'http://www.example.com/a.txt',
    ]);
    const ids = decoded(
      '<134>1 1795653000.348361125 MX84 security_event ids_alerted signature=1:29708:4 priority=1 timestamp=1795653000.330873 direction=ingress protocol=tcp/ip src=203.0.113.12:80 dst=10.0.3.162:56391 decision=blocked message: BROWSER-IE Microsoft Internet Explorer CSS uninitialized object access attempt',
    );
    expect([
      ids('source.ip'),
      ids('destination.port'),
      ids('network.transport'),
      ids('network.direction'),
      ids('rule.name'),
      ids('event.type'),
      ids('event.kind'),
    ]).toEqual([
      '203.0.113.12',
      56391,
      'tcp',
      'inbound',
      'BROWSER-IE Microsoft Internet Explorer CSS uninitialized object access attempt',
      ['info', 'denied'],
      'alert',
    ]);
  });

  it('VPN and RADIUS events name the user and the peer', () => {
    const radius = decoded(
      "1795653000.426899545 FW_MX_01 events type=anyconnect_vpn_auth_success msg= 'RADIUS[374] Server IP=10.0.0.2 Server port=1812 Peer IP=203.0.113.8 Peer port=56735 User=john.doe: Authentication request accepted. '",
    );
    expect([radius('source.ip'), radius('destination.port'), radius('user.name'), radius('event.outcome')]).toEqual([
      '203.0.113.8',
      1812,
      'john.doe',
      'success',
    ]);
  });
});

describe('Bitdefender GravityZone, Sophos Central, Cisco Secure Endpoint, Arista NG Firewall', () => {
  it('GravityZone push notifications: the endpoint is the host, the malware and file from the event', () => {
    const f = decoded(
      '{"computer_name":"KT-PC-07","computer_fqdn":"kt-pc-07","computer_ip":"10.17.46.196","product_installed":"BEST","malware_type":"file","malware_name":"Trojan.GenericKD.1","file_path":"C:\\\\Users\\\\kt\\\\a.exe","hash":"8b3f191819931d1f2cef7289239b5f77c00b079847b9c2636e56854d1e5eff71","final_status":"deleted","timestamp":"2026-11-26T01:00:00.000Z","companyId":"623c18fb12fb8700396d6375","module":"av"}',
    );
    expect([f('event.module'), f('host.name'), f('threat.software.name'), f('file.name'), f('event.action'), f('event.category'), f('@timestamp')]).toEqual([
      'bitdefender-gravityzone',
      'KT-PC-07',
      'Trojan.GenericKD.1',
      'a.exe',
      'deleted',
      ['threat', 'malware'],
      '2026-11-26T01:00:00.000Z',
    ]);
  });

  it('Sophos Central: web filtering blocks, PUA with the quoted path, DOMAIN\\user', () => {
    const web = decoded(
      '{"severity":"low","type":"Event::Endpoint::WebFilteringBlocked","endpoint_type":"computer","endpoint_id":"1","source_info":{"ip":"10.0.0.5"},"customer_id":"2","name":"Access was blocked to \\"bad.example\\" because of \\"Mal/JSInject-AC\\".","id":"3","group":"WEB","end":"2026-11-26T01:00:00.000Z","suser":"CORP\\\\lan","rt":"2026-11-26T01:00:01.000Z","dhost":"KT-PC-07"}',
    );
    expect([web('event.module'), web('event.type'), web('rule.name'), web('user.name'), web('user.domain'), web('host.name')]).toEqual([
      'sophos-central',
      ['info', 'denied'],
      'Mal/JSInject-AC',
      'lan',
      'CORP',
      'KT-PC-07',
    ]);
    const pua = decoded(
      '{"appSha256":"01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b","source_info":{"ip":"10.0.0.6"},"customer_id":"2","endpoint_id":"1","threat":"Generic Reputation PUA","type":"Event::Endpoint::CorePuaDetection","group":"PUA","rt":"2026-11-26T01:00:00.000Z","name":"PUA detected: \'Generic Reputation PUA\' at \'C:\\\\Users\\\\lan\\\\x.zip\'","dhost":"KT-PC-08"}',
    );
    expect([pua('threat.software.name'), pua('file.path'), pua('file.name'), pua('event.category'), pua('event.kind')]).toEqual([
      'Generic Reputation PUA',
      'C:\\Users\\lan\\x.zip',
      'x.zip',
      ['malware'],
      'alert',
    ]);
  });

  it('Cisco Secure Endpoint: detection, file, hashes and the user; network events from the endpoint', () => {
    const f = decoded(
      '{"data":{"id":1,"timestamp":1795653000,"date":"2026-11-26T00:30:00+00:00","event_type":"Threat Quarantined","event_type_id":553648143,"detection":"W32.Agent","connector_guid":"g","severity":"High","computer":{"hostname":"KT-PC-07.corp.local","user":"lan@corp.local"},"file":{"disposition":"Malicious","file_name":"a.exe","file_path":"C:\\\\a.exe","identity":{"sha256":"a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850"}}}}',
    );
    expect([
      f('event.module'),
      f('event.action'),
      f('threat.software.name'),
      f('file.name'),
      f('user.name'),
      f('host.name'),
      f('event.severity'),
      f('event.category'),
    ]).toEqual(['cisco-secure-endpoint', 'Threat Quarantined', 'W32.Agent', 'a.exe', 'lan', 'kt-pc-07.corp.local', 3, ['file', 'malware']]);
    const net = decoded(
      '{"id":2,"timestamp":1795653000,"event_type":"DFC Threat Detected","event_type_id":1090519084,"connector_guid":"g","computer":{"hostname":"pc"},"network_info":{"remote_ip":"203.0.113.12","remote_port":443,"local_ip":"10.10.0.5","local_port":55807,"nfm":{"direction":"Outgoing connection from","protocol":"TCP"}}}',
    );
    expect([net('source.ip'), net('destination.ip'), net('destination.port'), net('network.direction'), net('network.transport')]).toEqual([
      '10.10.0.5',
      '203.0.113.12',
      443,
      'egress',
      'tcp',
    ]);
  });

  it('Arista NG Firewall: sessions on the client side with NAT apart, web filter verdicts, IPS alerts', () => {
    const s = decoded(
      '<174>Nov 26 10:06:57 INFO  uvm[0]:  {"protocol":6,"hostname":"kt-pc","CServerPort":443,"protocolName":"TCP","class":"class com.untangle.uvm.app.SessionEvent","SServerAddr":"203.0.113.50","serverIntf":1,"CClientAddr":"10.0.0.10","CClientPort":58377,"SClientAddr":"198.51.100.2","SClientPort":40000,"clientIntf":2,"SServerPort":443,"CServerAddr":"203.0.113.50","username":"jane","timeStamp":"2026-11-26 10:06:57.518"}',
    );
    expect([
      s('event.module'),
      s('source.ip'),
      s('source.domain'),
      s('source.nat.ip'),
      s('destination.ip'),
      s('destination.port'),
      s('user.name'),
      s('network.direction'),
    ]).toEqual(['arista-ngfw', '10.0.0.10', 'kt-pc', '198.51.100.2', '203.0.113.50', 443, 'jane', 'outbound']);
    const ips = decoded(
      '<174>Nov 26 15:55:44 INFO  uvm[0]:  {"msg":"ET SCAN Suspicious inbound","ipDestination":"10.0.0.72","ipSource":"203.0.113.56","signatureId":2403334,"timeStamp":"2026-11-26 15:55:44.77","protocol":"tcp","blocked":true,"class":"class com.untangle.app.intrusion_prevention.IntrusionPreventionLogEvent","sportItype":60000,"dportIcode":22}',
    );
    expect([ips('source.ip'), ips('destination.port'), ips('rule.name'), ips('event.type'), ips('event.kind')]).toEqual([
      '203.0.113.56',
      22,
      'ET SCAN Suspicious inbound',
      ['denied'],
      'alert',
    ]);
  });

  it('Microsoft 365 Defender advanced hunting: one mapping for the tables; inbound connections from the remote end', () => {
    const logon = decoded(
      '{"category":"AdvancedHunting-DeviceLogonEvents","properties":{"AccountName":"administrator","ActionType":"LogonFailed","DeviceName":"kt-srv-01","LogonType":"Network","RemoteIP":"203.0.113.1","RemotePort":0,"Timestamp":"2026-11-26T01:00:00.8167685Z"},"time":"2026-11-26T01:00:05Z"}',
    );
    expect([
      logon('event.module'),
      logon('source.ip'),
      logon('user.name'),
      logon('host.name'),
      logon('event.outcome'),
      logon('event.category'),
      logon('@timestamp'),
    ]).toEqual(['m365-defender', '203.0.113.1', 'administrator', 'kt-srv-01', 'failure', ['authentication'], '2026-11-26T01:00:00.816Z']);
    const inbound = decoded(
      '{"category":"AdvancedHunting-DeviceNetworkEvents","properties":{"DeviceName":"kt-srv-01","RemoteIP":"203.0.113.9","RemotePort":46112,"LocalIP":"10.0.0.20","LocalPort":443,"Protocol":"TcpV4","ActionType":"InboundConnectionAccepted","Timestamp":"2026-11-26T01:00:00Z"}}',
    );
    expect([inbound('source.ip'), inbound('destination.ip'), inbound('destination.port'), inbound('network.transport'), inbound('network.direction')]).toEqual([
      '203.0.113.9',
      '10.0.0.20',
      443,
      'tcp',
      'inbound',
    ]);
    const file = decoded(
      '{"category":"AdvancedHunting-DeviceFileEvents","properties":{"ActionType":"FileCreated","DeviceName":"kt-pc-07","FileName":"a.dll","FolderPath":"C:\\\\Windows\\\\a.dll","SHA256":"add683a6910abbbf0e28b557fad0ba998166394932ae2aca069d9aa19ea8fe88","InitiatingProcessAccountName":"system","InitiatingProcessAccountDomain":"nt authority","Timestamp":"2026-11-26T01:00:00Z"}}',
    );
    expect([file('file.name'), file('file.path'), file('file.hash.sha256'), file('user.name'), file('user.domain')]).toEqual([
      'a.dll',
      'C:\\Windows\\a.dll',
      'add683a6910abbbf0e28b557fad0ba998166394932ae2aca069d9aa19ea8fe88',
      'system',
      'nt authority',
    ]);
    const av = decoded(
      '{"category":"AdvancedHunting-DeviceEvents","properties":{"ActionType":"AntivirusDetection","DeviceName":"kt-pc-07","FileName":"a.exe","FolderPath":"C:\\\\Users\\\\lan\\\\a.exe","AdditionalFields":"{\\"ThreatName\\":\\"Trojan:Win32/Wacatac.B!ml\\",\\"WasRemediated\\":true}","Timestamp":"2026-11-26T01:00:00Z"}}',
    );
    expect([av('event.category'), av('event.kind'), av('threat.software.name'), av('file.path')]).toEqual([
      ['host', 'malware'],
      'alert',
      'Trojan:Win32/Wacatac.B!ml',
      'C:\\Users\\lan\\a.exe',
    ]);
    expect(
      decoded(
        '{"category":"AdvancedHunting-DeviceEvents","properties":{"ActionType":"PnpDeviceConnected","DeviceName":"kt-pc-07","Timestamp":"2026-11-26T01:00:00Z"}}',
      )('event.category'),
    ).toEqual(['host']);
  });
});
