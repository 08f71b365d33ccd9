import type { Level } from '../../shared/incident.ts';

/** What the correlator needs to know about a rule once it fired (single-event or correlation). */
export interface RuleInfo {
  /** `id`, or `name` for a Sigma helper rule that has no id. */
  id: string;
  name: string | null;
  title: string;
  description: string | null;
  /** The rule's `vi:` wording (title, description, runbook), where it has one. */
  vi: { title?: string; description?: string; runbook?: string } | null;
  kind: 'detection' | 'correlation';
  level: Level;
  /** Four-layer model (1-4); a rule without `layer` gets 1 and lint says so. */
  layer: number;
  status: string | null;
  logsource: Logsource;
  response: ResponseSpec;
  tags: string[];
  file: string;
  line: number;
}

export interface Logsource {
  category?: string;
  product?: string;
  service?: string;
}

export interface ResponseSpec {
  runbook: string | null;
  /** Not acknowledged by then: escalate to the next layer. */
  escalateAfterMs: number | null;
  shareNational: boolean;
}

export interface RuleMatch {
  rule: RuleInfo;
  /** Ids of the correlation rules this match feeds (feed them with CorrelationEngine.feed). */
  correlations: string[];
  /**
   * Whether the match is an alert of its own. False when the rule only exists to feed correlations
   * that did not ask for `generate: true` (Sigma correlation specification, "generate").
   */
  alert: boolean;
}
