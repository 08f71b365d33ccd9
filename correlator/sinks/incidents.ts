import type { BusProducer } from '../../shared/bus/types.ts';
import type { Alert, Incident, IncidentChange } from '../../shared/incident.ts';
import type { Logger } from '../../shared/log.ts';
import { incidentKeyOf, type IncidentStore } from '../../shared/store/types.ts';
import type { CorrelatorMetrics } from '../metrics.ts';
import { foldAlert, type AlertPosition, type IncidentPolicy, type RuleResponse } from '../incidents/grouping.ts';

/** An alert on its way out, with what the incident needs that the alert document does not carry. */
export interface PendingAlert {
  alert: Alert;
  response: RuleResponse;
  position: AlertPosition;
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
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.delete(key);
    this.cache.set(key, { incident, fetchedAt: Date.now() });
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
   */
  async write(pending: PendingAlert[]): Promise<{ alerts: number; created: number; updated: number }> {
    if (pending.length === 0) return { alerts: 0, created: 0, updated: 0 };
    const acknowledged = this.metrics?.sinkSeconds.startTimer({ sink: 'incidents' });
    const current = await this.currentOf(pending);
    const folded = new Map<string, Incident>();
    for (const p of pending) {
      const key = this.key(p.alert);
      const cur = current.get(key) ?? null;
      const outcome = foldAlert(cur, p.alert, p.response, p.position, this.policy, this.clock());
      if (outcome.kind === 'skipped') {
        p.alert.incident_id = cur!.id;
        continue;
      }
      p.alert.incident_id = outcome.incident.id;
      current.set(key, outcome.incident);
      folded.set(outcome.incident.id, outcome.incident);
    }
    const results = await this.store.upsertIncidents([...folded.values()]);
    // What was just written is as fresh as a read: the store merged in what responders changed.
    const stored = new Map(results.map((r) => [r.incident.id, r.incident]));
    for (const [key, incident] of current) {
      const written = incident && stored.get(incident.id);
      if (written) this.remember(key, written);
    }
    const at = this.clock().toISOString();
    const changes: IncidentChange[] = results.filter((r) => r.changed).map((r) => ({ type: r.created ? 'created' : 'updated', at, incident: r.incident }));
    await this.store.writeAlerts(pending.map((p) => p.alert));
    await this.producer.send(
      this.incidentsTopic,
      changes.map((c) => ({ key: c.incident.id, value: JSON.stringify(c) })),
    );
    acknowledged?.();
    const created = results.filter((r) => r.created).length;
    this.metrics?.incidents.inc({ change: 'created' }, created);
    this.metrics?.incidents.inc({ change: 'updated' }, changes.length - created);
    this.log.debug({ alerts: pending.length, created, updated: results.length - created }, 'alerts written');
    return { alerts: pending.length, created, updated: results.length - created };
  }
}
