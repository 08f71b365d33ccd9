import type { EnvelopeInput } from '../../shared/envelope.ts';

/**
 * Four correlations an operator wants at once, in real vendor formats: SSH brute force (netfilter),
 * SSL-VPN password guessing (FortiGate), a port scan (netfilter), the same malware on three servers
 * (ClamAV). Rules in correlator/testdata/early/rules; their thresholds are crossed by one known line each.
 */
export const EARLY_RULES = 'correlator/testdata/early/rules';

export const EARLY_RULE = {
  brute: '6c1d0a4e-0f3b-4d2a-9e55-3b7a1c0e2d02',
  scan: '6c1d0a4e-0f3b-4d2a-9e55-3b7a1c0e2d04',
  vpn: '6c1d0a4e-0f3b-4d2a-9e55-3b7a1c0e2d06',
  outbreak: '6c1d0a4e-0f3b-4d2a-9e55-3b7a1c0e2d08',
} as const;
export type EarlyScenarioName = keyof typeof EARLY_RULE;

/** One raw line of the scenario with its event time and which scenario it belongs to. */
export interface ScenarioLine {
  scenario: EarlyScenarioName;
  t: number;
  message: { key: string; value: string };
  /** The line whose arrival crosses its correlation's threshold (in event-time order). */
  crossing: boolean;
  /** Which copy of the scenario (earlyScenarios) the line belongs to. */
  copy: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Wall-clock parts in Asia/Ho_Chi_Minh (UTC+7, no daylight saving), as the devices print them. */
function local(t: number) {
  const d = new Date(t + 7 * 3600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return {
    syslog: `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms}`,
    date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    hms,
  };
}

/**
 * The scenario's lines in event-time order, the first at `start` (ms, whole seconds). `tag` makes the
 * sources and envelope ids unique per run. SSH brute force has one line more than its threshold, so
 * that holding back an early line makes the early alert wrong (earlyScenarioShuffled). Copy `copy`
 * (below 100) has attackers, account and malware of its own, so that copies never share a group.
 */
export function earlyScenario(start: number, tag: string, copy = 0): ScenarioLine[] {
  const out: ScenarioLine[] = [];
  let n = 0;
  const push = (scenario: EarlyScenarioName, t: number, host: string, format: string, line: string, crossing = false) => {
    const env: EnvelopeInput = {
      v: 1,
      id: `early/${tag}/${copy}/${n++}`,
      host,
      source: format === 'fortigate' ? 'syslog/udp' : '/var/log/syslog',
      format,
      received: new Date(t).toISOString(),
      line,
    };
    out.push({ scenario, t, message: { key: host, value: JSON.stringify(env) }, crossing, copy });
  };
  const who = copy ? `${tag}-${copy}` : tag;
  const netfilter = (t: number, host: string, src: string, dport: number, sport: number) =>
    `<4>${local(t).syslog} ${host} kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e SRC=${src} DST=10.0.0.11 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=${sport} DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0`;
  for (let i = 0; i < 11; i++)
    push('brute', start + i * 2000, 'srv-01', 'auto', netfilter(start + i * 2000, 'srv-01', `198.51.100.${9 + copy}`, 22, 50000 + i), i === 9);
  for (let i = 0; i < 20; i++)
    push(
      'scan',
      start + 500 + i * 1000,
      'srv-02',
      'auto',
      netfilter(start + 500 + i * 1000, 'srv-02', `203.0.113.${66 + copy}`, 1000 + i, 41000 + i),
      i === 19,
    );
  for (let i = 0; i < 20; i++) {
    const t = start + 700 + i * 1000;
    const { date, hms } = local(t);
    const line = `date=${date} time=${hms} devname="FGT-EDGE" devid="FG100E" logid="0101039426" type="event" subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" tunnelid=0 remip=203.0.113.50 user="vpn-${who}" group="N/A" dst_host="N/A" reason="sslvpn_login_permission_denied" msg="SSL user failed to logged in"`;
    push('vpn', t, 'fgt-edge', 'fortigate', line, i === 19);
  }
  ['srv-01', 'srv-02', 'srv-03'].forEach((host, i) => {
    const t = start + 3000 + i * 10_000;
    push('outbreak', t, host, 'auto', `${local(t).syslog} ${host} clamd[812]: /srv/upload/invoice-${i}.exe: Win.Trojan.Outbreak-${who} FOUND`, i === 2);
  });
  return out.sort((a, b) => a.t - b.t);
}

/** `copies` copies of the scenario one minute of event time apart, in event-time order. */
export function earlyScenarios(start: number, tag: string, copies: number): ScenarioLine[] {
  return Array.from({ length: copies }, (_, c) => earlyScenario(start + c * 60_000, tag, c))
    .flat()
    .sort((a, b) => a.t - b.t);
}

/**
 * The scenario in arrival order, shuffled within `jitterMs` of event time (well inside the allowed
 * lateness) by a seeded generator; with `holdBack`, the second SSH line of each copy arrives last (25 s
 * late), after the early alert of the brute force fired on the ten others: that early alert is then wrong.
 */
export function earlyScenarioShuffled(lines: ScenarioLine[], seed: number, jitterMs: number, holdBack: boolean): { line: ScenarioLine; at: number }[] {
  let s = seed;
  const random = () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const brute = new Map<number, ScenarioLine[]>();
  for (const l of lines) if (l.scenario === 'brute') brute.set(l.copy, [...(brute.get(l.copy) ?? []), l]);
  const heldBack = new Set([...brute.values()].map((b) => b[1]));
  return lines.map((line) => ({ line, at: line.t + (holdBack && heldBack.has(line) ? 25_000 : Math.floor(random() * jitterMs)) })).sort((a, b) => a.at - b.at);
}

/**
 * A line no rule matches, `lateness` plus a minute after `after` (the scenario's last event time): the
 * traffic that goes on after a scenario, pressed into one line. Its event time moves the watermark past
 * every window of the scenario, so the ordered evaluation closes them at once instead of the wall clock
 * closing them minutes later.
 */
export function laterTraffic(after: number, lateness: number, tag: string): { key: string; value: string } {
  const t = after + lateness + 60_000;
  const env: EnvelopeInput = {
    v: 1,
    id: `early/${tag}/later`,
    host: 'srv-03',
    source: '/var/log/syslog',
    format: 'auto',
    received: new Date(t).toISOString(),
    line: `<30>${local(t).syslog} srv-03 systemd[1]: Started Session 42 of user backup.`,
  };
  return { key: 'srv-03', value: JSON.stringify(env) };
}
