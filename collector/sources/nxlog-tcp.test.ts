import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../correlator/decoders/index.ts';
import { parseEnvelope } from '../../shared/envelope.ts';
import { createLogger } from '../../shared/log.ts';
import { SyslogSourceSchema } from '../config.ts';
import { CollectorMetrics } from '../metrics.ts';
import type { OutRecord, RecordSink } from '../record.ts';
import { SyslogTcpSource } from './syslog-tcp.ts';
import { defenderActionFailed, defenderDetected, firewallRuleAdded, wfpConnectionBlocked } from './winlog-fixtures.ts';

const log = createLogger('nxlog-tcp-test', {}, 'silent');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/**
 * What NXLog sends with im_msvistalog -> om_tcp and `Exec to_json();`: one JSON object per line, no syslog
 * header, the EventData fields at the top level next to NXLog's own (EventTime in local time, Hostname,
 * SourceName, RecordNumber, EventReceivedTime, SourceModuleName...).
 */
function nxlogLine(e: ReturnType<typeof defenderDetected>, record: number): string {
  return JSON.stringify({
    EventTime: e.TimeCreated.replace('T', ' ').replace(/\.\d+Z$/, ''),
    Hostname: e.Computer,
    Keywords: '9223372036854775808',
    EventType: e.Level === 'Warning' ? 'WARNING' : 'INFO',
    SeverityValue: e.Level === 'Warning' ? 3 : 2,
    Severity: e.Level === 'Warning' ? 'WARNING' : 'INFO',
    EventID: e.EventID,
    SourceName: e.ProviderName,
    ProviderGuid: '{11CD958A-C507-4EF3-B3F2-5FD9DFBD2C78}',
    Version: 0,
    Task: 0,
    OpcodeValue: 0,
    RecordNumber: record,
    ProcessID: 3456,
    ThreadID: 7890,
    Channel: e.Channel,
    Domain: 'NT AUTHORITY',
    AccountName: 'SYSTEM',
    UserID: 'S-1-5-18',
    AccountType: 'User',
    Opcode: 'Info',
    ...e.EventData,
    EventReceivedTime: e.TimeCreated.replace('T', ' ').replace(/\.\d+Z$/, ''),
    SourceModuleName: 'eventlog',
    SourceModuleType: 'im_msvistalog',
  });
}

class MemorySink implements RecordSink {
  readonly records: OutRecord[] = [];
  ready = () => true;
  offer(records: OutRecord[]) {
    this.records.push(...records);
    return 0;
  }
  onReady() {
    return () => undefined;
  }
}

describe('NXLog JSON lines (om_tcp, to_json()) over the syslog TCP source', () => {
  it('are recognised as Windows events: Defender, WFP and firewall policy decoders, the host from the record', async () => {
    const sink = new MemorySink();
    const config = SyslogSourceSchema.parse({ type: 'syslog', name: 'nxlog', protocol: 'tcp', listen: { host: '127.0.0.1', port: 0 } });
    const source = new SyslogTcpSource(config, { host: 'soc-collector-01', lineLimit: 65536, sink, metrics: new CollectorMetrics(), log });
    const { port } = await source.start();
    stops.push(() => source.stop());
    const host = 'KETOAN-01.stc.tinh.gov.vn';
    const lines = [
      nxlogLine(defenderDetected(host, 1), 501),
      nxlogLine(defenderActionFailed(host, 2), 502),
      nxlogLine(wfpConnectionBlocked(host, 3), 88123),
      nxlogLine(firewallRuleAdded(2097, host, 4), 77),
    ];
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.end(lines.map((l) => `${l}\n`).join(''), () => resolve()));
      s.once('error', reject);
    });
    const deadline = Date.now() + 10_000;
    while (sink.records.length < lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const envelopes = sink.records.map((r) => {
      const p = parseEnvelope(r.value);
      if (!p.ok) throw new Error(p.reason);
      return p.envelope;
    });
    expect(envelopes.map((e) => e.line)).toEqual(lines);
    const events = envelopes.map((e) => decodeEnvelope(e) as unknown as Record<string, any>);
    expect(events.map((e) => [e.event.module, e.event.code, e.event.action])).toEqual([
      ['windows-defender', '1116', 'malware-detected'],
      ['windows-defender', '1118', 'malware-action-failed'],
      ['windows-wfp', '5157', 'connection-blocked'],
      ['windows-firewall-policy', '2097', 'rule-added'],
    ]);
    expect(events.every((e) => e.host.name === host)).toBe(true);
    expect(events[0]!.threat.software.name).toBe('Virus:DOS/EICAR_Test_File');
    expect([events[2]!.source.ip, events[2]!.destination.port]).toEqual(['203.0.113.4', 445]);
  });
});
