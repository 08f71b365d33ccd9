import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Envelope } from '../../../shared/envelope.ts';
import { PACKAGE_ROOT } from '../../../shared/package-root.ts';

/**
 * Writes the recordings of the bundled drill scenarios (rules/drills/<name>/recording.ndjson.gz).
 *
 *   npx tsx correlator/drills/bundled/generate.ts
 *
 * Each recording is seeded, so the same code always writes the same lines: background traffic of a
 * provincial data centre (a FortiGate at the perimeter, a pfSense core firewall, netfilter and ClamAV on
 * the Linux servers, Defender on the Windows workstations of several departments) with one attack woven
 * in. The scenario files next to the recordings hold the attack's trigger time; bundled.test.ts checks
 * that the two agree and that the committed recordings are what this script writes.
 */

/** The data centre: servers and workstations of five departments (units). */
interface Host {
  name: string;
  ip: string;
  unit: string;
  kind: 'linux' | 'windows';
}

export const HOSTS: Host[] = [
  { name: 'srv-web-01', ip: '10.20.1.11', unit: 'so-tttt', kind: 'linux' },
  { name: 'srv-web-02', ip: '10.20.1.12', unit: 'so-tttt', kind: 'linux' },
  { name: 'srv-mail-01', ip: '10.20.1.15', unit: 'ubnd', kind: 'linux' },
  { name: 'srv-db-01', ip: '10.20.2.21', unit: 'so-tc', kind: 'linux' },
  { name: 'srv-app-05', ip: '10.20.3.35', unit: 'so-yt', kind: 'linux' },
  { name: 'srv-file-01', ip: '10.20.4.40', unit: 'so-gddt', kind: 'linux' },
  { name: 'ws-ketoan-03', ip: '10.30.1.23', unit: 'so-tc', kind: 'windows' },
  { name: 'ws-ketoan-04', ip: '10.30.1.24', unit: 'so-tc', kind: 'windows' },
  { name: 'ws-yte-07', ip: '10.30.2.17', unit: 'so-yt', kind: 'windows' },
  { name: 'ws-gd-11', ip: '10.30.3.11', unit: 'so-gddt', kind: 'windows' },
  { name: 'ws-tttt-02', ip: '10.30.4.2', unit: 'so-tttt', kind: 'windows' },
  { name: 'ws-ubnd-05', ip: '10.30.5.5', unit: 'ubnd', kind: 'windows' },
];
const PERIMETER = { name: 'fgt-dc', ip: '10.20.0.1', unit: 'so-tttt' };
const CORE = { name: 'fw-core', ip: '10.20.0.2', unit: 'so-tttt' };
const host = (name: string) => HOSTS.find((h) => h.name === name)!;

