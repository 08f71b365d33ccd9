import type { EnvelopeInput } from '../../shared/envelope.ts';

/**
 * A scripted scenario of raw lines from three servers in three formats (netfilter, FortiGate, ClamAV,
 * Kaspersky CEF), with the alerts and incidents it must yield under correlator/testdata/scenario/rules.
 */
export const SCENARIO_RULES = 'correlator/testdata/scenario/rules';

const RULE = {
  sweep: '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b02',
  brute: '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b03',
  malware: '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b04',
};

function netfilter(host: string, hhmmss: string, src: string, dst: string, dport: number, sport: number): string {
  return `<4>Nov 26 ${hhmmss} ${host} kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e SRC=${src} DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=${sport} DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0`;
}

interface Line {
  host: string;
  format?: string;
  line: string;
}

const lines: Line[] = [
  { host: 'srv-01', line: netfilter('srv-01', '08:00:01', '203.0.113.7', '10.0.0.11', 22, 40001) },
  {
    host: 'srv-02',
    format: 'fortigate',
    line: 'date=2026-11-26 time=08:00:20 devname="FGT-SRV02" devid="FG100E" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=203.0.113.7 srcport=40002 srcintf="wan1" dstip=10.0.0.12 dstport=22 dstintf="lan" proto=6 action="deny" policyid=0 service="SSH"',
  },
  { host: 'srv-03', line: netfilter('srv-03', '08:00:40', '203.0.113.7', '10.0.0.13', 22, 40003) },
  ...[0, 5, 10, 15, 20, 25].map((s, i) => ({
    host: 'srv-01',
    line: netfilter('srv-01', `08:01:${String(s).padStart(2, '0')}`, '198.51.100.9', '10.0.0.11', 22, 50000 + i),
  })),
  { host: 'srv-02', line: 'Nov 26 08:02:00 srv-02 clamd[812]: /srv/upload/invoice.exe: Win.Trojan.Agent-123 FOUND' },
  {
    host: 'srv-02',
    line: 'CEF:0|Kaspersky Lab|Kaspersky Security Center|14.2|GNRL_EV_VIRUS_FOUND|Virus found|4|msg=Detected: HEUR:Trojan.Win32.Generic rt=1795654950000 dhost=srv-02 fname=C:\\\\Users\\\\a\\\\x.exe cs1=HEUR:Trojan.Win32.Generic cs1Label=VirusName',
  },
  { host: 'srv-03', line: '\u0001\u0002 this is not a log line of any vendor' },
  { host: 'srv-01', line: netfilter('srv-01', '08:10:00', '10.0.0.99', '10.0.0.11', 443, 61000) },
];

/** The envelopes of the scenario (ids stable), plus one message that is not an envelope at all. */
export function scenarioMessages(drill?: string): { key: string; value: string }[] {
  const out = lines.map((l, i) => {
    const env: EnvelopeInput = {
      v: 1,
      id: `scenario/${l.host}/${i}`,
      host: l.host,
      source: l.format === 'fortigate' ? 'syslog/udp' : '/var/log/syslog',
      format: l.format ?? 'auto',
      received: '2026-11-26T01:15:00.000Z',
      line: l.line,
      ...(drill ? { drill } : {}),
    };
    return { key: l.host, value: JSON.stringify(env) };
  });
  out.splice(5, 0, { key: 'srv-09', value: '{"v":1,"host": "srv-09", "line": "truncated' });
  return out;
}

export interface IncidentSummary {
  rule: string;
  group: Record<string, string>;
  alert_count: number;
  severity: string;
  layer: number;
  first_seen: string;
  last_seen: string;
  report_due: boolean;
}

export interface AlertSummary {
  rule: string;
  group: Record<string, string>;
  event_count: number;
  window: { start: string; end: string };
}

