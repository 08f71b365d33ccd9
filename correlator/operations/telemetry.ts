import type { Envelope } from '../../shared/envelope.ts';
import type { NormalizedEvent } from '../../shared/event.ts';

/** The two kinds of telemetry every registered server must send (layer-3 coverage). */
export type LogType = 'firewall' | 'antivirus';
export const LOG_TYPES: readonly LogType[] = ['firewall', 'antivirus'];

/** What the collectors' heartbeats say about one source (a file or a listener) of one collector host. */
export interface SourceState {
  host: string;
  source: string;
  /** The log type its events showed, once it has shipped one. */
  logType: LogType | null;
  firstHeartbeat: string;
  lastHeartbeat: string;
  /** The last line the collector read from it (null: none since the collector started). */
  lastLineAt: string | null;
  /** When the collector last reported lines dropped (spool full), and how many in total. */
  lastDropAt: string | null;
  droppedTotal: number;
}

/**
 * "Telemetry seen": what the correlator saw arrive, per host and log type, that the layer-3 audits read.
 * The correlator feeds it (observeEvent for each decoded event, observeHeartbeat for each heartbeat
 * envelope); hosts are recorded under their asset-register name when `canonical` resolves one.
 */
export interface TelemetryLedger {
  /** When observation began: before `since + window` a host never seen is not yet a gap. */
  readonly since: Date;
  sawEvent(host: string, logType: LogType, at: Date, source?: string): void;
  sawSignatureUpdate(host: string, at: Date): void;
  sawHeartbeat(beat: {
    host: string;
    source: string;
    at: Date;
    lines: number;
    dropped: number;
    lastLineAt: string | null;
    logTypes?: readonly LogType[];
  }): void;
  /** The last telemetry of that type from that host: an event, or a heartbeat of a source known to carry it. */
  lastSeen(host: string, logType: LogType): Date | null;
  lastSignatureUpdate(host: string): Date | null;
  sources(): SourceState[];
}

const later = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : Date.parse(a) >= Date.parse(b) ? a : b);

/** One process's ledger. soc.raw is keyed by host, so one instance sees all of a host's telemetry. */
export class MemoryTelemetryLedger implements TelemetryLedger {
  private readonly seen = new Map<string, number>();
  private readonly signatures = new Map<string, number>();
  private readonly sourceStates = new Map<string, SourceState>();
  /** (collector host, source) -> log type, learned from the events the source carried. */
  private readonly sourceTypes = new Map<string, LogType>();

  constructor(
    readonly since: Date,
    private readonly canonical: (host: string) => string = (h) => h,
  ) {}

  private static key(...parts: string[]): string {
    return parts.join('\u0000');
  }

  sawEvent(host: string, logType: LogType, at: Date, source?: string): void {
    const h = this.canonical(host);
    const k = MemoryTelemetryLedger.key(h, logType);
    if ((this.seen.get(k) ?? -Infinity) < at.getTime()) this.seen.set(k, at.getTime());
    if (source !== undefined) {
      const sk = MemoryTelemetryLedger.key(host, source);
      this.sourceTypes.set(sk, logType);
      const st = this.sourceStates.get(sk);
      if (st) st.logType = logType;
    }
  }

  sawSignatureUpdate(host: string, at: Date): void {
    const h = this.canonical(host);
    if ((this.signatures.get(h) ?? -Infinity) < at.getTime()) this.signatures.set(h, at.getTime());
  }

  sawHeartbeat(beat: {
    host: string;
    source: string;
    at: Date;
    lines: number;
    dropped: number;
    lastLineAt: string | null;
    logTypes?: readonly LogType[];
  }): void {
    const sk = MemoryTelemetryLedger.key(beat.host, beat.source);
    const at = beat.at.toISOString();
    const prev = this.sourceStates.get(sk);
    const next: SourceState = prev
      ? { ...prev, lastHeartbeat: later(prev.lastHeartbeat, at)!, lastLineAt: later(prev.lastLineAt, beat.lastLineAt) }
      : {
          host: beat.host,
          source: beat.source,
          logType: this.sourceTypes.get(sk) ?? null,
          firstHeartbeat: at,
          lastHeartbeat: at,
          lastLineAt: beat.lastLineAt,
          lastDropAt: null,
          droppedTotal: 0,
        };
    if (beat.dropped > 0) {
      next.lastDropAt = later(next.lastDropAt, at);
      next.droppedTotal += beat.dropped;
    }
    this.sourceStates.set(sk, next);
    // A quiet antivirus log is normal: its source's heartbeat proves the host is still covered. A
    // winlog source declares its log types (from its channels), so it covers the host from its first heartbeat.
    for (const logType of new Set([...(next.logType ? [next.logType] : []), ...(beat.logTypes ?? [])])) {
      const k = MemoryTelemetryLedger.key(this.canonical(beat.host), logType);
      if ((this.seen.get(k) ?? -Infinity) < beat.at.getTime()) this.seen.set(k, beat.at.getTime());
    }
  }

  lastSeen(host: string, logType: LogType): Date | null {
    const t = this.seen.get(MemoryTelemetryLedger.key(this.canonical(host), logType));
    return t === undefined ? null : new Date(t);
  }

  lastSignatureUpdate(host: string): Date | null {
    const t = this.signatures.get(this.canonical(host));
    return t === undefined ? null : new Date(t);
  }

  sources(): SourceState[] {
    return [...this.sourceStates.values()].map((s) => ({ ...s })).sort((a, b) => (a.host + a.source < b.host + b.source ? -1 : 1));
  }
}

const SIGNATURE_CURRENT = new Set(['signature-updated', 'signature-up-to-date']);

/** The log type of a decoded event: the observer's type, else its ECS category. */
export function logTypeOf(event: NormalizedEvent): LogType | null {
  if (event.event.kind === 'pipeline_error') return null;
  const t = event.observer?.type?.toLowerCase();
  if (t === 'firewall' || t === 'antivirus') return t;
  const cats = event.event.category ?? [];
  if (cats.includes('malware')) return 'antivirus';
  if (cats.includes('network')) return 'firewall';
  return null;
}

/**
 * Feeds one decoded event to the ledger: real telemetry only (a drill replays old logs; it proves
 * nothing about coverage now), at the time it arrived, under the host it came from.
 */
export function observeEvent(ledger: TelemetryLedger, env: Envelope, event: NormalizedEvent): void {
  if (env.drill) return;
  const logType = logTypeOf(event);
  if (!logType) return;
  const host = event.host?.name ?? env.host;
  const at = new Date(Date.parse(env.received));
  // The envelope's host is the collector's; the event's host is the server it speaks of (syslog from appliances).
  ledger.sawEvent(host, logType, at, host === env.host ? env.source : undefined);
  if (logType === 'antivirus' && SIGNATURE_CURRENT.has(event.event.action ?? '') && event.event.outcome !== 'failure') {
    ledger.sawSignatureUpdate(host, new Date(Date.parse(event['@timestamp'])));
  }
}

/** Feeds one heartbeat envelope to the ledger. */
export function observeHeartbeat(ledger: TelemetryLedger, env: Envelope): void {
  if (env.kind !== 'heartbeat' || !env.heartbeat || env.drill) return;
  ledger.sawHeartbeat({
    host: env.host,
    source: env.source,
    at: new Date(Date.parse(env.received)),
    lines: env.heartbeat.lines,
    dropped: env.heartbeat.dropped,
    lastLineAt: env.heartbeat.lastLineAt,
    ...(env.heartbeat.logTypes ? { logTypes: env.heartbeat.logTypes } : {}),
  });
}