/** mulberry32: a small seeded generator, enough for plausible traffic and identical on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}
type Rng = ReturnType<typeof rng>;

// Log times are written in the data centre's zone (UTC+7), as the devices are configured.
const LOCAL_OFFSET_MS = 7 * 3_600_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function local(t: number) {
  const d = new Date(t + LOCAL_OFFSET_MS);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
}
const syslogTime = (t: number) => {
  const l = local(t);
  return `${MONTHS[l.mo]} ${String(l.d).padStart(2, ' ')} ${pad(l.h)}:${pad(l.mi)}:${pad(l.s)}`;
};
const localDate = (t: number) => {
  const l = local(t);
  return { date: `${l.y}-${pad(l.mo + 1)}-${pad(l.d)}`, time: `${pad(l.h)}:${pad(l.mi)}:${pad(l.s)}` };
};

interface Line {
  at: number;
  host: string;
  unit: string;
  source: string;
  format: string;
  line: string;
}

const FORMATS = {
  netfilter(r: Rng, t: number, h: { name: string }, src: string, dst: string, dport: number): Omit<Line, 'at' | 'unit'> {
    const uptime = `${Math.floor(t / 1000) % 900_000}.${pad(r.int(0, 999_999), 6)}`;
    return {
      host: h.name,
      source: '/var/log/kern.log',
      format: 'auto',
      line: `<4>${syslogTime(t)} ${h.name} kernel: [${uptime}] IPTABLES-DROP: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=${src} DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=${r.int(40, 120)} ID=${r.int(1, 65535)} DF PROTO=TCP SPT=${r.int(32768, 60999)} DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0`,
    };
  },
  fortigate(r: Rng, t: number, src: string, dst: string, dport: number, action: 'accept' | 'deny'): Omit<Line, 'at' | 'unit'> {
    const { date, time } = localDate(t);
    const service = ({ 22: 'SSH', 80: 'HTTP', 443: 'HTTPS', 3389: 'RDP', 445: 'SMB', 25: 'SMTP' } as Record<number, string>)[dport] ?? `tcp/${dport}`;
    return {
      host: PERIMETER.name,
      source: 'udp:514',
      format: 'auto',
      line: `date=${date} time=${time} devname="FGT-DC" devid="FG100F0000000001" eventtime=${t}000000 tz="+0700" logid="${action === 'deny' ? '0000000013' : '0000000020'}" type="traffic" subtype="forward" level="notice" vd="root" srcip=${src} srcport=${r.int(32768, 60999)} srcintf="wan1" dstip=${dst} dstport=${dport} dstintf="dmz" proto=6 action="${action}" policyid=${action === 'deny' ? 99 : 12} policyname="${action === 'deny' ? 'default-deny' : 'dmz-services'}" service="${service}"`,
    };
  },
  filterlog(r: Rng, t: number, src: string, dst: string, dport: number, action: 'pass' | 'block'): Omit<Line, 'at' | 'unit'> {
    return {
      host: CORE.name,
      source: 'udp:514',
      format: 'auto',
      line: `<134>${syslogTime(t)} filterlog[72237]: 5,,,1000000103,igb1,match,${action},in,4,0x0,,64,${r.int(1, 65535)},0,DF,6,tcp,60,${src},${dst},${r.int(32768, 60999)},${dport},0,S,${r.int(1, 4_000_000_000)},,64240,,mss`,
    };
  },
  defender(t: number, h: Host, id: number, data: Record<string, string> = {}): Omit<Line, 'at' | 'unit'> {
    const { date, time } = localDate(t);
    return {
      host: h.name,
      source: 'winlogbeat',
      format: 'auto',
      line: JSON.stringify({
        EventTime: `${date} ${time}`,
        Hostname: h.name,
        EventID: id,
        SourceName: 'Microsoft-Windows-Windows Defender',
        Channel: 'Microsoft-Windows-Windows Defender/Operational',
        ...data,
      }),
    };
  },
  clamd(t: number, h: Host, path: string, signature: string): Omit<Line, 'at' | 'unit'> {
    return { host: h.name, source: '/var/log/syslog', format: 'auto', line: `<13>${syslogTime(t)} ${h.name} clamd[1234]: ${path}: ${signature} FOUND` };
  },
  freshclam(t: number, h: Host, version: number): Omit<Line, 'at' | 'unit'> {
    return {
      host: h.name,
      source: '/var/log/syslog',
      format: 'auto',
      line: `<30>${syslogTime(t)} ${h.name} freshclam[99]: daily.cvd updated (version: ${version}, sigs: 2066000, f-level: 90, builder: raynman)`,
    };
  },
};

const internet = (r: Rng) => `${r.pick([14, 27, 42, 58, 103, 113, 171, 185, 203])}.${r.int(1, 254)}.${r.int(1, 254)}.${r.int(1, 254)}`;

/**
 * Ordinary traffic from `start` for `durationMs`: web visitors through the perimeter, a stray probe now and
 * then, internal traffic through the core, AV housekeeping. No source touches more than two ports or hosts,
 * so no scan or brute-force rule has anything to find in it. `silent` hosts send nothing after `silentFrom`.
 */
