import type { BusProducer } from '../../shared/bus/types.ts';
import type { Alert, Incident, IncidentChange, ProvisionalAlert, SettledIncident } from '../../shared/incident.ts';
import type { Logger } from '../../shared/log.ts';
import { IncidentNotFoundError, incidentKeyOf, type IncidentStore, type UpsertResult } from '../../shared/store/types.ts';
import { TimeSlice } from '../../shared/time-slice.ts';
import type { CorrelatorMetrics } from '../metrics.ts';
import { foldAlert, type AlertPosition, type IncidentPolicy, type RuleResponse } from '../incidents/grouping.ts';

/**
 * What an alert is to its incident (correlator/stages/correlate.ts tells early firing): absent, an
 * ordinary alert; early, counted provisionally; confirm, the ordered evaluation reached the early alert
 * of the same id; retract, the ordered evaluation did not reach it.
 */
export type AlertPhase = 'early' | 'confirm' | 'retract';

/** An alert on its way out, with what the incident needs that the alert document does not carry. */
export interface PendingAlert {
  alert: Alert;
  response: RuleResponse;
  position: AlertPosition;
  phase?: AlertPhase;
}

/** An incident without its provisional part: what the confirmed alerts alone made it. */
function settledOf(i: Incident | null): SettledIncident | null {
  if (!i) return null;
  if (i.provisional) return i.provisional.settled;
  const { provisional: _p, withdrawn: _w, ...settled } = i;
  return settled;
}

/** The settled incident with the early alerts folded on top, in the order they came, each at its own time. */
function displayed(settled: SettledIncident | null, early: ProvisionalAlert[], policy: IncidentPolicy): Incident | null {
  let cur: Incident | null = settled;
  for (const p of early) {
    const outcome = foldAlert(cur, p.alert, p.response, p.position, policy, new Date(p.at));
    if (outcome.kind !== 'skipped') cur = outcome.incident;
  }
  if (!cur || !early.length) return cur;
  return { ...cur, provisional: { settled, alerts: early } };
}

/** What an alert of an incident needs to be folded again; its events stay in its own document. */
function slim(a: Alert): Alert {
  return { ...a, events: [], event_ids: [] };
}

/** The fields the correlator owns, from `ours`, on the stored copy (responders' fields kept). */
function correlatorView(stored: Incident, ours: Incident): Incident {
  return {
    ...stored,
    severity: ours.severity,
    unit: ours.unit,
    host: ours.host,
    first_seen: ours.first_seen,
    last_seen: ours.last_seen,
    alert_count: ours.alert_count,
    applied: ours.applied,
    provisional: ours.provisional,
  };
}

interface Cached {
  incident: Incident;
  fetchedAt: number;
}

/** Responders change status on the console; a cached copy older than this is read again. */
const CACHE_TTL_MS = 5000;
const CACHE_MAX = 50_000;

/**
 * Alerts to incidents to the store and soc.incidents. Alerts of one key arrive in order from one
 * partition, so the fold sees them in the same order on a replay and yields the same incidents.
 */
