import { describe, expect, it } from 'vitest';
import { Heartbeat } from '../../collector/heartbeat.ts';
import { CollectorMetrics } from '../../collector/metrics.ts';
import type { OutRecord } from '../../collector/record.ts';
import { parseEnvelope } from '../../shared/envelope.ts';
import { heartbeatEvent } from './heartbeat.ts';

describe('heartbeat events', () => {
  it("carry a collector's refused connections and kernel-dropped datagrams to the rules", () => {
    const metrics = new CollectorMetrics();
    metrics.read('fw-udp', 10, new Date().toISOString());
    metrics.kernelDropped('fw-udp', 82_489);
    metrics.refused('fw-udp', 'per_peer');
    const out: OutRecord[] = [];
    const sink = { ready: () => true, offer: (r: OutRecord[]) => (out.push(...r), 0), onReady: () => () => undefined };
    const hb = new Heartbeat({ host: 'soc-collector-01', sources: ['fw-udp'], intervalMs: 60_000, sink, metrics, spoolBytes: () => 0 });
    hb.beat();
    metrics.kernelDropped('fw-udp', 82_500);
    hb.beat();
    const events = out.map((r) => {
      const parsed = parseEnvelope(r.value);
      if (!parsed.ok) throw new Error(parsed.reason);
      return heartbeatEvent(parsed.envelope) as unknown as { canhgac: { heartbeat: Record<string, unknown> } };
    });
    expect(events.map((e) => [e.canhgac.heartbeat.kernel_dropped, e.canhgac.heartbeat.refused])).toEqual([
      [82_489, 1],
      [11, 0],
    ]);
  });

  it("carry a winlog source's event log gaps and their channels, once, to the layer-3 gap rule", () => {
    const metrics = new CollectorMetrics();
    metrics.gap('winlog', 'Microsoft-Windows-Windows Defender/Operational');
    metrics.gap('winlog', 'Security');
    const out: OutRecord[] = [];
    const sink = { ready: () => true, offer: (r: OutRecord[]) => (out.push(...r), 0), onReady: () => () => undefined };
    const hb = new Heartbeat({
      host: 'srv-dc-01',
      sources: ['winlog'],
      logTypes: { winlog: ['antivirus', 'firewall'] },
      intervalMs: 60_000,
      sink,
      metrics,
      spoolBytes: () => 0,
    });
    hb.beat();
    hb.beat();
    const events = out.map((r) => {
      const parsed = parseEnvelope(r.value);
      if (!parsed.ok) throw new Error(parsed.reason);
      return heartbeatEvent(parsed.envelope) as unknown as { canhgac: { heartbeat: Record<string, unknown> } };
    });
    expect(events[0]!.canhgac.heartbeat).toMatchObject({ gaps: 2, gap_channels: ['Microsoft-Windows-Windows Defender/Operational', 'Security'] });
    expect(events[1]!.canhgac.heartbeat.gaps).toBe(0);
    expect(events[1]!.canhgac.heartbeat.gap_channels).toBeUndefined();
  });

  it('read heartbeats of older collectors (no such counts) as zero', () => {
    const parsed = parseEnvelope(
      JSON.stringify({
        v: 1,
        kind: 'heartbeat',
        id: 'h1',
        host: 'srv-app-05',
        source: 'kern',
        received: new Date().toISOString(),
        line: '',
        heartbeat: { lines: 5, dropped: 0, lastLineAt: null },
      }),
    );
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(heartbeatEvent(parsed.envelope)).toMatchObject({ canhgac: { heartbeat: { refused: 0, kernel_dropped: 0 } } });
  });
});
