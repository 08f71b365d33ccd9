import type { RuleInfo } from '../model.ts';
import type { RuleSet } from '../ruleset.ts';
import { createAggregate, type Aggregate, type WindowItem } from './aggregate.ts';
import type { CorrelationDef } from './definition.ts';
import { isLowerBoundOnly, satisfies } from './threshold.ts';

export type EventRef = unknown;

export interface CorrelationHit {
  rule: RuleInfo;
  /** group-by name -> value; {} without group-by. */
  group: Record<string, string>;
  /** The refs of the events in the window, oldest first (at most `maxRefs`). */
  refs: EventRef[];
  eventCount: number;
  /** The measure the condition held for (count, distinct count, sum, average, percentile, median). */
  value: number;
  windowStart: number;
  windowEnd: number;
  /** False when the correlation only feeds another correlation that did not ask for `generate: true`. */
  alert: boolean;
}

export interface EngineOptions {
  /** How far behind the newest event time an event may arrive and still count. */
  allowedLatenessMs?: number;
  /** Refs kept in a hit (the window may hold more events). */
  maxRefs?: number;
  /** Events kept per group and correlation; beyond, the oldest are dropped and counted. */
  maxEventsPerGroup?: number;
}

export interface EngineStats {
  /** Events that arrived later than the allowed lateness: not counted in any window. */
  late: number;
  /** Events without a value for a group-by field: not grouped. */
  missingGroup: number;
  /** Events dropped because a group's window was full. */
  overflow: number;
  /** Events waiting for the watermark to pass them. */
  pending: number;
  groups: number;
}

interface Pending extends WindowItem {
  correlationId: string;
  groupKey: string;
  group: Record<string, string>;
}

interface GroupState {
  group: Record<string, string>;
  items: WindowItem[];
  agg: Aggregate;
}

interface FlatlineGroup {
  group: Record<string, string>;
  lastSeen: number | null;
  lastRefs: EventRef[];
  reported: boolean;
}

interface CorrelationState {
  def: CorrelationDef;
  groups: Map<string, GroupState>;
  flatline: Map<string, FlatlineGroup>;
  /** No window closes (no flatline is due) before this event time: watermark moves below it skip the sweep. */
  due: number;
}

/**
 * Sigma correlations on event time. Events are processed in event-time order: an event waits until the
 * watermark (the newest event time minus the allowed lateness, or what `advance` said) reaches it, so
 * the result does not depend on how fast or in which order events arrived within the lateness.
 *
 * Windows: events a and b share a window when |a - b| <= timespan (exactly at the timespan is inside).
 * - A condition with only lower bounds (gt, gte; temporal) is checked on the window ending at each
 *   event, and fires as soon as it holds.
 * - A condition with an upper bound (lt, lte, eq, neq) is checked on the window that starts at the
 *   oldest event, once the watermark has passed its end; when it does not hold, the window slides to
 *   start at the next event.
 * After a hit the window's events are consumed, so one burst gives one hit.
 * flatline (extension): a group that saw no event for more than the timespan, checked as the watermark
 * advances; its groups are those seen plus the hosts of the asset register.
 */
export class CorrelationEngine {
  private states = new Map<string, CorrelationState>();
  private pending: Pending[] = [];
  private seq = 0;
  private maxSeen = -Infinity;
  private mark = -Infinity;
  private origin: number | null = null;
  private readonly counters = { late: 0, missingGroup: 0, overflow: 0 };
  private readonly lateness: number;
  private readonly maxRefs: number;
  private readonly maxEvents: number;

  constructor(
    private ruleset: RuleSet,
    opts: EngineOptions = {},
  ) {
    this.lateness = opts.allowedLatenessMs ?? 0;
    this.maxRefs = opts.maxRefs ?? 1000;
    this.maxEvents = opts.maxEventsPerGroup ?? 100_000;
    this.setRuleSet(ruleset);
  }

  /** The event time before which events count as late. */
  get watermark(): number {
    return this.mark;
  }

  get stats(): EngineStats {
    let groups = 0;
    for (const s of this.states.values()) groups += s.groups.size + s.flatline.size;
    return { ...this.counters, pending: this.pending.length, groups };
  }

  /**
   * Swaps in a new rule set (hot reload). Correlations whose definition did not change keep their open
   * windows; changed or removed ones start afresh.
   */
  setRuleSet(ruleset: RuleSet): void {
    const next = new Map<string, CorrelationState>();
    for (const [id, def] of ruleset.correlations) {
      const old = this.states.get(id);
      next.set(id, old && old.def.fingerprint === def.fingerprint ? { ...old, def } : { def, groups: new Map(), flatline: new Map(), due: -Infinity });
      if (def.type === 'flatline') this.seedFlatline(next.get(id)!);
    }
    this.ruleset = ruleset;
    this.states = next;
    this.pending = this.pending.filter((p) => next.has(p.correlationId));
  }