function background(r: Rng, start: number, durationMs: number, silent?: { host: string; from: number }): Line[] {
  const out: Line[] = [];
  const servers = HOSTS.filter((h) => h.kind === 'linux');
  const stations = HOSTS.filter((h) => h.kind === 'windows');
  const emit = (at: number, unit: string, l: Omit<Line, 'at' | 'unit'>) => {
    if (silent && l.host === silent.host && at >= silent.from) return;
    out.push({ at, unit, ...l });
  };
  for (let t = start; t < start + durationMs; t += r.int(800, 2600)) {
    const roll = r.next();
    if (roll < 0.4) {
      const web = r.pick(servers.slice(0, 3));
      emit(t, PERIMETER.unit, FORMATS.fortigate(r, t, internet(r), web.ip, r.pick([443, 443, 443, 80, 25]), 'accept'));
    } else if (roll < 0.5) {
      emit(t, PERIMETER.unit, FORMATS.fortigate(r, t, internet(r), r.pick(servers).ip, r.pick([23, 3389, 8080, 1433]), 'deny'));
    } else if (roll < 0.75) {
      const ws = r.pick(stations);
      const srv = r.pick(servers);
      emit(t, CORE.unit, FORMATS.filterlog(r, t, ws.ip, srv.ip, r.pick([445, 443, 3306, 53]), r.next() < 0.9 ? 'pass' : 'block'));
    } else {
      // Every server's own firewall drops a stray probe from time to time, so each sends steadily.
      const srv = r.pick(servers);
      emit(t, srv.unit, FORMATS.netfilter(r, t, srv, internet(r), srv.ip, r.pick([23, 2323, 5555, 6379])));
    }
  }
  // Signature updates: each server hourly-ish, each workstation's Defender too (2000: signatures updated).
  for (const h of HOSTS) {
    for (let t = start + r.int(0, 600_000); t < start + durationMs; t += r.int(900_000, 1_200_000)) {
      emit(
        t,
        h.unit,
        h.kind === 'linux' ? FORMATS.freshclam(t, h, 27_100 + r.int(0, 50)) : FORMATS.defender(t, h, 2000, { 'Current Signature Version': '1.425.112.0' }),
      );
    }
  }
  return out;
}

/** Envelopes as a collector would have produced them: received a little after the line's own time. */
function toEnvelopes(r: Rng, lines: Line[]): Envelope[] {
  const withReceived = lines.map((l) => ({ l, received: l.at + r.int(40, 900) }));
  withReceived.sort((a, b) => a.received - b.received || a.l.at - b.l.at);
  return withReceived.map(({ l, received }, i) => ({
    v: 1,
    kind: 'line',
    id: `${l.host}:${l.source}:${i}`,
    host: l.host,
    source: l.source,
    format: l.format,
    received: new Date(received).toISOString(),
    unit: l.unit,
    line: l.line,
  }));
}

export interface BundledRecording {
  name: string;
  /** When the attack begins (event time), as the scenario file says. */
  trigger: number;
  /** Later stages of the attack that an expected incident names as its own trigger. */
  stages: Record<string, number>;
  envelopes: Envelope[];
}

/** SSH brute force: one source hammers port 22 of srv-web-01 (60 attempts in 3 minutes), seen by the server's own firewall and the perimeter. */
function sshBruteForce(): BundledRecording {
  const r = rng(101);
  const start = Date.parse('2025-03-04T02:00:00Z');
  const trigger = start + 240_000;
  const target = host('srv-web-01');
  const lines = background(r, start, 10 * 60_000);
  for (let i = 0, t = trigger; i < 60; i++, t += r.int(2000, 4000)) {
    lines.push({ at: t, unit: PERIMETER.unit, ...FORMATS.fortigate(r, t, '203.0.113.77', target.ip, 22, 'deny') });
    lines.push({ at: t + r.int(1, 30), unit: target.unit, ...FORMATS.netfilter(r, t, target, '203.0.113.77', target.ip, 22) });
  }
  return { name: 'ssh-brute-force', trigger, stages: {}, envelopes: toEnvelopes(r, lines) };
}

/** Port scan then sweep: 150 ports of srv-db-01 in two minutes, then port 445 on every server and workstation. */
function portScanSweep(): BundledRecording {
  const r = rng(202);
  const start = Date.parse('2025-03-11T03:00:00Z');
  const trigger = start + 300_000;
  const lines = background(r, start, 15 * 60_000);
  const scanner = '198.51.100.23';
  const db = host('srv-db-01');
  const ports = [...new Set(Array.from({ length: 400 }, () => r.int(1, 10_000)))].slice(0, 150);
  let t = trigger;
  for (const port of ports) {
    lines.push({ at: t, unit: PERIMETER.unit, ...FORMATS.fortigate(r, t, scanner, db.ip, port, 'deny') });
    t += r.int(400, 1100);
  }
  // Whole seconds, as the log lines write them: the scenario names this time as the sweep's trigger.
  const sweepStart = Math.ceil((t + 60_000) / 1000) * 1000;
  t = sweepStart;
  for (const h of HOSTS) {
    lines.push({ at: t, unit: PERIMETER.unit, ...FORMATS.fortigate(r, t, scanner, h.ip, 445, 'deny') });
    if (h.kind === 'linux') lines.push({ at: t + 5, unit: h.unit, ...FORMATS.netfilter(r, t, h, scanner, h.ip, 445) });
    t += r.int(1500, 3000);
  }
  // Addresses beyond the registered hosts: the sweep walks the whole server range.
  for (let i = 50; i < 70; i++, t += r.int(1500, 3000)) {
    lines.push({ at: t, unit: PERIMETER.unit, ...FORMATS.fortigate(r, t, scanner, `10.20.9.${i}`, 445, 'deny') });
  }
  return { name: 'port-scan-sweep', trigger, stages: { sweep: sweepStart }, envelopes: toEnvelopes(r, lines) };
}

