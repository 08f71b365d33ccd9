import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../correlator/decoders/index.ts';
import { parseEnvelope, type Envelope } from '../../shared/envelope.ts';
import { createLogger } from '../../shared/log.ts';
import { CollectorSectionSchema, WinlogSourceSchema, type WinlogSourceConfig } from '../config.ts';
import { Heartbeat } from '../heartbeat.ts';
import { CollectorMetrics } from '../metrics.ts';
import { commitDurable, type OutRecord, type RecordSink } from '../record.ts';
import { CheckpointStore } from './checkpoints.ts';
import { WinlogSource } from './winlog.ts';
import { DEFENDER, defenderActionFailed, defenderDetected, FIREWALL, firewallRuleAdded, mixedEvents, SECURITY, wfpPacketDropped } from './winlog-fixtures.ts';
import { PowershellReader, queryXPath } from './winlog-reader.ts';
import { installStandin, StandinLog } from './winlog-standin.ts';

const log = createLogger('winlog-test', {}, 'silent');

/** A sink that holds what it was offered until the test acknowledges it, as Kafka would. */
class HeldSink implements RecordSink {
  readonly pending: OutRecord[] = [];
  readonly acked: OutRecord[] = [];
  private readonly listeners = new Set<() => void>();
  full = false;
  ready = () => !this.full;
  /** Room again: what the Kafka sink signals when its queue drained. */
  drained(): void {
    this.full = false;
    for (const l of this.listeners) l();
  }
  offer(records: OutRecord[]): number {
    this.pending.push(...records);
    return 0;
  }
  onReady(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  ack(): void {
    const batch = this.pending.splice(0);
    this.acked.push(...batch);
    commitDurable(batch);
  }
  envelopes(which: 'acked' | 'pending' = 'acked'): Envelope[] {
    return this[which].map((r) => {
      const p = parseEnvelope(r.value);
      if (!p.ok) throw new Error(p.reason);
      return p.envelope;
    });
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('winlog source through a stand-in Get-WinEvent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-winlog-'));
  let n = 0;
  beforeAll(() => {
    process.env.PATH = `${installStandin(join(dir, 'bin'))}${delimiter}${process.env.PATH}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function setup(cfg: Partial<WinlogSourceConfig> & Record<string, unknown> = {}) {
    const d = join(dir, `case-${n++}`);
    const store = new StandinLog(`${d}-store.json`);
    process.env.WINLOG_STANDIN_STORE = store.file;
    process.env.WINLOG_STANDIN_CALLS = `${d}-calls.jsonl`;
    const source = WinlogSourceSchema.parse({
      type: 'winlog',
      name: 'winlog',
      command: 'pwsh',
      pollSeconds: 0.05,
      startAt: 'beginning',
      securityWfp: true,
      ...cfg,
    });
    const checkpoints = join(d, 'checkpoints.json');
    const metrics = new CollectorMetrics();
    const sink = new HeldSink();
    const start = () => {
      const store = new CheckpointStore(checkpoints);
      const src = new WinlogSource(source, { host: 'srv-win-01', unit: 'so-tttt', lineLimit: 65536, sink, metrics, log, checkpoints: store });
      src.start();
      return { src, store };
    };
    const calls = () =>
      readFileSync(`${d}-calls.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { channel: string; xpath: string; max: number });
    return { store, sink, metrics, start, calls, checkpoints };
  }

  it('builds the XPath from the event ids as ranges and the bookmark', () => {
    expect(queryXPath({ channel: DEFENDER, ids: [1006, 1007, 1008, 1009, 1116, 2001], afterRecordId: 41, max: 500 })).toBe(
      '*[System[((EventID>=1006 and EventID<=1009) or EventID=1116 or EventID=2001) and EventRecordID>41]]',
    );
    expect(queryXPath({ channel: FIREWALL, afterRecordId: 0, max: 10 })).toBe('*[System[EventRecordID>0]]');
  });

  it('reads what Get-WinEvent prints: the bounds, then the events after the record id with the ids asked for', async () => {
    const { store } = setup();
    store.append([
      defenderDetected('SRV-WIN-01', 1),
      defenderActionFailed('SRV-WIN-01', 2),
      { ...defenderDetected('SRV-WIN-01', 3), EventID: 1150 },
      defenderDetected('SRV-WIN-01', 4),
    ]);
    const read = await new PowershellReader('pwsh').read({ channel: DEFENDER, ids: [1116, 1118], afterRecordId: 1, max: 10 });
    expect([read.oldest, read.newest]).toEqual([1, 4]);
    expect(read.events.map((e) => e.recordId)).toEqual([2, 4]);
    expect(JSON.parse(read.events[0]!.line)).toMatchObject({ EventID: 1118, Channel: DEFENDER, EventData: { 'Threat Name': 'Virus:DOS/EICAR_Test_File' } });
    await expect(new PowershellReader('pwsh').read({ channel: 'No-Such/Channel', afterRecordId: 0, max: 10 })).rejects.toThrow(
      /pwsh exited with 1 reading 'No-Such\/Channel': Get-WinEvent : There is not an event log/,
    );
  });

  it('ships each event once as a windows-event envelope, and moves the bookmark only when the sink acknowledges', async () => {
    const { store, sink, start, calls, checkpoints } = setup({ batchEvents: 4 });
    store.create(FIREWALL);
    const written = [
      ...store.append(mixedEvents('SRV-WIN-01', 0, 6).filter((e) => e.Channel === DEFENDER)),
      ...store.append(mixedEvents('SRV-WIN-01', 0, 12).filter((e) => e.Channel === SECURITY)),
    ];
    let run = start();
    await waitFor('a first Defender batch', () => sink.pending.some((r) => r.value.includes(DEFENDER)));
    // Not acknowledged: the channel is not read again, and nothing is checkpointed past it.
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.pending.filter((r) => r.value.includes('Defender/Operational')).length).toBe(3);
    expect(calls().filter((c) => c.channel === DEFENDER).length).toBe(1);
    await run.src.stop();
    run.store.save();
    expect(JSON.parse(readFileSync(checkpoints, 'utf8')).channels[DEFENDER].recordId).toBe(0);

    // A restart before the acknowledgement reads the same batch again, under the same ids.
    const before = sink.envelopes('pending').map((e) => e.id);
    sink.pending.splice(0);
    run = start();
    await waitFor('the batch again', () => sink.pending.length >= before.length);
    expect(
      sink
        .envelopes('pending')
        .map((e) => e.id)
        .sort(),
    ).toEqual([...before].sort());
    while (sink.acked.length < written.length) {
      sink.ack();
      await new Promise((r) => setTimeout(r, 30));
    }
    // A full batch is followed by a read from where it ended, without waiting for the poll interval.
    await waitFor('the Security channel read past the batch', () => calls().some((c) => c.channel === SECURITY && c.xpath.includes('EventRecordID>4')));
    await run.src.stop();
    const got = sink.envelopes();
    expect(got.length).toBe(written.length);
    expect(new Set(got.map((e) => e.id)).size).toBe(written.length);
    expect(got.every((e) => e.format === 'windows-event' && e.host === 'srv-win-01' && e.unit === 'so-tttt' && e.source === 'winlog')).toBe(true);
    expect(got.map((e) => JSON.parse(e.line).RecordId as number).filter((_, i) => got[i]!.line.includes(DEFENDER))).toEqual([1, 2, 3]);
    const saved = JSON.parse(readFileSync(checkpoints, 'utf8')).channels as Record<string, { recordId: number }>;
    expect(saved[DEFENDER]!.recordId).toBe(3);
    expect(saved[SECURITY]!.recordId).toBe(4);
  });

