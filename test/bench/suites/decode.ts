import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeLine } from '../../../correlator/decoders/index.ts';
import { loadDecoders } from '../../../correlator/decoders/custom/load.ts';
import { useCustomDecoders } from '../../../correlator/decoders/registry.ts';
import { formatFinding } from '../../../shared/yaml-source.ts';
import { withRatio, type BenchSuite, type Figure } from '../figure.ts';

/**
 * Decoder throughput on one core: lines/s per format and for the mixed corpus, each beside a baseline
 * measured in the same run: JSON.parse of the same number of the equivalent already-normalized events.
 */
const LINES = 100_000;
const received = new Date('2026-11-26T01:00:00Z');

/** One template per format; {a} {b} {p} {q} vary per line so that no decoder sees the same text twice in a row. */
const TEMPLATES: Record<string, string> = {
  netfilter:
    '<4>Nov 26 07:59:01 srv{a} kernel: [12345.678901] IPTABLES-DROP: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.{a} DST=10.0.{b}.2 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=5410 DF PROTO=TCP SPT={p} DPT={q} WINDOW=64240 RES=0x00 SYN URGP=0',
  'pfsense-filterlog':
    '<134>Nov 26 07:10:30 filterlog[72237]: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,198.51.100.{a},10.0.{b}.5,{p},{q},0,S,123456,,64240,,mss',
  fortigate:
    'date=2026-11-26 time=07:30:00 devname="FGT-HCM" devid="FG100F0000000001" eventtime=1795653000000000000 tz="+0700" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=203.0.113.{a} srcport={p} srcintf="wan1" dstip=10.10.{b}.8 dstport={q} dstintf="internal" proto=6 action="deny" policyid=12 policyname="block-rdp" service="RDP" duration=0 sentbyte=0 rcvdbyte=0',
  'cisco-asa':
    '<166>Nov 26 2026 07:00:00 asa-hcm : %ASA-6-302013: Built inbound TCP connection {p}{q} for outside:203.0.113.{a}/{p} (203.0.113.{a}/{p}) to dmz:10.0.{b}.5/{q} (198.51.100.5/{q})',
  'windows-firewall': '2026-11-26 07:45:01 DROP TCP 203.0.113.{a} 10.0.{b}.30 {p} {q} 52 S 3918340411 0 8192 - - - RECEIVE',
  'windows-wfp':
    '{"EventTime":"2026-11-26 07:45:00","Hostname":"ws-{a}.so-tttt.local","EventID":5157,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","Direction":"%%14592","SourceAddress":"203.0.113.{a}","SourcePort":"{p}","DestAddress":"10.0.{b}.60","DestPort":"{q}","Protocol":"6","Application":"\\\\device\\\\harddiskvolume2\\\\windows\\\\system32\\\\svchost.exe"}',
  'windows-defender':
    '{"EventTime":"2026-11-26 07:45:00","Hostname":"ws-{a}.so-tttt.local","EventID":1116,"SourceName":"Microsoft-Windows-Windows Defender","Channel":"Microsoft-Windows-Windows Defender/Operational","AccountName":"an{b}","Threat Name":"Trojan:Win32/Wacatac.B!ml","Path":"file:_C:\\\\Users\\\\an\\\\Downloads\\\\setup{p}.exe","Severity Name":"Severe"}',
  clamav: '<13>Nov 26 07:40:00 files{a} clamd[1234]: /srv/share/u{b}/invoice{p}.pdf.exe: Win.Trojan.Agent-{q} FOUND',
  cef: '<134>Nov 26 07:47:00 av-console CEF:0|Trend Micro|Apex Central|2019|AV:File quarantined|Virus found|3|rt=Nov 26 2026 00:48:00 GMT+00:00 dhost=PC-{a} src=10.0.{b}.71 spt={p} dst=203.0.113.9 dpt={q} cs1Label=VirusName cs1=TROJ_GEN.R002C0 filePath=C:\\\\Users\\\\ketoan\\\\a{p}.exe act=Quarantine suser=CORP\\\\u{a}',
  paloalto:
    '<14>Nov 26 07:50:00 pa-hcm 1,2026/11/26 07:50:00,012345678901,TRAFFIC,drop,2561,2026/11/26 07:50:00,203.0.113.{a},10.0.{b}.40,0.0.0.0,0.0.0.0,deny-inbound,,,not-applicable,vsys1,untrust,trust,ethernet1/1,,default,2026/11/26 07:50:00,0,1,{p},{q},0,0,0x0,tcp,deny,60,60,0,1,2026/11/26 07:49:59,0,any,0,1,0x0,United States,10.0.0.0-10.255.255.255,0,1,0,policy-deny',
  'sophos-xg':
    'device_name="SFW" timestamp="2026-11-26T07:52:00+0700" device_model="XGS2100" device_serial_id="X1" log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" log_subtype="Denied" fw_rule_id="5" fw_rule_name="Drop WAN" src_ip="203.0.113.{a}" dst_ip="10.0.{b}.50" protocol="TCP" src_port={p} dst_port={q}',
  sonicwall:
    '<134>  id=firewall sn=0040103CE114 time="2026-11-26 07:53:00" fw=10.0.0.1 pri=6 c=262144 gcat=6 m=537 msg="Connection Closed" src=203.0.113.{a}:{p}:X1 dst=10.0.{b}.51:{q}:X0 proto=tcp/https fw_action="drop" usr="admin"',
  checkpoint:
    '<134>1 2026-11-26T00:54:00Z gw-hcm CheckPoint 1234 - [action:"Drop"; ifdir:"inbound"; origin:"10.0.0.2"; time:"1795654440"; src:"203.0.113.{a}"; s_port:"{p}"; dst:"10.0.{b}.52"; service:"{q}"; proto:"6"; rule_name:"Cleanup rule"; product:"VPN-1 & FireWall-1"]',
  'juniper-srx':
    '<14>1 2026-11-26T07:55:00.000+07:00 srx-hcm RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address="203.0.113.{a}" source-port="{p}" destination-address="10.0.{b}.53" destination-port="{q}" service-name="junos-ssh" protocol-id="6" icmp-type="0" policy-name="deny-ssh" source-zone-name="untrust" destination-zone-name="trust" username="N/A"]',
  kaspersky:
    'Result description: Deleted\\r\\nType: Trojan\\r\\nName: HEUR:Trojan.Win32.Generic\\r\\nUser: SOTTTT\\hoa{a} (Initiator)\\r\\nObject: C:\\Users\\hoa\\Downloads\\x{p}.exe\\r\\nSHA256: 275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F',
  symantec:
    '<54>Nov 26 07:49:00 sepm SymantecServer: Virus found,IP Address: 10.0.{b}.{a},Computer name: PC-TV{a},Source: Auto-Protect scan,Risk name: W97M.Downloader,Occurrences: 1,File path: C:\\Users\\tv\\doc{p}.doc,Description: ,Actual action: Quarantined,Requested action: Cleaned,Secondary action: Quarantined,Event time: 2026-11-26 07:48:30,User: tv',
  'eset-protect':
    '{"event_type":"Threat_Event","ipv4":"10.0.{b}.{a}","hostname":"pc-nv{a}","occured":"26-Nov-2026 00:50:00","severity":"Warning","threat_type":"trojan","threat_name":"Win32/Agent.ABC","object_uri":"file:///C:/Users/nv/a{p}.exe","action_taken":"cleaned by deleting","username":"SOTTTT\\\\nv","hash":"3395856CE81F2B7382DEE72602F798B642F14140"}',
};

