import type { TelemetryLedger } from '../telemetry.ts';
import type { AuditFinding } from './findings.ts';
import type { RegisteredServer } from './coverage.ts';

/**
 * Antivirus signature age: a registered server whose antivirus speaks (else the coverage audit reports
 * it) but whose last successful signature update is older than `maxAgeMs`, or unseen for that long
 * since observation began.
 */
export function signatureAgeAudit(servers: readonly RegisteredServer[], ledger: TelemetryLedger, now: Date, maxAgeMs: number): AuditFinding[] {
  const findings: AuditFinding[] = [];
  for (const s of servers) {
    if (!ledger.lastSeen(s.host, 'antivirus')) continue;
    const last = ledger.lastSignatureUpdate(s.host);
    if (now.getTime() - (last ?? ledger.since).getTime() <= maxAgeMs) continue;
    findings.push({
      audit: 'signature-age',
      group: { 'host.name': s.host },
      host: s.host,
      unit: s.unit,
      securityLevel: s.securityLevel,
      message: last
        ? `antivirus signatures on ${s.host} last updated ${last.toISOString()}`
        : `no antivirus signature update seen from ${s.host} since observation began at ${ledger.since.toISOString()}`,
    });
  }
  return findings;
}
