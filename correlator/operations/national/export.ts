import type { Bus, BusConsumer } from '../../../shared/bus/types.ts';
import { IncidentChangeSchema, type Incident } from '../../../shared/incident.ts';
import type { NationalConfig } from '../config.ts';
import { NATIONAL_EXPORT_ACTION, withReportDue } from '../deadlines.ts';
import { changeIncident, searchAll, SYSTEM_ACTOR, type Trail } from '../trail.ts';
import { TaxiiPush, type PushResult } from './push.ts';
import { qualifiesNational, type SecurityLevelOf } from './qualify.ts';
import { incidentBundle } from './stix.ts';
import { BundleSchema, type StixBundle } from './stix-schema.ts';

export interface ExporterOptions {
  trail: Trail;
  /** topicNames(prefix).national */
  nationalTopic: string;
  config: NationalConfig;
  securityLevelOf: SecurityLevelOf;
  reportDueMs: number;
  /** The HTTPS push; built from config.push when absent (tests pass one with a fake sleep). */
  push?: TaxiiPush | null;
}

/** An incident is exported when it first qualifies and once more when it is closed (the final account). */
type ExportState = 'open' | 'closed';
const stateOf = (i: Incident): ExportState => (i.status === 'resolved' || i.status === 'false_positive' ? 'closed' : 'open');

function exportedState(i: Incident): ExportState | null {
  for (let k = i.timeline.length - 1; k >= 0; k--) {
    const t = i.timeline[k]!;
    if (t.action === NATIONAL_EXPORT_ACTION) return (t.to as { state?: ExportState } | undefined)?.state ?? 'open';
  }
  return null;
}

export function needsExport(i: Incident, securityLevelOf: SecurityLevelOf): boolean {
  return qualifiesNational(i, securityLevelOf) && exportedState(i) !== stateOf(i);
}

export type ExportOutcome =
  | { kind: 'exported'; bundle: StixBundle; pushed: PushResult | null; incident: Incident }
  | { kind: 'skipped'; reason: 'not-found' | 'not-qualifying' | 'already-exported' };

/**
 * Layer 4: incidents that qualify (never drills) become STIX 2.1 bundles on soc.national and, when
 * configured, are pushed to the national centre's TAXII collection; each export is recorded in the
 * incident's timeline and the audit trail. Fed by soc.incidents (every change passes there) and by a
 * periodic sweep that retries what a failed push or a stopped exporter left behind.
 */
export class NationalExporter {
  private readonly push: TaxiiPush | null;
  private consumer?: BusConsumer;

  constructor(private readonly o: ExporterOptions) {
    this.push = o.push !== undefined ? o.push : o.config.push ? new TaxiiPush(o.config.push, o.trail.log.child({ national: 'push' })) : null;
  }

  /** Exports one incident if it needs it; a failed push throws (nothing is recorded, the sweep retries). */
  async exportIncident(id: string): Promise<ExportOutcome> {
    const { trail } = this.o;
    let incident = await trail.store.getIncident(id);
    if (!incident) return { kind: 'skipped', reason: 'not-found' };
    if (!qualifiesNational(incident, this.o.securityLevelOf)) return { kind: 'skipped', reason: 'not-qualifying' };
    if (!needsExport(incident, this.o.securityLevelOf)) return { kind: 'skipped', reason: 'already-exported' };
    if (incident.report_due === null) {
      // Critical incidents on level 3+ servers and escalations to layer 4 qualify without the rule saying so.
      incident =
        (await changeIncident(trail, id, 'report_due', (cur) => withReportDue(cur, this.o.securityLevelOf, this.o.reportDueMs, trail.now()))) ?? incident;
    }
    const alerts = await trail.store.alertsOf(id, { size: 100 });
    // Checked before it leaves: a bundle the centre would reject is a bug here, not a message there.
    const bundle = BundleSchema.parse(incidentBundle(incident, { identity: this.o.config.identity, tlp: this.o.config.tlp, alerts }));
    await trail.producer.send(this.o.nationalTopic, [{ key: incident.id, value: JSON.stringify(bundle) }]);
    const pushed = this.push ? await this.push.push(bundle) : null;
    const state = stateOf(incident);
    const after = await changeIncident(trail, id, NATIONAL_EXPORT_ACTION, (cur) => {
      if (exportedState(cur) === state) return null;
      return {
        ...cur,
        timeline: [
          ...cur.timeline,
          {
            at: trail.now().toISOString(),
            actor: SYSTEM_ACTOR,
            action: NATIONAL_EXPORT_ACTION,
            note: `STIX bundle ${bundle.id} to ${this.o.nationalTopic}${pushed ? `, pushed to the national centre (HTTP ${pushed.status})` : ''}`,
            to: { bundle: bundle.id, state, version: incident.version, pushed: pushed !== null },
          },
        ],
      };
    });
    return { kind: 'exported', bundle, pushed, incident: after ?? incident };
  }

  /** The sweep: every real incident that needs an export and has none yet. Returns how many were exported. */
  async exportPending(): Promise<{ exported: number; failed: number }> {
    const { incidents } = await searchAll(this.o.trail.store, { drill: 'none' });
    let exported = 0;
    let failed = 0;
    for (const i of incidents) {
      if (!needsExport(i, this.o.securityLevelOf)) continue;
      try {
        if ((await this.exportIncident(i.id)).kind === 'exported') exported++;
      } catch (err) {
        failed++;
        this.o.trail.log.warn({ incident: i.id, err: (err as Error).message }, 'national export failed; the next sweep retries');
      }
    }
    return { exported, failed };
  }

  /** Follows soc.incidents in its own consumer group and exports qualifying changes as they come. */
  async start(bus: Bus, groupId: string): Promise<void> {
    await bus.ensureTopics([{ topic: this.o.nationalTopic, partitions: 1 }]);
    const consumer = await bus.consumer({ groupId, topics: [this.o.trail.incidentsTopic], fromBeginning: false });
    this.consumer = consumer;
    await consumer.run(async (batch) => {
      const due = new Set<string>();
      for (const m of batch.messages) {
        const parsed = m.value === null ? null : IncidentChangeSchema.safeParse(safeJson(m.value));
        if (!parsed?.success) {
          this.o.trail.log.warn({ offset: m.offset, partition: m.partition }, 'unreadable message on the incidents topic; skipped');
          continue;
        }
        if (parsed.data.type !== 'purged' && needsExport(parsed.data.incident, this.o.securityLevelOf)) due.add(parsed.data.incident.id);
      }
      for (const id of due) {
        if (batch.isStale()) return;
        try {
          await this.exportIncident(id);
        } catch (err) {
          this.o.trail.log.warn({ incident: id, err: (err as Error).message }, 'national export failed; the sweep retries');
        }
        await batch.heartbeat();
      }
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
