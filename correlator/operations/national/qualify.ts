import type { Incident } from '../../../shared/incident.ts';

/** The security level (1-5, Decree 85/2016) of a host in the asset register, when it is registered. */
export type SecurityLevelOf = (host: string) => number | undefined;

/**
 * Whether an incident goes to the national centre: never a drill; otherwise when its rule says
 * share_national, when it is critical on a server of security level 3 or above, or when escalation
 * handed it to layer 4 (the national connection owns it now).
 */
export function qualifiesNational(incident: Incident, securityLevelOf: SecurityLevelOf): boolean {
  if (incident.drill !== null) return false;
  if (incident.share_national || incident.layer === 4) return true;
  return incident.severity === 'critical' && incident.host.some((h) => (securityLevelOf(h) ?? 0) >= 3);
}
