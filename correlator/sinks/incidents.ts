import type { BusProducer } from '../../shared/bus/types.ts';
import type { Alert, Incident, IncidentChange } from '../../shared/incident.ts';
import type { Logger } from '../../shared/log.ts';
import type { IncidentStore } from '../../shared/store/types.ts';
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
  ) {}

  private key(a: Alert): string {
    return `${a.rule.id}\u0000${a.group_key}\u0000${a.drill ?? ''}`;
  }

  private async current(a: Alert): Promise<Incident | null> {
    const key = this.key(a);
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.fetchedAt < CACHE_TTL_MS) return hit.incident;
    const found = hit ? await this.store.getIncident(hit.incident.id) : await this.store.latestIncident(a.rule.id, a.group_key, a.drill);
    if (found) this.remember(key, found);
    return found;
  }

  private remember(key: string, incident: Incident): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.delete(key);
    this.cache.set(key, { incident, fetchedAt: Date.now() });
  }

  /** Writes the alerts and their incidents; resolves once the store and the topic acknowledged. */
  async write(pending: PendingAlert[]): Promise<{ alerts: number; created: number; updated: number }> {
    if (pending.length === 0) return { alerts: 0, created: 0, updated: 0 };
    const changes = new Map<string, IncidentChange>();
    let created = 0;
    let updated = 0;
    for (const p of pending) {
      const now = this.clock();
      const cur = await this.current(p.alert);
      const outcome = foldAlert(cur, p.alert, p.response, p.position, this.policy, now);
      if (outcome.kind === 'skipped') {
        p.alert.incident_id = cur!.id;
        continue;
      }
      p.alert.incident_id = outcome.incident.id;
      const res = await this.store.upsertIncident(outcome.incident);
      this.remember(this.key(p.alert), res.incident);
      if (res.created) created++;
      else updated++;
      if (res.changed) {
        changes.set(res.incident.id, { type: res.created ? 'created' : 'updated', at: now.toISOString(), incident: res.incident });
      }
    }
    await this.store.writeAlerts(pending.map((p) => p.alert));
    await this.producer.send(
      this.incidentsTopic,
      [...changes.values()].map((c) => ({ key: c.incident.id, value: JSON.stringify(c) })),
    );
    this.log.debug({ alerts: pending.length, created, updated }, 'alerts written');
    return { alerts: pending.length, created, updated };
  }
}
