import { describe, expect, it } from 'vitest';
import { NormalizedEventSchema } from '../../shared/event.ts';
import { decodeBytes, decodeLine, MAX_LINE } from './index.ts';

/** A small seeded generator, so that a failing run can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(a: readonly T[]) => a[Math.floor(next() * a.length)]! };
}

const TEMPLATES = [
  '<134>Nov 26 07:00:00 fw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.1 DST=10.0.0.1 LEN=60 PROTO=TCP SPT=4444 DPT=22',
  '<134>Jul  3 19:10:30 filterlog[72237]: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,1,0,DF,6,tcp,60,198.51.100.10,10.0.0.5,51000,22,0,S,1,,64240,,mss',
  'date=2026-11-26 time=07:30:00 logid="0000000013" type="traffic" subtype="forward" srcip=1.2.3.4 srcport=1 dstip=5.6.7.8 dstport=2 proto=6 action="deny" vd="root"',
  '<166>Nov 26 2026 07:00:00 asa : %ASA-6-302013: Built outbound TCP connection 1 for outside:1.1.1.1/443 (1.1.1.1/443) to inside:10.0.0.1/5000 (2.2.2.2/5000)',
  '%FTD-6-430003: AccessControlRuleAction: Block, SrcIP: 1.2.3.4, DstIP: 5.6.7.8, SrcPort: 1, DstPort: 2, Protocol: tcp, User: A\\b',
  'CEF:0|Trend Micro|Apex Central|2019|AV|Virus|3|rt=Nov 26 2026 00:48:00 GMT+00:00 dst=10.0.0.71 cs1Label=VirusName cs1=X filePath=C:\\\\a.exe msg=a\\=b\\nc',
  'LEEF:1.0|WatchGuard|XTM|12|1|src=1.2.3.4\tsrcPort=1\tdst=5.6.7.8\tdstPort=2\tdisp=Deny',
  '1,2026/11/26 07:50:00,0123,TRAFFIC,drop,2561,2026/11/26 07:50:00,1.2.3.4,5.6.7.8,0.0.0.0,0.0.0.0,r,,,a,vsys1,u,t,e1,,d,2026/11/26 07:50:00,0,1,1,2,0,0,0x0,tcp,deny',
  '<14>1 2026-11-26T07:55:00+07:00 srx RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address="1.2.3.4" source-port="1" destination-address="5.6.7.8" destination-port="2" protocol-id="6"]',
  '<134>1 2026-11-26T00:54:00Z gw CheckPoint 1 - [action:"Drop"; src:"1.2.3.4"; s_port:"1"; dst:"5.6.7.8"; service:"23"; proto:"6"]',
  '<134>  id=firewall sn=00 time="2026-11-26 07:53:00" fw=10.0.0.1 pri=6 c=1 m=537 msg="x" src=1.2.3.4:1:X1 dst=5.6.7.8:2:X0 proto=tcp/https fw_action="drop"',
  'device_name="SFW" timestamp="2026-11-26T07:52:00+0700" log_id="1" log_type="Firewall" log_subtype="Denied" src_ip="1.2.3.4" dst_ip="5.6.7.8" protocol="TCP" src_port=1 dst_port=2',
  '#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path',
  '2026-11-26 07:45:01 DROP TCP 1.2.3.4 5.6.7.8 1 2 52 S 1 0 8192 - - - RECEIVE',
  '{"EventID":1116,"SourceName":"Microsoft-Windows-Windows Defender","Threat Name":"X","Path":"file:_C:\\\\a.exe","Hostname":"h"}',
  '{"EventID":5157,"SourceName":"Microsoft-Windows-Security-Auditing","SourceAddress":"1.2.3.4","SourcePort":"1","DestAddress":"5.6.7.8","DestPort":"2","Protocol":"6"}',
  '{"@timestamp":"2026-11-26T00:00:00Z","event":{"kind":"event","type":["denied"]},"source":{"ip":"1.2.3.4","port":1}}',
  '<13>Nov 26 07:40:00 files01 clamd[1234]: /srv/a.exe: Win.Trojan.Agent-1 FOUND',
  'Result description: Deleted\\r\\nType: Virus\\r\\nName: EICAR\\r\\nUser: D\\u (Initiator)\\r\\nObject: C:\\a.txt',
  'Virus found,IP Address: 10.0.0.72,Computer name: PC,Risk name: W97M,File path: C:\\doc.doc,Actual action: Quarantined,Event time: 2026-11-26 07:48:30',
  '{"event_type":"Threat_Event","occured":"26-Nov-2026 00:50:00","threat_name":"W","object_uri":"file:///C:/a.exe"}',
];

const SPECIALS = [
  '=',
  '"',
  '|',
  '\\',
  ',',
  '[',
  ']',
  ':',
  '%',
  '(',
  ')',
  '{',
  '}',
  '<',
  '>',
  ' ',
  '\t',
  '/',
  ';',
  '#',
  '\u0000',
  '\u0007',
  '\u001b',
  '\ud800',
  '\udfff',
  '\ufffd',
  'Đ',
  '😀',
  '\u202e',
];
// Long runs of the characters the scanners and the few fixed patterns key on: a backtracking engine would blow up here.
const RUNS = [
  '=',
  'a=',
  '"',
  '\\',
  '\\=',
  '|',
  ',',
  '[',
  '](',
  '(',
  ' from ',
  ' src ',
  'User ',
  'User <',
  ': ',
  ', A: ',
  '%ASA-',
  'CEF:0|',
  'key="v\\"',
  '1.2.3.4/',
  'IN=',
  '::',
  '0',
  ' ',
];

function mutate(r: ReturnType<typeof rng>, line: string): string {
  let s = line;
  const steps = 1 + r.int(4);
  for (let k = 0; k < steps; k++) {
    const at = r.int(s.length + 1);
    switch (r.int(6)) {
      case 0:
        s = s.slice(0, at);
        break;
      case 1:
        s = s.slice(0, at) + r.pick(SPECIALS) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + r.int(8));
        break;
      case 3:
        s = s.slice(0, at) + r.pick(RUNS).repeat(1 + r.int(40)) + s.slice(at);
        break;
      case 4:
        s = s.slice(0, at) + r.pick(TEMPLATES).slice(r.int(60)) + s.slice(at);
        break;
      default:
        s = s
          .split('')
          .map((c) => (r.next() < 0.03 ? r.pick(SPECIALS) : c))
          .join('');
    }
  }
  return s;
}

const POSITIONED = /^[a-z0-9-]+: .+ at (byte )?position \d+/;

/**
 * What is wrong with one decoded line, or null. Plain checks rather than expect() per line: the 100,000
 * cases would otherwise spend most of their time building assertion objects that pass.
 */