  /**
   * An event that `ruleId` matched, at its event time. Feeds every correlation the rule feeds (or only
   * `correlationId`, for an instance that owns that correlation's partition). Returns the hits that
   * became certain.
   */
  feed(ruleId: string, event: unknown, eventTimeMs: number, ref: EventRef, correlationId?: string): CorrelationHit[] {
    const targets = correlationId ? [correlationId] : this.ruleset.correlationsFedBy(ruleId);
    if (targets.length === 0) return [];
    this.origin ??= eventTimeMs;
    if (eventTimeMs < this.mark) {
      this.counters.late++;
      return [];
    }
    for (const cid of targets) {
      const state = this.states.get(cid);
      if (!state?.def.rules.includes(ruleId)) continue;
      const group = this.ruleset.groupKeyFor(cid, ruleId, event);
      if (!group) {
        this.counters.missingGroup++;
        continue;
      }
      const reader = state.def.fieldReaders.get(ruleId);
      this.enqueue({ correlationId: cid, groupKey: groupKeyOf(this.canonicalGroup(state.def, group)), group, t: eventTimeMs, seq: this.seq++, ruleId, refs: [ref], value: reader ? reader(event) : undefined });
    }
    if (eventTimeMs > this.maxSeen) this.maxSeen = eventTimeMs;
    return this.process(Math.max(this.mark, this.maxSeen - this.lateness));
  }

  /** Moves the watermark (no events before it will come): closes windows, evaluates flatlines. */
  advance(watermarkMs: number): CorrelationHit[] {
    this.origin ??= watermarkMs;
    return this.process(Math.max(this.mark, watermarkMs));
  }

  /** End of input (`rules test`, a finished replay): processes everything and closes every window; no flatline. */
  flush(): CorrelationHit[] {
    const hits = this.process(Math.max(this.mark, this.maxSeen), false);
    for (const state of this.states.values()) {
      // Lower bounds were checked on every event already; only windows waiting for their end remain.
      if (state.def.type === 'flatline' || isLowerBoundOnly(state.def.threshold)) continue;
      for (const [key, g] of state.groups) hits.push(...this.closeWindows(state, key, g, Infinity));
    }
    return hits;
  }

  private enqueue(p: Pending): void {
    const q = this.pending;
    let i = q.length;
    while (i > 0 && (q[i - 1]!.t > p.t || (q[i - 1]!.t === p.t && q[i - 1]!.seq > p.seq))) i--;
    q.splice(i, 0, p);
  }

