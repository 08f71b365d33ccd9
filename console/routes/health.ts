import type { FastifyPluginAsync } from 'fastify';
import type { ConsoleContext } from '../context.ts';

/**
 * GET /livez: for container health checks and load balancers, without a session: 200 while the process
 * serves requests, nothing more said. GET /api/health (logged in): 200 when the store answers and the
 * feed is joined, else 503 with what is wrong.
 */
export const healthRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.get('/livez', { schema: { tags: ['operations'], summary: 'Liveness (no session needed, no details)' } }, async (_request, reply) =>
    reply.type('text/plain').send('ok\n'),
  );

  app.get(
    '/api/health',
    { preHandler: ctx.guard.requireRole('viewer'), schema: { tags: ['operations'], summary: 'Health of this console instance' } },
    async (_request, reply) => {
      const store = await ctx.store.ping();
      const feed = ctx.feed.ready;
      const body = {
        status: store && feed ? 'ok' : 'degraded',
        instance: ctx.hub.instance,
        store: store ? 'ok' : 'unreachable',
        feed: feed ? 'joined' : 'not joined',
        clients: ctx.hub.clientCount,
        open_incidents: ctx.hub.openIncidents().length,
        last_change_at: ctx.hub.lastChangeAt === null ? null : new Date(ctx.hub.lastChangeAt).toISOString(),
      };
      return reply.code(store && feed ? 200 : 503).send(body);
    },
  );
};
