import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { IncidentFilterSchema, type IncidentFilter } from '../../shared/store/types.ts';
import type { ConsoleContext } from '../context.ts';
import { schemaOf } from '../validation.ts';

export const IncidentParams = z.object({ id: z.string().min(1).max(256) }).strict();
const HistogramQuery = z
  .object({
    minutes: z.coerce.number().int().min(5).max(1440).default(60),
    drill: z.string().min(1).optional(),
  })
  .strict();

/** GET /api/incidents (search), GET /api/incidents/:id (with alerts and events), GET /api/alerts/histogram. */
export const incidentRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  const viewer = ctx.guard.requireRole('viewer');

  app.get<{ Querystring: IncidentFilter }>(
    '/api/incidents',
    {
      preHandler: viewer,
      schema: { querystring: schemaOf(IncidentFilterSchema), tags: ['incidents'], summary: 'Search incidents (paged, newest activity first)' },
    },
    async (request) => ctx.store.searchIncidents(request.query),
  );

  app.get<{ Params: z.infer<typeof IncidentParams> }>(
    '/api/incidents/:id',
    {
      preHandler: viewer,
      schema: { params: schemaOf(IncidentParams), tags: ['incidents'], summary: 'One incident with its alerts and their triggering events' },
    },
    async (request, reply) => {
      const incident = await ctx.store.getIncident(request.params.id);
      if (!incident) return reply.code(404).send({ error: 'not_found', message: `incident ${request.params.id} not found` });
      const alerts = await ctx.store.alertsOf(incident.id);
      const events = alerts.flatMap((a) => a.events.map((event) => ({ alert_id: a.id, event })));
      return { incident, alerts, events };
    },
  );

  app.get<{ Querystring: z.infer<typeof HistogramQuery> }>(
    '/api/alerts/histogram',
    { preHandler: viewer, schema: { querystring: schemaOf(HistogramQuery), tags: ['incidents'], summary: 'Alerts per minute over the last minutes' } },
    async (request) => {
      const minute = 60_000;
      const to = Math.ceil(Date.now() / minute) * minute;
      const from = to - request.query.minutes * minute;
      const buckets = await ctx.store.alertHistogram({
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        intervalMinutes: 1,
        drill: request.query.drill,
      });
      return { buckets };
    },
  );
};