  private process(watermark: number, flatlines = true): CorrelationHit[] {
    this.mark = watermark;
    const hits: CorrelationHit[] = [];
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.t <= watermark) n++;
    const ready = this.pending.splice(0, n);
    for (const p of ready) this.apply(p, hits);
    for (const state of this.states.values()) {
      if (watermark <= state.due) continue;
      if (state.def.type === 'flatline') {
        if (flatlines) this.checkFlatline(state, watermark, hits);
      } else if (!isLowerBoundOnly(state.def.threshold)) {
        let due = Infinity;
        for (const [key, g] of state.groups) {
          hits.push(...this.closeWindows(state, key, g, watermark));
          if (g.items.length) due = Math.min(due, g.items[0]!.t + state.def.timespanMs);
        }
        state.due = due;
      } else {
        state.due = Infinity;
      }
    }
    return hits;
  }

  /** One event into its correlation's group; chained correlations get the resulting hits at once. */
  private apply(p: Pending, hits: CorrelationHit[]): void {
    const state = this.states.get(p.correlationId);
    if (!state) return;
    const def = state.def;
    const own: CorrelationHit[] = [];
    if (def.type === 'flatline') {
      const f = this.flatlineGroup(state, p.groupKey, p.group);
      if (f.lastSeen === null || p.t >= f.lastSeen) {
        f.lastSeen = p.t;
        f.lastRefs = p.refs;
        f.reported = false;
        state.due = Math.min(state.due, p.t + def.timespanMs);
      }
      return;
    }
    let g = state.groups.get(p.groupKey);
    if (!g) {
      g = { group: p.group, items: [], agg: createAggregate(def.type, def.rules, def.percentile) };
      state.groups.set(p.groupKey, g);
    }
    if (isLowerBoundOnly(def.threshold)) {
      while (g.items.length && g.items[0]!.t < p.t - def.timespanMs) g.agg.remove(g.items.shift()!);
      this.push(g, p);
      const v = g.agg.measure(g.items);
      if (satisfies(def.threshold, v)) {
        own.push(this.hit(def, g.group, g.items, v, g.items[0]!.t, p.t));
        state.groups.delete(p.groupKey);
      }
    } else {
      own.push(...this.closeWindows(state, p.groupKey, g, p.t));
      if (!state.groups.has(p.groupKey)) state.groups.set(p.groupKey, g);
      this.push(g, p);
      state.due = Math.min(state.due, g.items[0]!.t + def.timespanMs);
    }
    for (const h of own) this.chain(def.info.id, h, hits);
  }

  private push(g: GroupState, item: WindowItem): void {
    g.items.push(item);
    g.agg.add(item);
    if (g.items.length > this.maxEvents) {
      g.agg.remove(g.items.shift()!);
      this.counters.overflow++;
    }
  }

  /** Evaluates, oldest first, the windows [start, start + timespan] that end before `limit`. */
  private closeWindows(state: CorrelationState, key: string, g: GroupState, limit: number): CorrelationHit[] {
    const def = state.def;
    const out: CorrelationHit[] = [];
    while (g.items.length && g.items[0]!.t + def.timespanMs < limit) {
      const start = g.items[0]!.t;
      const end = start + def.timespanMs;
      let k = 0;
      while (k < g.items.length && g.items[k]!.t <= end) k++;
      const window = g.items.slice(0, k);
      const agg = createAggregate(def.type, def.rules, def.percentile);
      for (const i of window) agg.add(i);
      const v = agg.measure(window);
      if (satisfies(def.threshold, v)) {
        out.push(this.hit(def, g.group, window, v, start, end));
        for (const i of g.items.splice(0, k)) g.agg.remove(i);
      } else {
        g.agg.remove(g.items.shift()!);
      }
    }
    if (g.items.length === 0) state.groups.delete(key);
    return out;
  }

  /** Records a hit and passes it on to the correlations that count this one (chaining). */
  private chain(correlationId: string, hit: CorrelationHit, hits: CorrelationHit[]): void {
    hits.push(hit);
    for (const outer of this.ruleset.correlationsFedBy(correlationId)) {
      const state = this.states.get(outer);
      if (!state) continue;
      const group = this.ruleset.groupKeyFor(outer, correlationId, hit.group);
      if (!group) {
        this.counters.missingGroup++;
        continue;
      }
      const reader = state.def.fieldReaders.get(correlationId);
      this.apply(
        {
          correlationId: outer,
          groupKey: groupKeyOf(this.canonicalGroup(state.def, group)),
          group,
          t: hit.windowEnd,
          seq: this.seq++,
          ruleId: correlationId,
          refs: hit.refs,
          value: reader ? reader(hit.group) : hit.value,
        },
        hits,
      );
    }
  }

  private hit(def: CorrelationDef, group: Record<string, string>, items: readonly WindowItem[], value: number, start: number, end: number): CorrelationHit {
    const refs: EventRef[] = [];
    let count = 0;
    for (const i of items) {
      count += i.refs.length;
      for (const r of i.refs) if (refs.length < this.maxRefs) refs.push(r);
    }
    return { rule: def.info, group, refs, eventCount: count, value, windowStart: start, windowEnd: end, alert: this.ruleset.alerts(def.info.id) };
  }

  /** Flatline groups are keyed by the asset's registered name, so "web01" and "WEB01.tinh.gov.vn" are one host. */
  private canonicalGroup(def: CorrelationDef, group: Record<string, string>): Record<string, string> {
    if (def.type !== 'flatline' || def.groupBy.length !== 1) return group;
    const name = def.groupBy[0]!;
    const asset = this.ruleset.context.assets.lookup(group[name]!);
    return asset ? { [name]: asset.host } : group;
  }

  private flatlineGroup(state: CorrelationState, key: string, group: Record<string, string>): FlatlineGroup {
    let f = state.flatline.get(key);
    if (!f) {
      f = { group: this.canonicalGroup(state.def, group), lastSeen: null, lastRefs: [], reported: false };
      state.flatline.set(key, f);
    }
    return f;
  }

  private seedFlatline(state: CorrelationState): void {
    const [name] = state.def.groupBy;
    if (name === undefined) {
      this.flatlineGroup(state, groupKeyOf({}), {});
      return;
    }
    for (const host of this.ruleset.context.assets.hosts()) this.flatlineGroup(state, groupKeyOf({ [name]: host }), { [name]: host });
  }

  private checkFlatline(state: CorrelationState, watermark: number, hits: CorrelationHit[]): void {
    if (this.origin === null) return;
    const span = state.def.timespanMs;
    let due = Infinity;
    for (const f of state.flatline.values()) {
      if (f.reported) continue;
      const since = f.lastSeen ?? this.origin;
      if (watermark - since <= span) due = Math.min(due, since + span);
      else {
        f.reported = true;
        const hit: CorrelationHit = {
          rule: state.def.info,
          group: f.group,
          refs: f.lastRefs.slice(0, this.maxRefs),
          eventCount: 0,
          value: 0,
          windowStart: since,
          windowEnd: since + span,
          alert: this.ruleset.alerts(state.def.info.id),
        };
        this.chain(state.def.info.id, hit, hits);
      }
    }
    state.due = due;
  }
}

function groupKeyOf(group: Record<string, string>): string {
  return JSON.stringify(Object.keys(group).sort().map((k) => [k, group[k]]));
}
