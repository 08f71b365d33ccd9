import type { TelemetryLedger } from '../telemetry.ts';
import type { AuditFinding } from './findings.ts';
import type { RegisteredServer } from './coverage.ts';

export interface SilenceLimits {
  /** No heartbeat for this long: the collector itself is silent. */
  heartbeatLostMs: number;
  /** Heartbeats arrive but no line for this long: the source is silent (log rotated away, service stopped). */
  silentAfterMs: number;
  /** Lines dropped (spool full) within this: the source is losing data. */
  dropWindowMs: number;
}

/**
 * Silent sources, from the collectors' heartbeats: a collector that stopped beating, a source that beats
 * but carries no lines any more, a source whose collector dropped lines. Unit and security level come
 * from the register when the collector runs on a registered server.
 */
export function silentSourcesAudit(ledger: TelemetryLedger, servers: readonly RegisteredServer[], now: Date, limits: SilenceLimits): AuditFinding[] {
  const byHost = new Map(servers.map((s) => [s.host.toLowerCase(), s]));
  const findings: AuditFinding[] = [];
  const t = now.getTime();
  for (const s of ledger.sources()) {
    const server = byHost.get(s.host.toLowerCase());
    const base = { audit: 'silent-source' as const, host: s.host, unit: server?.unit ?? null, ...(server ? { securityLevel: server.securityLevel } : {}) };
    const lastBeat = Date.parse(s.lastHeartbeat);
    if (t - lastBeat > limits.heartbeatLostMs) {
      findings.push({
        ...base,
        group: { 'host.name': s.host, 'log.source': s.source, problem: 'heartbeat-lost' },
        message: `collector on ${s.host}: no heartbeat for ${s.source} since ${s.lastHeartbeat}`,
      });
      continue;
    }
    const lastLine = s.lastLineAt ? Date.parse(s.lastLineAt) : Date.parse(s.firstHeartbeat);
    if (t - lastLine > limits.silentAfterMs) {
      findings.push({
        ...base,
        group: { 'host.name': s.host, 'log.source': s.source, problem: 'no-lines' },
        message: `${s.host}:${s.source} beats but has carried no line since ${s.lastLineAt ?? `the first heartbeat at ${s.firstHeartbeat}`}`,
      });
    }
    if (s.lastDropAt && t - Date.parse(s.lastDropAt) <= limits.dropWindowMs) {
      findings.push({
        ...base,
        group: { 'host.name': s.host, 'log.source': s.source, problem: 'dropping' },
        message: `${s.host}:${s.source} dropped lines (spool full), ${s.droppedTotal} in all, last reported at ${s.lastDropAt}`,
      });
    }
  }
  return findings;
}
