import type { NormalizedEvent } from '../../shared/event.ts';
import type { RuleInfo, RuleMatch } from '../detection/model.ts';

/** What the pipeline stages need from the rule engine; the live rule set behind it may be hot-reloaded. */
export interface Detection {
  match(event: NormalizedEvent): RuleMatch[];
  /** The group-by fields of a correlation rule (empty: one group). */
  groupByFor(correlationId: string): string[];
  /** The longest correlation timespan: how far back a restart re-reads to rebuild windows. */
  maxTimespanMs(): number;
  /** Fresh correlation windows for one partition of the repartitioned stream. */
  newWindows(opts: { allowedLatenessMs: number }): Windows;
}

export interface WindowHit {
  rule: RuleInfo;
  group: Record<string, string>;
  /** Refs (event ids) of the events that made the correlation fire, in event-time order. */
  refs: string[];
  start: number;
  end: number;
}

export interface Windows {
  feed(correlationId: string, event: NormalizedEvent, eventTimeMs: number, ref: string): WindowHit[];
  advance(watermarkMs: number): WindowHit[];
  /** Events that arrived later than the allowed lateness, counted. */
  lateEvents(): number;
}

/** Asset register lookup: unit and security level (Decree 85/2016) of a host. */
export type AssetLookup = (host: string) => { unit?: string; securityLevel?: number } | undefined;
