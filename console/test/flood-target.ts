// A console in a process of its own, for tests that measure its memory under attack: the in-memory bus,
// the embedded store in FLOOD_DATA, the users in FLOOD_USERS, FLOOD_INCIDENTS open incidents on the
// stream. Prints one JSON line with its address once it listens; stops on SIGTERM.
import { buildConsole } from '../app.ts';
import { MemoryBus } from '../../shared/bus/memory.ts';
import type { IncidentChange } from '../../shared/incident.ts';
import { createLogger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';

const count = Number(process.env.FLOOD_INCIDENTS ?? 1000);
const bus = new MemoryBus();
const store = new EmbeddedIncidentStore(process.env.FLOOD_DATA!);
await store.init();
const topic = 'soc.incidents';
const { app } = await buildConsole({
  store,
  bus,
  incidentsTopic: topic,
  usersFile: process.env.FLOOD_USERS!,
  rules: async () => ({ rules: [], unloaded: [] }),
  log: createLogger('flood-target', {}, 'warn'),
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
const producer = await bus.producer();
const now = Date.now();
const changes = Array.from({ length: count }, (_, n): IncidentChange => {
  const at = new Date(now - n * 1000).toISOString();
  // Incidents the size of real ones after a shift: a few hosts and a timeline of actions.
  const timeline = Array.from({ length: 6 }, (_, k) => ({
    at,
    actor: `responder-${k}`,
    action: 'comment',
    note: `checked host web-${n}-${k} against the asset register, nothing found yet`,
  }));
  const incident = incidentFixture({ id: `flood-${n}`, version: 1, first_seen: at, last_seen: at, host: [`web-${n}`, `db-${n}`, `app-${n}`], timeline });
  return { type: 'created', at, incident };
});
await producer.send(
  topic,
  changes.map((c) => ({ key: c.incident.id, value: JSON.stringify(c) })),
);
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
});
