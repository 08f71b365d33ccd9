import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSyslog } from './framing/syslog.ts';
import { decoderByName, decoders } from './registry.ts';
import { readCorpus } from './test-support/agreement.ts';
import { DEFAULT_TIMEZONE } from './time.ts';
import type { DecodeInput } from './types.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusFile = process.env.CANHGAC_CORPUS ?? join(repo, '..', 'shared', 'corpus', 'decoders-dev.ndjson');

/** Real-format lines of the key=value decoders and of others around them in the sniffing order. */
const LINES = [
  'date=2026-11-26 time=07:30:00 devname="FGT-HCM" devid="FG100F0000000001" logid="0000000013" type="traffic" subtype="forward" vd="root" srcip=203.0.113.7 dstip=10.10.0.8 action="deny"',
  '<4>Nov 26 07:59:01 srv1 kernel: [12345.678901] IPTABLES-DROP: IN=eth0 OUT= SRC=203.0.113.1 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=4444 DPT=22',
  'device_name="SFW" timestamp="2026-11-26T07:52:00+0700" log_id="010101600001" log_type="Firewall" log_subtype="Denied" src_ip="203.0.113.9"',
  'device="SFW" date=2017-01-31 time=18:28:25 log_id=041107413001 log_type="Anti-Spam" log_component="SMTP"',
  '<30>Nov 26 07:00:00 utm ulogd[1]: id="2002" severity="info" sys="SecureNet" sub="packetfilter" name="Packet dropped" srcip="203.0.113.4"',
  '<134>  id=firewall sn=0040103CE114 time="2026-11-26 07:53:00" fw=10.0.0.1 pri=6 c=262144 m=537 msg="Connection Closed" src=203.0.113.5:4000:X1',
  'time="2023-11-23 06:49:20" fw="SN12345678912345" tz=+0100 pri=4 srcif="Ethernet4" src=11.22.33.44 srcport=1234 dst=10.0.0.1',
  '<166>Nov 26 2026 07:00:00 asa : %ASA-6-302013: Built outbound TCP connection 1 for outside:1.1.1.1/443 (1.1.1.1/443) to inside:10.0.0.1/5000 (2.2.2.2/5000)',
  '1,2026/11/26 07:50:00,0123,TRAFFIC,drop,2561,2026/11/26 07:50:00,1.2.3.4,5.6.7.8,0.0.0.0,0.0.0.0,r,,,a,vsys1,u,t,e1,,d,2026/11/26 07:50:00,0,1,1,2,0,0,0x0,tcp,deny',
];

function framed(line: string): DecodeInput {
  const time = { received: Date.parse('2026-11-26T01:00:00Z'), timezone: DEFAULT_TIMEZONE };
  const f = line.charCodeAt(0) === 123 ? { offset: 0, header: undefined } : parseSyslog(line, time);
  return { payload: line.slice(f.offset), offset: f.offset, header: f.header, time };
}

describe('decoder registry', () => {
  const lines = [...LINES, ...(existsSync(corpusFile) ? readCorpus(corpusFile).map((c) => c.line) : [])];
  const needing = decoders.filter((d) => d.sniffNeeds !== undefined);

  it('has key=value decoders that declare what their sniffs need', () => {
    expect(needing.map((d) => d.name).sort()).toEqual(['fortigate', 'kv', 'netfilter', 'sonicwall', 'sophos-utm', 'sophos-xg']);
  });

  it('never takes a payload without what a sniff declares it needs, so skipping it loses no line', () => {
    let taken = 0;
    for (const line of lines) {
      const input = framed(line);
      for (const d of needing) {
        const needs = d.sniffNeeds!;
        if (d.sniff(input)) {
          taken++;
          expect(input.payload.includes(needs), `${d.name} took a payload without '${needs}': ${line}`).toBe(true);
        }
        const without = framed(line.replaceAll(needs, ':'));
        expect(d.sniff(without), `${d.name} took a payload without '${needs}': ${without.payload}`).toBe(false);
      }
    }
    // Each sample above is taken by its own decoder at least.
    expect(taken).toBeGreaterThanOrEqual(7);
    expect(decoderByName('fortigate')?.sniff(framed(LINES[0]!))).toBe(true);
  });
});
