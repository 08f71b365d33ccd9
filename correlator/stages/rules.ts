import type { RuleSet } from '../detection/ruleset.ts';

/** The rule set in force now; hot reload swaps what this returns. */
export type CurrentRules = () => RuleSet;

/** Asset register lookup: the registered name, unit and security level (Decree 85/2016) of a host. */
export type AssetLookup = (host: string) => { host?: string; unit?: string; securityLevel?: number } | undefined;

export function assetLookup(rules: CurrentRules): AssetLookup {
  return (host) => {
    const a = rules().context.assets.lookup(host);
    return a ? { host: a.host, unit: a.unit, securityLevel: a.security_level } : undefined;
  };
}

/** The longest correlation timespan: how far back a restart re-reads to rebuild windows. */
export function maxTimespanMs(ruleset: RuleSet): number {
  let max = 0;
  for (const c of ruleset.correlations.values()) max = Math.max(max, c.timespanMs);
  return max;
}

/** A correlation's group: the correlation, the drill and the group-by values. */
export function correlateKey(correlationId: string, drill: string | null, groupBy: readonly string[], group: Record<string, string>): string {
  return [correlationId, drill ?? '', ...groupBy.map((g) => group[g] ?? '')].join('\u0000');
}

/**
 * The soc.correlate key a group's feeds are sent with: its drill and group-by values, not the
 * correlation, so one group always lands in one partition, and an event that feeds several
 * correlations grouped by the same values (a port scan and a sweep by source.ip) lands in one
 * partition and is carried there once, not once per correlation.
 */
export function correlatePartitionKey(drill: string | null, groupBy: readonly string[], group: Record<string, string>): string {
  return [drill ?? '', ...groupBy.map((g) => group[g] ?? '')].join('\u0000');
}