  it('reports a cleared log (record ids went back) in the heartbeat and reads the new records under new ids', async () => {
    const { store, sink, metrics, start } = setup({ channels: [{ name: DEFENDER, ids: [1116, 1117, 1118] }], securityWfp: false });
    store.append([defenderDetected('SRV-WIN-01', 1), defenderActionFailed('SRV-WIN-01', 2)]);
    const run = start();
    await waitFor('two events', () => sink.pending.length === 2);
    sink.ack();
    store.clear(DEFENDER);
    store.append([defenderDetected('SRV-WIN-01', 3)]);
    await waitFor('the gap', () => metrics.source('winlog').gaps === 1);
    await waitFor('the event after the clear', () => sink.pending.length === 1);
    sink.ack();
    await run.src.stop();
    const ids = sink.envelopes().map((e) => e.id);
    expect(ids).toEqual([`srv-win-01:winlog:${DEFENDER}:0:1`, `srv-win-01:winlog:${DEFENDER}:0:2`, `srv-win-01:winlog:${DEFENDER}:1:1`]);

    const beats: Envelope[] = [];
    const hbSink: RecordSink = {
      ready: () => true,
      onReady: () => () => undefined,
      offer: (r) => (beats.push(...r.map((x) => (parseEnvelope(x.value) as { envelope: Envelope }).envelope)), 0),
    };
    const hb = new Heartbeat({
      host: 'srv-win-01',
      sources: ['winlog'],
      logTypes: { winlog: ['antivirus'] },
      intervalMs: 1000,
      sink: hbSink,
      metrics,
      spoolBytes: () => 0,
    });
    hb.beat();
    hb.beat();
    expect(beats[0]!.heartbeat).toMatchObject({ gaps: 1, gapChannels: [DEFENDER], logTypes: ['antivirus'] });
    expect(beats[1]!.heartbeat!.gaps).toBeUndefined();
  });