export const OUTBREAK_MALWARE = 'Trojan:Win32/Emotet.RT!MTB';

/**
 * Malware outbreak: real-time protection is switched off on ws-ketoan-03 (Defender 5001), the malware
 * lands there, then on workstations of three other units and on the file server (ClamAV).
 */
function malwareOutbreak(): BundledRecording {
  const r = rng(303);
  const start = Date.parse('2025-03-18T01:30:00Z');
  const trigger = start + 300_000;
  const lines = background(r, start, 30 * 60_000);
  const first = host('ws-ketoan-03');
  lines.push({ at: trigger, unit: first.unit, ...FORMATS.defender(trigger, first, 5001) });
  const detection = (t: number, h: Host) =>
    lines.push({
      at: t,
      unit: h.unit,
      ...FORMATS.defender(t, h, 1116, {
        'Threat Name': OUTBREAK_MALWARE,
        Path: `file:_C:\\Users\\${h.name}\\Downloads\\hoadon_${r.int(100, 999)}.xlsm`,
        'Severity Name': 'Severe',
        'Detection User': `${h.unit.toUpperCase()}\\user`,
      }),
    });
  // With protection off, the first host only reports at its next scheduled scan.
  const firstDetection = trigger + 180_000;
  let t = firstDetection;
  detection(t, first);
  for (const name of ['ws-ketoan-04', 'ws-yte-07', 'ws-gd-11', 'ws-tttt-02']) {
    t += r.int(90_000, 240_000);
    detection(t, host(name));
  }
  t += 60_000;
  lines.push({
    at: t,
    unit: host('srv-file-01').unit,
    ...FORMATS.clamd(t, host('srv-file-01'), '/srv/share/ketoan/hoadon_317.xlsm', 'Win.Trojan.Emotet-9953286-0'),
  });
  return { name: 'malware-outbreak', trigger, stages: { detection: firstDetection }, envelopes: toEnvelopes(r, lines) };
}

/** A log source going silent: srv-app-05 stops sending at the trigger while everything else carries on for 25 minutes. */
function silentSource(): BundledRecording {
  const r = rng(404);
  const start = Date.parse('2025-03-25T07:00:00Z');
  const trigger = start + 300_000;
  const lines = background(r, start, 30 * 60_000, { host: 'srv-app-05', from: trigger });
  return { name: 'silent-source', trigger, stages: {}, envelopes: toEnvelopes(r, lines) };
}

export function bundledRecordings(): BundledRecording[] {
  return [sshBruteForce(), portScanSweep(), malwareOutbreak(), silentSource()];
}

export const toNdjson = (envelopes: Envelope[]) => envelopes.map((e) => JSON.stringify(e)).join('\n') + '\n';

export const DRILLS_DIR = join(PACKAGE_ROOT, 'rules', 'drills');

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const rec of bundledRecordings()) {
    const file = join(DRILLS_DIR, rec.name, 'recording.ndjson.gz');
    mkdirSync(dirname(file), { recursive: true });
    const gz = gzipSync(toNdjson(rec.envelopes), { level: 9 });
    writeFileSync(file, gz);
    process.stdout.write(
      `${file}: ${rec.envelopes.length} envelopes, ${gz.length} bytes, trigger ${new Date(rec.trigger).toISOString()}${Object.entries(rec.stages)
        .map(([k, v]) => `, ${k} ${new Date(v).toISOString()}`)
        .join('')}\n`,
    );
  }
}