function fill(template: string, i: number): string {
  return template
    .replaceAll('{a}', String(1 + (i % 250)))
    .replaceAll('{b}', String((i >> 3) % 256))
    .replaceAll('{p}', String(1024 + ((i * 7919) % 60000)))
    .replaceAll('{q}', String(1 + ((i * 31) % 1024)));
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function corpusLines(): string[] | undefined {
  // CANHGAC_CORPUS names the corpus file when the checkout is not beside ../shared (a git worktree).
  const file = process.env.CANHGAC_CORPUS ?? join(repoRoot, '..', 'shared', 'corpus', 'decoders-dev.ndjson');
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { line: string }).line);
}

/**
 * Lines per second of decoding and of the baseline over the same lines, measured in alternating chunks so
 * that load from other processes on the machine weighs on both alike; a warm-up pass over a tenth first.
 */
function measure(bench: string, lines: string[], note?: string): Figure {
  const normalized = lines.map((l) => JSON.stringify(decodeLine(l, { received })));
  let sink = 0;
  for (let i = 0; i < lines.length / 10; i++) {
    if (decodeLine(lines[i]!, { received })) sink++;
    if (JSON.parse(normalized[i]!)) sink++;
  }
  const CHUNK = 5000;
  let decodeMs = 0;
  let parseMs = 0;
  for (let start = 0; start < lines.length; start += CHUNK) {
    const end = Math.min(lines.length, start + CHUNK);
    let t0 = performance.now();
    for (let i = start; i < end; i++) if (decodeLine(lines[i]!, { received })) sink++;
    decodeMs += performance.now() - t0;
    t0 = performance.now();
    for (let i = start; i < end; i++) if (JSON.parse(normalized[i]!)) sink++;
    parseMs += performance.now() - t0;
  }
  if (sink < 0) throw new Error('unreachable');
  const value = lines.length / (decodeMs / 1000);
  const baseline = lines.length / (parseMs / 1000);
  return withRatio({ bench, unit: 'lines/s', value: Math.round(value), baseline: Math.round(baseline), ...(note ? { note } : {}) });
}

export const suite: BenchSuite = {
  name: 'decode',
  async run(ctx) {
    const figures: Figure[] = [];
    for (const [format, template] of Object.entries(TEMPLATES)) {
      const lines = Array.from({ length: LINES }, (_, i) => fill(template, i));
      const check = decodeLine(lines[0]!, { received });
      if (check.event.module !== format)
        throw new Error(`bench template for ${format} decoded as ${String(check.event.module)}: ${JSON.stringify(check.error ?? '')}`);
      ctx.log(`${format}: ${LINES} lines`);
      figures.push(measure(`decode.${format}`, lines));
    }
    const corpus = corpusLines();
    const source = corpus ?? Object.values(TEMPLATES).map((t, i) => fill(t, i));
    const mixed = Array.from({ length: LINES }, (_, i) => source[i % source.length]!);
    ctx.log(`mixed: ${LINES} lines from ${corpus ? `the shared corpus (${corpus.length} real lines, 37 vendors)` : 'the per-format templates'}`);
    figures.push(measure('decode.mixed', mixed, corpus ? 'shared corpus, cycled' : 'per-format templates, interleaved'));
    // The same lines with the shipped custom decoders (rules/decoders) loaded: every line runs their sniffs first.
    const custom = loadDecoders([join(repoRoot, 'rules', 'decoders')]);
    if (custom.findings.length) throw new Error(`rules/decoders: ${custom.findings.map(formatFinding).join('; ')}`);
    useCustomDecoders(custom.decoders.map((d) => d.decoder));
    try {
      ctx.log(`mixed with ${custom.decoders.length} custom decoders loaded`);
      figures.push(measure('decode.mixed.custom', mixed, `as decode.mixed, with ${custom.decoders.map((d) => d.decoder.name).join(' and ')} loaded`));
    } finally {
      useCustomDecoders([]);
    }
    return figures;
  },
};