  it('reports records overwritten before they were read, and a bookmark that passes filtered-out records finds no false gap', async () => {
    const { store, sink, metrics, start } = setup({ channels: [{ name: DEFENDER, ids: [1116] }], securityWfp: false });
    store.append([defenderDetected('SRV-WIN-01', 1), defenderActionFailed('SRV-WIN-01', 2), defenderActionFailed('SRV-WIN-01', 3)]);
    const run = start();
    await waitFor('one event', () => sink.pending.length === 1);
    sink.ack();
    // The two 1118 records were filtered out; the bookmark moved past them to the newest record.
    await waitFor('the bookmark at 3', () => run.store.bookmark(DEFENDER)?.recordId === 3);
    store.dropOldest(DEFENDER, 3);
    store.append([defenderDetected('SRV-WIN-01', 4)]);
    await waitFor('the event after', () => sink.pending.length === 1);
    expect(metrics.source('winlog').gaps).toBe(0);
    sink.ack();
    store.append([defenderDetected('SRV-WIN-01', 5), defenderDetected('SRV-WIN-01', 6), defenderDetected('SRV-WIN-01', 7)]);
    store.dropOldest(DEFENDER, 2);
    await waitFor('the overwritten records reported', () => metrics.source('winlog').gaps === 1);
    await waitFor('what is left', () => sink.pending.length === 2);
    await run.src.stop();
    expect(sink.envelopes('pending').map((e) => JSON.parse(e.line).RecordId)).toEqual([6, 7]);
  });

