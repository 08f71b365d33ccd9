import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Incident } from '../../shared/incident.ts';
import { MAX_RESULT_WINDOW, type IncidentFilter, type IncidentStore } from '../../shared/store/types.ts';
import type { ConsoleContext } from '../context.ts';
import { schemaOf } from '../validation.ts';

const HandoverQuery = z
  .object({
    since: z.iso.datetime({ offset: true }),
    drill: z.string().min(1).default('none'),
  })
  .strict();

/** Every incident a filter matches, page by page up to the store's result window. */
async function all(store: IncidentStore, filter: IncidentFilter): Promise<Incident[]> {
  const size = 500;
  const out: Incident[] = [];
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchIncidents({ ...filter, page, size });
    out.push(...res.incidents);
    if (out.length >= res.total || res.incidents.length < size) break;
  }
  return out;
}

/**
 * GET /api/handover: the shift summary a responder hands over. What came in since a time, what is still
 * open, and which open incidents are past their acknowledge or report deadline now.
 */
export const handoverRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.get<{ Querystring: z.infer<typeof HandoverQuery> }>(
    '/api/handover',
    {
      preHandler: ctx.guard.requireRole('viewer'),
      schema: { querystring: schemaOf(HandoverQuery), tags: ['incidents'], summary: 'Shift summary: came in, open and overdue since a time' },
    },
    async (request) => {
      const { since, drill } = request.query;
      const now = Date.now();
      const [active, open] = await Promise.all([all(ctx.store, { from: since, drill }), all(ctx.store, { status: ['new', 'acknowledged'], drill })]);
      const cameIn = active.filter((i) => Date.parse(i.first_seen) >= Date.parse(since));
      const due = (i: Incident) => (i.status === 'new' && i.ack_due ? Date.parse(i.ack_due) : null) ?? (i.report_due ? Date.parse(i.report_due) : null);
      const overdue = open.filter((i) => {
        const d = due(i);
        return d !== null && d < now;
      });
      return { since, generated_at: new Date(now).toISOString(), came_in: cameIn, open, overdue };
    },
  );
};