export const EXPECTED_INCIDENTS: IncidentSummary[] = [
  {
    rule: RULE.sweep,
    group: { 'source.ip': '203.0.113.7' },
    alert_count: 1,
    severity: 'critical',
    layer: 2,
    first_seen: '2026-11-26T01:00:40.000Z',
    last_seen: '2026-11-26T01:00:40.000Z',
    report_due: true,
  },
  {
    rule: RULE.brute,
    group: { 'source.ip': '198.51.100.9', 'host.name': 'srv-01' },
    alert_count: 1,
    severity: 'medium',
    layer: 2,
    first_seen: '2026-11-26T01:01:20.000Z',
    last_seen: '2026-11-26T01:01:20.000Z',
    report_due: false,
  },
  {
    rule: RULE.malware,
    group: { 'host.name': 'srv-02' },
    alert_count: 2,
    severity: 'critical',
    layer: 1,
    first_seen: '2026-11-26T01:02:00.000Z',
    last_seen: '2026-11-26T01:02:30.000Z',
    report_due: false,
  },
];

export const EXPECTED_ALERTS: AlertSummary[] = [
  { rule: RULE.sweep, group: { 'source.ip': '203.0.113.7' }, event_count: 3, window: { start: '2026-11-26T01:00:01.000Z', end: '2026-11-26T01:00:40.000Z' } },
  {
    rule: RULE.brute,
    group: { 'source.ip': '198.51.100.9', 'host.name': 'srv-01' },
    event_count: 5,
    window: { start: '2026-11-26T01:01:00.000Z', end: '2026-11-26T01:01:20.000Z' },
  },
  { rule: RULE.malware, group: { 'host.name': 'srv-02' }, event_count: 1, window: { start: '2026-11-26T01:02:00.000Z', end: '2026-11-26T01:02:00.000Z' } },
  { rule: RULE.malware, group: { 'host.name': 'srv-02' }, event_count: 1, window: { start: '2026-11-26T01:02:30.000Z', end: '2026-11-26T01:02:30.000Z' } },
];

export function sortSummaries<T extends { rule: string; group: Record<string, string> }>(xs: T[]): T[] {
  const key = (x: T) => `${x.rule} ${JSON.stringify(Object.entries(x.group).sort())} ${JSON.stringify(x)}`;
  return [...xs].sort((a, b) => key(a).localeCompare(key(b)));
}

/**
 * The same three patterns `groups` times over, one minute of event time apart, with other addresses:
 * big enough that a correlator killed at a random moment is killed in the middle of it.
 */
export function scaledScenario(groups: number, drill?: string): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  const at = (minute: number, second: number) => {
    const total = 8 * 3600 + minute * 60 + second;
    const hh = String(Math.floor(total / 3600)).padStart(2, '0');
    const mm = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
    const ss = String(total % 60).padStart(2, '0');
    return `${hh}:${mm}:${ss}`;
  };
  const push = (host: string, line: string, n: number) => {
    const env: EnvelopeInput = {
      v: 1,
      id: `scaled/${host}/${n}`,
      host,
      source: '/var/log/syslog',
      format: 'auto',
      received: '2026-11-26T04:00:00.000Z',
      line,
      ...(drill ? { drill } : {}),
    };
    out.push({ key: host, value: JSON.stringify(env) });
  };
  let n = 0;
  for (let g = 0; g < groups; g++) {
    const sweeper = `203.0.${113 + Math.floor(g / 250)}.${1 + (g % 250)}`;
    const bruter = `198.51.${100 + Math.floor(g / 250)}.${1 + (g % 250)}`;
    ['srv-01', 'srv-02', 'srv-03'].forEach((h, i) => void push(h, netfilter(h, at(g, 1 + i * 19), sweeper, `10.0.0.${11 + i}`, 22, 40000 + i), n++));
    const target = `srv-0${1 + (g % 3)}`;
    for (let k = 0; k < 6; k++) push(target, netfilter(target, at(g, 30 + k * 4), bruter, '10.0.0.20', 22, 50000 + k), n++);
    if (g % 4 === 0) push('srv-02', `Nov 26 ${at(g, 55)} srv-02 clamd[812]: /srv/upload/f${g}.exe: Win.Trojan.Agent-${g} FOUND`, n++);
  }
  return out;
}