  it('reads nothing while the sink is full, and resumes when it signals room', async () => {
    const { store, sink, start, calls } = setup({ channels: [{ name: DEFENDER }], securityWfp: false, pollSeconds: 3600 });
    store.append([defenderDetected('SRV-WIN-01', 1)]);
    sink.full = true;
    const run = start();
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.pending).toEqual([]);
    expect(() => calls()).toThrow(/ENOENT/);
    sink.drained();
    await waitFor('the event', () => sink.pending.length === 1);
    await run.src.stop();
    expect(calls().length).toBe(1);
  });

  it('starts at the newest record of a channel it never read, by default', async () => {
    const { store, sink, start } = setup({ channels: [{ name: DEFENDER }], startAt: 'end', securityWfp: false });
    store.append([defenderDetected('SRV-WIN-01', 1), defenderDetected('SRV-WIN-01', 2)]);
    const run = start();
    await waitFor('the bookmark', () => run.store.bookmark(DEFENDER)?.recordId === 2);
    store.append([defenderActionFailed('SRV-WIN-01', 3)]);
    await waitFor('the new event', () => sink.pending.length === 1);
    await run.src.stop();
    expect(JSON.parse(sink.envelopes('pending')[0]!.line).RecordId).toBe(3);
  });

  it('ships lines the correlator decodes as Defender, WFP and firewall policy events', () => {
    const decode = (fixture: object) =>
      decodeEnvelope({
        v: 1,
        kind: 'line',
        id: 'x',
        host: 'srv-win-01',
        source: 'winlog',
        format: 'windows-event',
        received: '2026-12-01T08:00:05.000Z',
        line: JSON.stringify({ ...fixture, RecordId: 1 }),
      }) as unknown as Record<string, any>;
    const detected = decode(defenderDetected('SRV-WIN-01.so-tttt.local', 1));
    expect(detected.event).toMatchObject({ kind: 'alert', action: 'malware-detected', code: '1116', module: 'windows-defender' });
    expect(detected.threat.software.name).toBe('Virus:DOS/EICAR_Test_File');
    expect(detected.file.path).toBe('C:\\Users\\nguyen.van.a\\Downloads\\hoadon-1.exe');
    expect(detected.host.name).toBe('SRV-WIN-01.so-tttt.local');
    expect(detected['@timestamp']).toBe('2026-12-01T08:00:01.000Z');
    expect(decode(defenderActionFailed('SRV-WIN-01', 2)).event).toMatchObject({ action: 'malware-action-failed', outcome: 'failure' });
    const drop = decode(wfpPacketDropped('SRV-WIN-01', 3));
    expect(drop.event).toMatchObject({ code: '5152', action: 'packet-blocked', module: 'windows-wfp' });
    expect([drop.source.ip, drop.destination.port]).toEqual(['203.0.113.4', 3389]);
    const rule = decode(firewallRuleAdded(2097, 'SRV-WIN-01', 4));
    expect(rule.event).toMatchObject({ code: '2097', action: 'rule-added', module: 'windows-firewall-policy', category: ['configuration'], type: ['change'] });
    expect([rule.observer.type, rule.rule.name, rule.process.executable]).toEqual([
      'firewall',
      'Allow RDP from anywhere 4',
      'C:\\Windows\\System32\\netsh.exe',
    ]);
    const other = decode({
      EventID: 7036,
      ProviderName: 'Service Control Manager',
      Channel: 'System',
      Computer: 'SRV-WIN-01',
      EventData: { param1: 'Windows Update', param2: 'running' },
    });
    expect(other.event).toMatchObject({ kind: 'event', module: 'json' });
  });

  it('validates its config: defaults, ranges, the Security channel when WFP auditing is on', () => {
    const s = WinlogSourceSchema.parse({ type: 'winlog', name: 'winlog' });
    expect(s.channels.map((c) => c.name)).toEqual([DEFENDER, FIREWALL]);
    expect(s.channels[0]!.ids).toEqual([
      1006, 1007, 1008, 1009, 1116, 1117, 1118, 1119, 2000, 2001, 2002, 2003, 2004, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009, 5010, 5011, 5012,
      5013,
    ]);
    expect([s.command, s.pollSeconds, s.batchEvents, s.startAt]).toEqual(['powershell', 5, 500, 'end']);
    expect(WinlogSourceSchema.parse({ type: 'winlog', name: 'w', securityWfp: true }).channels.at(-1)).toEqual({
      name: SECURITY,
      ids: [5152, 5153, 5154, 5155, 5156, 5157, 5158, 5159],
    });
    const bad = CollectorSectionSchema.safeParse({
      dataDir: '/tmp/x',
      sources: [{ type: 'winlog', name: 'w', channels: [{ name: DEFENDER, ids: ['1119-1116'] }] }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({
      path: ['sources', 0, 'channels', 0, 'ids'],
      message: "'1119-1116' is not a range of event ids (0-65535, low-high)",
    });
    const twice = CollectorSectionSchema.safeParse({
      dataDir: '/tmp/x',
      sources: [{ type: 'winlog', name: 'w', channels: [{ name: 'Security' }, { name: 'security' }] }],
    });
    expect(twice.error!.issues[0]).toMatchObject({ path: ['sources', 0, 'channels', 1, 'name'], message: "channel 'security' is listed twice" });
  });
});
