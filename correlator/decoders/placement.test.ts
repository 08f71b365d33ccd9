import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvelopeInput } from '../../shared/envelope.ts';
import { getField } from '../../shared/event.ts';
import { AssetRegister } from '../detection/assets.ts';
import { decodeEnvelope, decodeLine } from './index.ts';
import type { AssetFinder } from './placement.ts';
import { loadRuleSet } from '../detection/ruleset.ts';
import { singleEventAlert } from '../stages/alerts.ts';
import type { NormalizedEvent } from '../../shared/event.ts';

const owner = { name: 'Nguyễn Văn Minh' };
const register = new AssetRegister([
  { host: 'srv-web-01', aliases: ['10.20.1.11'], unit: 'so-tttt', security_level: 3, owner },
  { host: 'srv-mail-01', aliases: ['10.20.1.15'], unit: 'ubnd', security_level: 3, owner },
  { host: 'srv-db-01', aliases: ['10.20.2.21'], unit: 'so-tc', security_level: 4, owner },
  { host: 'srv-file-01', aliases: ['10.20.4.40'], unit: 'so-gddt', security_level: 2, owner },
  { host: 'fgt-dc', aliases: ['10.20.0.1', 'FGT-DC'], unit: 'so-tttt', security_level: 3, owner },
]);
const assets: AssetFinder = (name) => {
  const a = register.lookup(name);
  return a ? { host: a.host, unit: a.unit, securityLevel: a.security_level } : undefined;
};

/** A line as the syslog collector of the SOC (its own unit) ships it. */
function viaCollector(line: string, host = 'soc-collector-01', unit = 'so-tttt-soc'): Record<string, unknown> {
  const env: EnvelopeInput = { v: 1, id: `t/${line.length}`, host, source: 'syslog-udp', format: 'auto', received: '2026-11-26T01:00:00.000Z', line, unit };
  return decodeEnvelope(env as Parameters<typeof decodeEnvelope>[0], { assets }) as Record<string, unknown>;
}

const fields = (e: Record<string, unknown>, ...names: string[]) => names.map((n) => getField(e, n));

const PLACED = ['host.name', 'observer.name', 'labels.unit', 'labels.security_level'];

