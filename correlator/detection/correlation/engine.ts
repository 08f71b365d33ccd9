import { EventQueue } from './event-queue.ts';
import type { RuleInfo } from '../model.ts';
import type { RuleSet } from '../ruleset.ts';
import { createAggregate, type Aggregate, type WindowItem } from './aggregate.ts';
import type { CorrelationDef } from './definition.ts';
import { toNumber } from '../modifiers/compare.ts';
import { isLowerBoundOnly, satisfies } from './threshold.ts';

export type EventRef = unknown;

/**
 * What a hit is to whoever writes alerts. final: the ordered evaluation's hit, never raised early.
 * early: raised on arrival, before the watermark passed it. confirm: the ordered evaluation reached the
 * same hit an early one announced (same window, same events). retract: an early hit the ordered
 * evaluation did not reach, once the watermark passed its end.
 */
export type HitPhase = 'final' | 'early' | 'confirm' | 'retract';

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
  phase: HitPhase;
}

export interface EngineOptions {
  /** How far behind the newest event time an event may arrive and still count. */
  allowedLatenessMs?: number;
  /** Refs kept in a hit (the window may hold more events). */
  maxRefs?: number;
  /** Events kept per group and correlation; beyond, the oldest are dropped and counted. */
  maxEventsPerGroup?: number;
  /** Raise hits of conditions that can only become true as events arrive on arrival (class comment). */
  early?: boolean;
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
  /** Early hits raised and not yet confirmed or retracted. */
  outstanding: number;
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

/** One group's look ahead for early firing. */
interface EarlyGroup {
  /** This group's events not yet applied, in event-time order. */
  pending: Pending[];
  /** The ordered evaluation run on over applied + pending; null until (re)built. */
  ahead: { items: WindowItem[]; agg: Aggregate } | null;
  /** Early hits raised and not yet confirmed or retracted, by signature. */
  raised: Map<string, CorrelationHit>;
  /** A negative value_sum value: the sum can fall, so nothing of this group fires early. */
  negative: boolean;
}

interface CorrelationState {
  def: CorrelationDef;
  groups: Map<string, GroupState>;
  /** Look-ahead groups when the correlation fires early; null when it waits for the watermark. */
  early: Map<string, EarlyGroup> | null;
  flatline: Map<string, FlatlineGroup>;
  /** No window closes (no flatline is due) before this event time: watermark moves below it skip the sweep. */
  due: number;
}

/** Correlation types whose measure can only grow as events are added to a window. */
const GROWS = new Set(['event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum']);

/** What makes two hits the same alert: window, count and every event. */
function signature(h: CorrelationHit): string {
  return `${h.windowStart}\u0000${h.windowEnd}\u0000${h.eventCount}\u0000${h.refs.map(String).join('\u0001')}`;
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
 *
 * Early firing (option `early`). A correlation whose condition can only become true as events arrive
 * (lower bounds only, on event_count, value_count, temporal, temporal_ordered, or value_sum while its
 * values are not negative) runs the ordered evaluation ahead, on arrival, over the events applied plus
 * the events still waiting for the watermark, in event-time order: exactly what the ordered evaluation
 * will do if nothing older arrives. A hit found that way is raised at once (phase `early`). The ordered
 * evaluation stays the reference: when it reaches a hit with the same window and the same events, the
 * early hit is confirmed (phase `confirm`, the same hit again); when the watermark passes the end of an
 * early hit it did not reach, the early hit is retracted (phase `retract`). Only an event that arrives
 * after the early hit, older than its end, can make it wrong. The look ahead is a deterministic function
 * of the events in the order they are fed, so a replay of the same input raises, confirms and retracts
 * the same hits. Other conditions (upper bounds, averages, percentiles, medians, flatline) and
 * correlations that only feed other correlations wait for the watermark as before.
 */
export class CorrelationEngine {
  private states = new Map<string, CorrelationState>();
  private pending = new EventQueue<Pending>();
  private seq = 0;
  private maxSeen = -Infinity;
  private mark = -Infinity;
  private origin: number | null = null;
  private readonly counters = { late: 0, missingGroup: 0, overflow: 0 };
  private readonly lateness: number;
  private readonly maxRefs: number;
  private readonly maxEvents: number;
  private readonly earlyFiring: boolean;
  /** Early hits outstanding, and the earliest end among them (a watermark below it retracts nothing). */
  private outstanding = 0;
  private firstRaisedEnd = Infinity;
  /** Early hits of correlations a reload changed or removed: retracted with the next hits. */
  private orphaned: CorrelationHit[] = [];

  constructor(
    private ruleset: RuleSet,
    opts: EngineOptions = {},
  ) {
    this.lateness = opts.allowedLatenessMs ?? 0;
    this.maxRefs = opts.maxRefs ?? 1000;
    this.maxEvents = opts.maxEventsPerGroup ?? 100_000;
    this.earlyFiring = opts.early ?? false;
    this.setRuleSet(ruleset);
  }

  /** The event time before which events count as late. */
  get watermark(): number {
    return this.mark;
  }

  get stats(): EngineStats {
    let groups = 0;
    for (const s of this.states.values()) groups += s.groups.size + s.flatline.size;
    return { ...this.counters, pending: this.pending.size, groups, outstanding: this.outstanding };
  }

  /**
   * Swaps in a new rule set (hot reload). Correlations whose definition did not change keep their open
   * windows; changed or removed ones start afresh.
   */
  setRuleSet(ruleset: RuleSet): void {
    const next = new Map<string, CorrelationState>();
    for (const [id, def] of ruleset.correlations) {
      const old = this.states.get(id);
      const kept = old && old.def.fingerprint === def.fingerprint;
      const early =
        this.earlyFiring &&
        GROWS.has(def.type) &&
        isLowerBoundOnly(def.threshold) &&
        ruleset.alerts(id) &&
        def.rules.every((r) => !ruleset.correlations.has(r));
      next.set(id, {
        def,
        groups: kept ? old.groups : new Map(),
        flatline: kept ? old.flatline : new Map(),
        due: kept ? old.due : -Infinity,
        early: early ? ((kept ? old.early : null) ?? new Map()) : null,
      });
      if (def.type === 'flatline') this.seedFlatline(next.get(id)!);
    }
    for (const [id, old] of this.states) {
      if (!old.early || next.get(id)?.early === old.early) continue;
      for (const g of old.early.values()) for (const h of g.raised.values()) this.orphaned.push({ ...h, phase: 'retract' });
    }
    this.outstanding -= this.orphaned.length;
    this.ruleset = ruleset;
    this.states = next;
    this.pending.retain((p) => next.has(p.correlationId));
  }

  /**
   * An event that `ruleId` matched, at its event time. Feeds every correlation the rule feeds (or only
   * `correlationId`, for an instance that owns that correlation's partition). Returns the hits that
   * became certain.
   */
  feed(ruleId: string, event: unknown, eventTimeMs: number, ref: EventRef, correlationId?: string): CorrelationHit[] {
    const targets = correlationId ? [correlationId] : this.ruleset.correlationsFedBy(ruleId);
    if (targets.length === 0) return [];
    const early: CorrelationHit[] = [];
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
      const p: Pending = {
        correlationId: cid,
        groupKey: groupKeyOf(this.canonicalGroup(state.def, group)),
        group,
        t: eventTimeMs,
        seq: this.seq++,
        ruleId,
        refs: [ref],
        value: reader ? reader(event) : undefined,
      };
      this.pending.push(p);
      if (state.early) this.lookAhead(state, p, early);
    }
    if (eventTimeMs > this.maxSeen) this.maxSeen = eventTimeMs;
    const hits = this.process(Math.max(this.mark, this.maxSeen - this.lateness));
    return early.length ? [...early, ...hits] : hits;
  }

  /**
   * Runs the ordered evaluation of `p`'s group on over everything arrived (class comment): from where
   * it stopped when `p` is the group's newest event, from the applied state otherwise. Hits it finds for
   * the first time are raised early.
   */
  private lookAhead(state: CorrelationState, p: Pending, out: CorrelationHit[]): void {
    const def = state.def;
    let eg = state.early!.get(p.groupKey);
    if (!eg) state.early!.set(p.groupKey, (eg = { pending: [], ahead: null, raised: new Map(), negative: false }));
    const q = eg.pending;
    let i = q.length;
    while (i > 0 && (q[i - 1]!.t > p.t || (q[i - 1]!.t === p.t && q[i - 1]!.seq > p.seq))) i--;
    q.splice(i, 0, p);
    if (def.type === 'value_sum' && (toNumber(p.value) ?? 0) < 0) eg.negative = true;
    if (eg.negative) return;
    let steps: Pending[];
    if (eg.ahead && i === q.length - 1) steps = [p];
    else {
      const applied = state.groups.get(p.groupKey)?.items ?? [];
      if (def.type === 'value_sum' && applied.some((w) => (toNumber(w.value) ?? 0) < 0)) {
        eg.negative = true;
        return;
      }
      const agg = createAggregate(def.type, def.rules, def.percentile);
      for (const w of applied) agg.add(w);
      eg.ahead = { items: [...applied], agg };
      steps = q;
    }
    const ahead = eg.ahead!;
    for (const s of steps) {
      const v = this.stepLowerBound(def, ahead, s, true);
      if (v === null) continue;
      const hit = { ...this.hit(def, s.group, ahead.items, v, ahead.items[0]!.t, s.t), phase: 'early' as const };
      ahead.items = [];
      ahead.agg = createAggregate(def.type, def.rules, def.percentile);
      const sig = signature(hit);
      if (eg.raised.has(sig)) continue;
      eg.raised.set(sig, hit);
      this.outstanding++;
      this.firstRaisedEnd = Math.min(this.firstRaisedEnd, hit.windowEnd);
      out.push(hit);
    }
  }

  /**
   * One event into a lower-bound window, for the ordered evaluation and its look ahead alike: drops
   * what fell out of the timespan, adds the event, returns the measure when the condition holds.
   */
  private stepLowerBound(def: CorrelationDef, g: { items: WindowItem[]; agg: Aggregate }, p: WindowItem, ahead = false): number | null {
    while (g.items.length && g.items[0]!.t < p.t - def.timespanMs) g.agg.remove(g.items.shift()!);
    g.items.push(p);
    g.agg.add(p);
    if (g.items.length > this.maxEvents) {
      g.agg.remove(g.items.shift()!);
      if (!ahead) this.counters.overflow++;
    }
    const v = g.agg.measure(g.items);
    return satisfies(def.threshold, v) ? v : null;
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

  private process(watermark: number, flatlines = true): CorrelationHit[] {
    this.mark = watermark;
    const hits: CorrelationHit[] = this.orphaned;
    this.orphaned = [];
    const ready = this.pending.popUpTo(watermark);
    for (const p of ready) {
      const early = this.states.get(p.correlationId)?.early;
      const eg = early?.get(p.groupKey);
      this.apply(p, hits);
      if (!eg) continue;
      const at = eg.pending.indexOf(p);
      if (at === 0) eg.pending.shift();
      else eg.pending.splice(at, 1);
      // Nothing left to look ahead at: the next event starts again from the applied state.
      if (!eg.pending.length && !eg.raised.size) early!.delete(p.groupKey);
    }
    if (watermark >= this.firstRaisedEnd) this.retractPassed(watermark, hits);
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

  /** Early hits whose end the watermark passed without the ordered evaluation reaching them. */
  private retractPassed(watermark: number, hits: CorrelationHit[]): void {
    let first = Infinity;
    for (const state of this.states.values()) {
      if (!state.early) continue;
      for (const [key, eg] of state.early) {
        for (const [sig, h] of eg.raised) {
          if (h.windowEnd > watermark) first = Math.min(first, h.windowEnd);
          else {
            eg.raised.delete(sig);
            this.outstanding--;
            hits.push({ ...h, phase: 'retract' });
          }
        }
        if (!eg.raised.size && !eg.pending.length) state.early.delete(key);
      }
    }
    this.firstRaisedEnd = first;
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
      const v = this.stepLowerBound(def, g, p);
      if (v !== null) {
        const hit = this.hit(def, g.group, g.items, v, g.items[0]!.t, p.t);
        const eg = state.early?.get(p.groupKey);
        const sig = eg?.raised.size ? signature(hit) : '';
        if (eg?.raised.delete(sig)) {
          hit.phase = 'confirm';
          this.outstanding--;
        }
        own.push(hit);
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
    return {
      rule: def.info,
      group,
      refs,
      eventCount: count,
      value,
      windowStart: start,
      windowEnd: end,
      alert: this.ruleset.alerts(def.info.id),
      phase: 'final',
    };
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
          phase: 'final',
        };
        this.chain(state.def.info.id, hit, hits);
      }
    }
    state.due = due;
  }
}

function groupKeyOf(group: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(group)
      .sort()
      .map((k) => [k, group[k]]),
  );
}
