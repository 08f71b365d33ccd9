import type { Envelope } from '../../shared/envelope.ts';
import type { NormalizedEvent } from '../../shared/event.ts';

/**
 * A collector's heartbeat as an event, so that rules see it like any other (a spool dropping data is a
 * layer-3 finding): event.dataset canhgac.heartbeat, the counts under canhgac.heartbeat.*.
 */
export function heartbeatEvent(env: Envelope): NormalizedEvent {
  const hb = env.heartbeat!;
  const labels: Record<string, string> = {};
  if (env.unit) labels.unit = env.unit;
  if (env.drill) labels.drill = env.drill;
  return {
    '@timestamp': new Date(Date.parse(env.received)).toISOString(),
    event: { kind: 'state', dataset: 'canhgac.heartbeat', module: 'canhgac', original: JSON.stringify(hb), id: env.id, ingested: new Date().toISOString() },
    host: { name: env.host },
    // The collector is the log source a heartbeat speaks for (the silent-source rule groups by observer.name).
    observer: { name: env.host },
    labels,
    canhgac: {
      heartbeat: {
        source: env.source,
        lines: hb.lines,
        dropped: hb.dropped,
        refused: hb.refused ?? 0,
        kernel_dropped: hb.kernelDropped ?? 0,
        gaps: hb.gaps ?? 0,
        ...(hb.gapChannels?.length ? { gap_channels: hb.gapChannels } : {}),
        last_line_at: hb.lastLineAt,
        spool_bytes: hb.spoolBytes ?? 0,
      },
    },
  } as NormalizedEvent;
}