function problemOf(event: unknown, line: string, sample: boolean): string | null {
  const e = event as { event: { kind: string; original: string }; error?: { message: string }; labels?: Record<string, string> };
  if (sample && !NormalizedEventSchema.safeParse(event).success) return 'not a valid normalized event';
  if (line.length <= MAX_LINE) {
    if (e.event.original.length > line.length) return `event.original longer (${e.event.original.length}) than the line (${line.length})`;
  } else {
    if (e.event.original.length !== MAX_LINE) return `event.original of ${e.event.original.length} characters, not cut at ${MAX_LINE}`;
    if (!/of \d+/.test(e.labels?.original_truncated ?? '')) return `labels.original_truncated is ${JSON.stringify(e.labels?.original_truncated)}`;
  }
  if (e.event.kind === 'pipeline_error' && !POSITIONED.test(e.error?.message ?? ''))
    return `error without decoder and position: ${JSON.stringify(e.error?.message)}`;
  // Bounded output: an event never grows far beyond the (capped) line it came from.
  const size = JSON.stringify(event).length;
  if (size >= 8 * Math.min(line.length, MAX_LINE) + 8192) return `event of ${size} characters from a line of ${line.length}`;
  return null;
}

function check(event: unknown, line: string, sample: boolean): void {
  expect(problemOf(event, line, sample), line.slice(0, 200)).toBeNull();
}