describe('observer and host', () => {
  it('FortiGate SSL-VPN login failure: the remote peer is the source, the gateway the destination and the host', () => {
    const e = viaCollector(
      '<185>date=2026-11-26 time=07:20:01 devname="FGT-DC" devid="FG100F0000000001" eventtime=1795652401000000000 tz="+0700" logid="0101039426" type="event" subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" tunnelid=0 remip=203.0.113.66 user="admin" group="N/A" dst_host="N/A" reason="sslvpn_login_unknown_user" msg="SSL user failed to logged in"',
    );
    expect(fields(e, 'source.ip', 'destination.ip', 'event.action', 'event.outcome', 'user.name', 'observer.serial_number')).toEqual([
      '203.0.113.66',
      undefined,
      'ssl-login-fail',
      'failure',
      'admin',
      'FG100F0000000001',
    ]);
    expect(fields(e, ...PLACED, 'observer.hostname')).toEqual(['fgt-dc', 'fgt-dc', 'so-tttt', '3', 'FGT-DC']);
  });

  it('FortiGate deny towards a registered server: the server is the host, the firewall the observer, unit and level from the register', () => {
    const e = viaCollector(
      '<189>date=2026-11-26 time=07:30:00 devname="FGT-DC" devid="FG100F0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=203.0.113.50 srcport=44321 srcintf="wan1" dstip=10.20.1.11 dstport=3389 dstintf="dmz" proto=6 action="deny" policyid=99 policyname="default-deny" service="RDP" sentbyte=0 rcvdbyte=0',
    );
    expect(fields(e, ...PLACED, 'host.ip', 'observer.hostname')).toEqual(['srv-web-01', 'fgt-dc', 'so-tttt', '3', '10.20.1.11', 'FGT-DC']);
    expect(fields(e, 'source.ip', 'rule.id', 'rule.name', 'observer.ingress.interface.name', 'observer.egress.interface.name')).toEqual([
      '203.0.113.50',
      '99',
      'default-deny',
      'wan1',
      'dmz',
    ]);
  });

  it('Cisco ASA deny towards a registered server', () => {
    const e = viaCollector(
      '<164>Nov 26 2026 07:40:00 asa-dc : %ASA-4-106023: Deny tcp src outside:203.0.113.12/40001 dst inside:10.20.1.15/3389 by access-group "outside_in" [0x0, 0x0]',
    );
    expect(fields(e, ...PLACED, 'event.action', 'source.ip')).toEqual(['srv-mail-01', 'asa-dc', 'ubnd', '3', 'firewall-rule', '203.0.113.12']);
  });

  it('Palo Alto deny towards a registered server, with zones and interfaces on the observer', () => {
    const e = viaCollector(
      '<14>Nov 26 07:50:00 pa-dc 1,2026/11/26 07:50:00,012345678901,TRAFFIC,drop,2561,2026/11/26 07:50:00,203.0.113.30,10.20.2.21,0.0.0.0,0.0.0.0,deny-inbound,,,not-applicable,vsys1,untrust,trust,ethernet1/1,,default,2026/11/26 07:50:00,0,1,51111,5985,0,0,0x0,tcp,deny,60,60,0,1,2026/11/26 07:49:59,0,any,0,1,0x0,United States,10.0.0.0-10.255.255.255,0,1,0,policy-deny',
    );
    expect(fields(e, ...PLACED, 'observer.serial_number', 'observer.ingress.zone', 'observer.egress.zone', 'event.reason')).toEqual([
      'srv-db-01',
      'pa-dc',
      'so-tc',
      '4',
      '012345678901',
      'untrust',
      'trust',
      'policy-deny',
    ]);
  });

  it('outbound traffic is about the registered source', () => {
    const e = viaCollector(
      '<4>Nov 26 07:59:05 fw-edge kernel: [12349.000001] OUT-ALLOW: IN= OUT=eth0 SRC=10.20.4.40 DST=198.51.100.66 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=5411 DF PROTO=TCP SPT=51515 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0',
    );
    expect(fields(e, ...PLACED)).toEqual(['srv-file-01', 'fw-edge', 'so-gddt', '2']);
  });

  it('a firewall event about no registered server is about the firewall; the relay unit is not stamped on it', () => {
    const e = viaCollector(
      '<164>Nov 26 2026 07:40:00 asa-branch : %ASA-4-106023: Deny tcp src outside:203.0.113.12/40001 dst inside:10.99.0.5/22 by access-group "outside_in" [0x0, 0x0]',
    );
    expect(fields(e, ...PLACED)).toEqual(['asa-branch', 'asa-branch', undefined, undefined]);
  });

  it('ClamAV on a registered host shipped by a collector of another unit: the register decides the unit', () => {
    const e = viaCollector(
      '<13>Nov 26 07:40:00 srv-file-01 clamd[1234]: /srv/share/ketoan/invoice.pdf.exe: Win.Trojan.Agent-123456 FOUND',
      'soc-collector-01',
      'ubnd',
    );
    expect(fields(e, 'host.name', 'labels.unit', 'labels.security_level')).toEqual(['srv-file-01', 'so-gddt', '2']);
  });

  it("the collector's unit applies to events about its own host only, when the register does not know it", () => {
    const own = viaCollector('<13>Nov 26 07:40:00 WS-KETOAN-03.so-tc.local clamd[1234]: /home/a/x.exe: Win.Trojan.Agent-123456 FOUND', 'ws-ketoan-03', 'so-tc');
    expect(fields(own, 'host.name', 'labels.unit')).toEqual(['WS-KETOAN-03.so-tc.local', 'so-tc']);
    const relayed = viaCollector('<13>Nov 26 07:40:00 ws-yte-07 clamd[1234]: /home/a/x.exe: Win.Trojan.Agent-123456 FOUND', 'soc-collector-01', 'so-tttt-soc');
    expect(fields(relayed, 'host.name', 'labels.unit')).toEqual(['ws-yte-07', undefined]);
  });

  it('without a register (canhgac decode of one line) a firewall line is about the firewall', () => {
    const e = decodeLine(
      '<164>Nov 26 2026 07:40:00 asa-dc : %ASA-4-106023: Deny tcp src outside:203.0.113.12/40001 dst inside:10.20.1.15/3389 by access-group "outside_in" [0x0, 0x0]',
    ) as Record<string, unknown>;
    expect(fields(e, 'host.name', 'observer.name')).toEqual(['asa-dc', 'asa-dc']);
  });

  it("an alert on a firewall's deny names the server (the console's Hosts column, incident grouping) with its unit and severity", () => {
    const { ruleset } = loadRuleSet([join(import.meta.dirname, '..', '..', 'rules')]);
    const e = viaCollector(
      '<189>date=2026-11-26 time=07:30:00 devname="FGT-DC" devid="FG100F0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=203.0.113.50 srcport=44321 srcintf="wan1" dstip=10.20.1.11 dstport=3389 dstintf="dmz" proto=6 action="deny" policyid=99 policyname="default-deny" service="RDP"',
    ) as NormalizedEvent;
    const match = ruleset.match(e).find((m) => m.alert);
    expect(match, 'an alerting rule of the pack matches').toBeDefined();
    const { alert } = singleEventAlert(match!.rule, e, 'soc.raw/0', 1, assets);
    // fw-admin-port-denied is low; the level-3 server raises it one step.
    expect([alert.host, alert.group, alert.unit, alert.severity]).toEqual([['srv-web-01'], { 'host.name': 'srv-web-01' }, 'so-tttt', 'medium']);
  });
});
