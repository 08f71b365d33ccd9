import { LOG_TYPES, type TelemetryLedger } from '../telemetry.ts';
import type { AuditFinding } from './findings.ts';

/** A server of the asset register as the audits need it. */
export interface RegisteredServer {
  host: string;
  unit: string;
  securityLevel: number;
}

/**
 * Coverage of the asset register: every registered server must have sent firewall and antivirus
 * telemetry (events, or heartbeats of a source that carries them) within `windowMs`. A server never
 * heard from counts from when observation began, so a restart does not flag every server at once.
 */
export function coverageAudit(servers: readonly RegisteredServer[], ledger: TelemetryLedger, now: Date, windowMs: number): AuditFinding[] {
  const findings: AuditFinding[] = [];
  for (const s of servers) {
    for (const logType of LOG_TYPES) {
      const last = ledger.lastSeen(s.host, logType);
      const since = last ?? ledger.since;
      if (now.getTime() - since.getTime() <= windowMs) continue;
      findings.push({
        audit: 'coverage',
        group: { 'host.name': s.host, 'log.type': logType },
        host: s.host,
        unit: s.unit,
        securityLevel: s.securityLevel,
        message: last
          ? `no ${logType} telemetry from ${s.host} since ${last.toISOString()}`
          : `no ${logType} telemetry from ${s.host} since observation began at ${ledger.since.toISOString()}`,
      });
    }
  }
  return findings;
}
