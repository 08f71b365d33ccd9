import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../shared/bus/types.ts';
import { decodeEnvelope } from '../decoders/index.ts';
import { CorrelatorSectionSchema } from '../config.ts';
import { winlogbeatDocument } from './beats-fixtures.ts';
import { beatsEnvelope } from './beats.ts';

const input = { name: 'winlogbeat', topic: 'winlogbeat-events' };
const assets = (h: string) => (h === 'ketoan.stc.tinh.gov.vn' ? { unit: 'Sở Tài chính', securityLevel: 2 } : undefined);
const message = (value: string | null, offset = 7): BusMessage => ({
  topic: input.topic,
  partition: 2,
  offset,
  key: null,
  value,
  timestamp: Date.parse('2026-12-01T08:00:09Z'),
});

describe('beats input: Winlogbeat and Filebeat documents to soc.raw envelopes', () => {
  it('maps a Winlogbeat event whole as windows-event, with the host from host.name and the unit from the register', () => {
    const r = beatsEnvelope(input, message(JSON.stringify(winlogbeatDocument('ketoan.stc.tinh.gov.vn', 0))), assets);
    if (!r.ok) throw new Error(r.reason);
    expect(r.key).toBe('ketoan.stc.tinh.gov.vn');
    expect(r.envelope).toMatchObject({
      id: 'beats:winlogbeat:2:7',
      host: 'ketoan.stc.tinh.gov.vn',
      unit: 'Sở Tài chính',
      format: 'windows-event',
      source: 'Microsoft-Windows-Windows Defender/Operational',
      received: '2026-12-01T08:00:09.000Z',
    });
    const e = decodeEnvelope(r.envelope) as unknown as Record<string, any>;
    expect(e.event).toMatchObject({ code: '1116', action: 'malware-detected', kind: 'alert', module: 'windows-defender' });
    expect([e.host.name, e.labels.unit, e.threat.software.name]).toEqual(['ketoan.stc.tinh.gov.vn', 'Sở Tài chính', 'Virus:DOS/EICAR_Test_File']);
    const drop = decodeEnvelope(
      (beatsEnvelope(input, message(JSON.stringify(winlogbeatDocument('ketoan.stc.tinh.gov.vn', 1))), assets) as { envelope: any }).envelope,
    ) as unknown as Record<string, any>;
    expect([drop.event.action, drop.source.ip, drop.destination.port]).toEqual(['packet-blocked', '203.0.113.2', 3389]);
  });

  it('maps a Filebeat document to its message line under log.file.path; agent.hostname when host.name is absent', () => {
    const line =
      '<134>Dec  1 08:00:00 fw01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:00 SRC=203.0.113.9 DST=10.10.3.15 LEN=60 PROTO=TCP SPT=51515 DPT=22 WINDOW=64240 SYN';
    const doc = {
      '@timestamp': '2026-12-01T08:00:00Z',
      agent: { type: 'filebeat', hostname: 'fw01' },
      log: { file: { path: '/var/log/ufw.log' } },
      input: { type: 'filestream' },
      message: line,
    };
    const r = beatsEnvelope(input, message(JSON.stringify(doc)), assets);
    if (!r.ok) throw new Error(r.reason);
    expect(r.envelope).toMatchObject({ host: 'fw01', source: '/var/log/ufw.log', format: 'auto', line });
    expect(r.envelope.unit).toBeUndefined();
    expect((decodeEnvelope(r.envelope) as unknown as Record<string, any>).source.ip).toBe('203.0.113.9');
  });

  it.each([
    ['{"host": {"name": "a"', /not JSON/],
    ['[1, 2]', /not a JSON object/],
    [JSON.stringify({ message: 'x', agent: { type: 'filebeat' } }), /no host\.name, agent\.hostname or agent\.name/],
    [JSON.stringify({ host: { name: 'a' }, winlog: { channel: 'Security' } }), /winlog document without winlog\.event_id/],
    [JSON.stringify({ host: { name: 'a' }, event: { code: '1' } }), /neither a winlog event nor a document with a message/],
  ])('refuses %s with a reason', (value, reason) => {
    const r = beatsEnvelope(input, message(value), assets);
    expect(r.ok).toBe(false);
    expect((r as { reason: string }).reason).toMatch(reason);
    expect((r as { reason: string }).reason).toMatch(/^beats input winlogbeat: /);
  });

  it('is configured under correlator.beats, names unique', () => {
    expect(CorrelatorSectionSchema.parse({ beats: [input] }).beats).toEqual([input]);
    const bad = CorrelatorSectionSchema.safeParse({ beats: [input, { ...input, topic: 'other' }] });
    expect(bad.error!.issues[0]).toMatchObject({ path: ['beats', 1, 'name'], message: "duplicate beats input name 'winlogbeat'" });
  });
});