describe('decoders under hostile input', () => {
  it('decode 100,000 generated hostile lines: never throw, never hang, errors name decoder and position', () => {
    const r = rng(20261126);
    const received = new Date('2026-11-26T01:00:00Z');
    let errors = 0;
    let slowest = 0;
    const failures: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const line = mutate(r, r.pick(TEMPLATES));
      const t0 = performance.now();
      const event =
        r.next() < 0.5
          ? decodeLine(line, { received })
          : decodeLine(line, { received, format: r.pick(['auto', 'cef', 'fortigate', 'cisco-asa', 'netfilter', 'paloalto', 'checkpoint', 'json', 'kv']) });
      slowest = Math.max(slowest, performance.now() - t0);
      if (event.event.kind === 'pipeline_error') errors++;
      const problem = problemOf(event, line, i % 10 === 0);
      if (problem && failures.length < 5) failures.push(`${JSON.stringify(line.slice(0, 200))}: ${problem}`);
    }
    expect(failures).toEqual([]);
    expect(errors).toBeGreaterThan(1000);
    expect(errors).toBeLessThan(100_000);
    // A hang guard, not a speed test: one line of at most a few hundred characters in under a second.
    expect(slowest).toBeLessThan(1000);
  });

  it('decode pathological runs just under the line limit in linear time', () => {
    const received = new Date('2026-11-26T01:00:00Z');
    const prefixes = [
      '',
      '<134>Nov 26 07:00:00 h app: ',
      'CEF:0|V|P|1|2|N|3|',
      '%ASA-6-302013: ',
      'date=2026-11-26 time=07:00:00 logid="1" type="traffic" ',
      '1,2026/11/26 07:50:00,0,TRAFFIC,',
      '[action:"',
      '{"EventID":1116,"SourceName":"Defender","x":"',
      'IN=eth0 PROTO=TCP ',
    ];
    let slowest = 0;
    for (const prefix of prefixes) {
      for (const run of RUNS) {
        const line = (prefix + run.repeat(Math.ceil(MAX_LINE / run.length))).slice(0, MAX_LINE - 1);
        const t0 = performance.now();
        const event = decodeLine(line, { received });
        slowest = Math.max(slowest, performance.now() - t0);
        check(event, line, true);
      }
    }
    expect(slowest).toBeLessThan(2000);
  });

  it('decode 10 MB lines into pipeline errors, and control characters and invalid UTF-8 escaped and flagged', () => {
    const received = new Date('2026-11-26T01:00:00Z');
    for (const fill of ['x', '=', '\\', '|', 'a=b ']) {
      const line = `CEF:0|V|P|1|2|N|3|msg=${fill.repeat(Math.ceil((10 * 1024 * 1024) / fill.length))}`;
      const event = decodeLine(line, { received });
      check(event, line, true);
      expect(event.event.kind).toBe('pipeline_error');
    }
    const r = rng(7);
    for (let i = 0; i < 2000; i++) {
      const base = Buffer.from(mutate(r, r.pick(TEMPLATES)).replace(/[\ud800-\udfff]/g, ''));
      const at = r.int(base.length + 1);
      const bad = Buffer.concat([base.subarray(0, at), Buffer.from([r.pick([0x80, 0xbf, 0xc0, 0xc1, 0xf5, 0xff, 0xed, 0xe0])]), base.subarray(at)]);
      const event = decodeBytes(bad, { received });
      check(event, bad.toString('utf8'), true);
      expect(event.labels?.line_escaped).toMatch(/invalid_utf8$/);
    }
    const ctl = decodeLine('<134>Nov 26 07:00:00 h app: a\u0000b', { received }) as unknown as { event: { kind: string; original: string }; message: string };
    expect([ctl.event.kind, ctl.message, ctl.event.original]).toEqual(['event', 'a\u2400b', '<134>Nov 26 07:00:00 h app: a\u0000b']);
  });
});