export class IncidentSink {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: IncidentStore,
    private readonly producer: BusProducer,
    private readonly incidentsTopic: string,
    private readonly policy: IncidentPolicy,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
    private readonly metrics?: Pick<CorrelatorMetrics, 'incidents' | 'sinkSeconds'>,
  ) {}

  private key(a: Alert): string {
    return incidentKeyOf(a.rule.id, a.group_key, a.drill);
  }

  private remember(key: string, incident: Incident): void {
    const now = Date.now();
    // Oldest first (each entry is re-inserted when refreshed): what is past its time to live is read again
    // anyway, so it goes now rather than staying until the cache is full (a flood of many keys, then calm).
    for (const [k, c] of this.cache) {
      if (this.cache.size < CACHE_MAX && now - c.fetchedAt < CACHE_TTL_MS) break;
      this.cache.delete(k);
    }
    this.cache.delete(key);
    this.cache.set(key, { incident, fetchedAt: now });
  }

  private forget(key: string): void {
    this.cache.delete(key);
  }

  /** The latest incident of the alert's key that was not withdrawn (a withdrawn one is newest when it outlived its successor's start). */
  private async latestStanding(a: Alert): Promise<Incident | null> {
    const page = await this.store.searchIncidents({ rule: a.rule.id, group_key: a.group_key, drill: a.drill ?? 'none', size: 50 });
    const standing = page.incidents.filter((i) => !i.withdrawn).sort((x, y) => Date.parse(y.last_seen) - Date.parse(x.last_seen) || x.id.localeCompare(y.id));
    return standing[0] ?? null;
  }

  /** The current incident of every key the alerts name: cached ones, the rest read fresh in one round trip. */
  private async currentOf(pending: PendingAlert[]): Promise<Map<string, Incident | null>> {
    const current = new Map<string, Incident | null>();
    const misses: Alert[] = [];
    for (const { alert } of pending) {
      const key = this.key(alert);
      if (current.has(key)) continue;
      const hit = this.cache.get(key);
      if (hit && Date.now() - hit.fetchedAt < CACHE_TTL_MS) current.set(key, hit.incident);
      else {
        current.set(key, null);
        misses.push(alert);
      }
    }
    if (!misses.length) return current;
    const found = await this.store.latestIncidents(misses.map((a) => ({ ruleId: a.rule.id, groupKey: a.group_key, drill: a.drill })));
    for (const [k, incident] of found.entries()) if (incident?.withdrawn) found[k] = await this.latestStanding(misses[k]!);
    misses.forEach((a, k) => {
      const incident = found[k] ?? null;
      current.set(this.key(a), incident);
      if (incident) this.remember(this.key(a), incident);
    });
    return current;
  }

  /**
   * Writes the alerts and their incidents; resolves once the store and the topic acknowledged. The alerts
   * fold in order into the incidents in memory, and each incident is stored once, in its final state.
   *
   * Early alerts (correlator/stages/correlate.ts) are folded provisionally: the incident keeps what the
   * confirmed alerts alone made it (`provisional.settled`) and shows the early alerts on top. A
   * confirmation folds the alert into the settled incident at the time it was first counted, so the
   * incident ends exactly as if the alert had come from the ordered evaluation; a retraction drops it,
   * marks its document, and an incident only it raised is withdrawn (visibly, on soc.incidents).
   */
  async write(pending: PendingAlert[]): Promise<{ alerts: number; created: number; updated: number }> {
    if (pending.length === 0) return { alerts: 0, created: 0, updated: 0 };
    const acknowledged = this.metrics?.sinkSeconds.startTimer({ sink: 'incidents' });
    const current = await this.currentOf(pending);
    const before = new Map(current);
    const folded = new Map<string, Incident>();
    /** Keys whose incident lost an early alert: stored by replacing the correlator's fields, not merging. */
    const shrunk = new Set<string>();
    /** Keys whose incident shows an early alert the ordered evaluation changed: stored by replacing too. */
    const corrected = new Set<string>();
    /** Ids the confirmed alerts gave incidents: an incident outside them existed only provisionally. */
    const settledIds = new Set<string>();
    const retracted: Alert[] = [];
    const now = this.clock();
    // In time slices: folding hundreds of alerts held `canhgac start` for up to half a second. The alerts
    // of one key come from one partition, one batch after the other, so nothing else folds them meanwhile.
    const slice = new TimeSlice();
    for (const p of pending) {
      if (slice.due()) await slice.next();
      const key = this.key(p.alert);
      const cur = current.get(key) ?? null;
      let settled = settledOf(cur);
      if (settled) settledIds.add(settled.id);
      let early = cur?.provisional?.alerts ?? [];
      const counted = !!settled && `alert:${p.alert.id}` in settled.applied;
      if (p.phase === 'early') {
        if (counted || early.some((e) => e.alert.id === p.alert.id)) {
          p.alert.incident_id = cur!.id;
          continue;
        }
        early = [...early, { alert: slim(p.alert), response: p.response, position: p.position, at: now.toISOString() }];
      } else if (p.phase === 'retract') {
        const left = early.filter((e) => e.alert.id !== p.alert.id);
        // Not outstanding: retracted before, or the ordered evaluation wrote this id itself.
        if (left.length === early.length) {
          if (!counted) retracted.push(p.alert);
          continue;
        }
        early = left;
        shrunk.add(key);
        retracted.push(p.alert);
        // The retracted alert stays with the incident it was shown in.
        p.alert.incident_id = before.get(key)?.id ?? cur?.id ?? '';
      } else {
        const raised = early.find((e) => e.alert.id === p.alert.id);
        early = early.filter((e) => e !== raised);
        // The same id with other content (a late line moved the window's end): the ordered evaluation
        // corrects the early alert in place, on the incident it raised (named after the alert's id).
        if (raised && (p.phase !== 'confirm' || !foldsAlike(raised.alert, p.alert))) corrected.add(key);
        // Counted at the time it was raised, as the incident has shown it since.
        const outcome = foldAlert(settled, p.alert, p.response, p.position, this.policy, raised ? new Date(raised.at) : now);
        if (outcome.kind !== 'skipped') settled = outcome.incident;
        if (settled) settledIds.add(settled.id);
      }
      const next = displayed(settled, early, this.policy);
      current.set(key, next);
      if (next) folded.set(next.id, next);
      if (p.phase !== 'retract') p.alert.incident_id = next?.id ?? cur?.id ?? '';
    }
    // An incident this write raised on early alerts alone and then dropped (the batch that raised them
    // also retracted or corrected them) was never stored nor shown: it is not written.
    const standing = new Set([...current.values()].map((i) => i?.id));
    for (const id of folded.keys()) if (!standing.has(id) && !settledIds.has(id) && ![...before.values()].some((b) => b?.id === id)) folded.delete(id);
    const withdrawn: Incident[] = [];
    const replace: { incident: Incident; note: string }[] = [];
    for (const [key, was] of before) {
      if (!was || was.withdrawn) continue;
      const is = current.get(key);
      if (is?.id !== was.id && !settledIds.has(was.id)) withdrawn.push(was);
      else if (is && (shrunk.has(key) || corrected.has(key))) replace.push({ incident: is, note: shrunk.has(key) ? RETRACTED : CORRECTED });
    }
    const results = await this.replaceOrWithdraw(replace, withdrawn, now);
    const done = new Set([...results.map((r) => r.incident.id), ...withdrawn.map((w) => w.id)]);
    results.push(...(await this.store.upsertIncidents([...folded.values()].filter((i) => !done.has(i.id)))));
    // What was just written is as fresh as a read: the store merged in what responders changed.
    const stored = new Map(results.map((r) => [r.incident.id, r.incident]));
    for (const [key, incident] of current) {
      const written = incident && stored.get(incident.id);
      if (written && !written.withdrawn) this.remember(key, written);
      else if (!incident) this.forget(key);
    }
    const at = now.toISOString();
    const changes: IncidentChange[] = results.filter((r) => r.changed).map((r) => ({ type: r.created ? 'created' : 'updated', at, incident: r.incident }));
    const retractedIds = new Set(retracted.map((a) => a.id));
    await this.store.writeAlerts([
      ...pending.filter((p) => p.phase !== 'retract' && !retractedIds.has(p.alert.id)).map((p) => p.alert),
      ...retracted.map((a) => ({ ...a, retracted: { at, reason: RETRACTED } })),
    ]);
    await this.producer.send(
      this.incidentsTopic,
      changes.map((c) => ({ key: c.incident.id, value: JSON.stringify(c) })),
    );
    acknowledged?.();
    const created = results.filter((r) => r.created).length;
    this.metrics?.incidents.inc({ change: 'created' }, created);
    this.metrics?.incidents.inc({ change: 'updated' }, changes.length - created);
    if (retracted.length) this.log.info({ alerts: retracted.map((a) => a.id), withdrawn: withdrawn.map((w) => w.id) }, 'early alerts retracted');
    this.log.debug({ alerts: pending.length, created, updated: results.length - created }, 'alerts written');
    return { alerts: pending.length, created, updated: results.length - created };
  }

  /**
   * Incidents that lost early alerts: `replace` keep their id and take the correlator's fields as they
   * are now (a merge would keep the larger counts); `withdrawn` were raised only by retracted alerts and
   * leave the queues, marked, with a line in their timeline. One not stored yet is simply not written.
   */
  private async replaceOrWithdraw(replace: { incident: Incident; note: string }[], withdrawn: Incident[], now: Date): Promise<UpsertResult[]> {
    const out: UpsertResult[] = [];
    const at = now.toISOString();
    for (const { incident: ours, note } of replace) {
      const line = { at, actor: 'canhgac', action: note === RETRACTED ? 'retract' : 'correct', note: `${note}; ${ours.alert_count} alert(s) remain` };
      try {
        const r = await this.store.updateIncident(ours.id, (stored) => ({ ...correlatorView(stored, ours), timeline: [...stored.timeline, line] }), {
          now: () => now,
        });
        out.push({ incident: r.after, created: false, changed: r.changed });
      } catch (err) {
        if (!(err instanceof IncidentNotFoundError)) throw err;
        out.push(...(await this.store.upsertIncidents([ours])));
      }
    }
    for (const was of withdrawn) {
      try {
        const r = await this.store.updateIncident(
          was.id,
          (stored) => ({
            ...stored,
            status: stored.status === 'resolved' ? stored.status : 'false_positive',
            provisional: undefined,
            withdrawn: { at, reason: RETRACTED },
            timeline: [...stored.timeline, { at, actor: 'canhgac', action: 'withdraw', note: `${RETRACTED}; no alert of this incident remains` }],
          }),
          { now: () => now },
        );
        out.push({ incident: r.after, created: false, changed: r.changed });
      } catch (err) {
        if (!(err instanceof IncidentNotFoundError)) throw err;
      }
    }
    return out;
  }
}

const RETRACTED = 'raised early; the ordered evaluation of its window did not confirm it (events arrived out of order)';
const CORRECTED = 'raised early; the ordered evaluation of its window corrected it (events arrived out of order)';

/** Whether two versions of an alert fold into an incident the same way (foldAlert reads these fields). */
function foldsAlike(a: Alert, b: Alert): boolean {
  return a['@timestamp'] === b['@timestamp'] && a.severity === b.severity && a.unit === b.unit && a.host.join('\n') === b.host.join('\n');
}
