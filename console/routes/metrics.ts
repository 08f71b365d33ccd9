import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ConsoleContext } from '../context.ts';

/** GET /metrics: for an admin session, or for Prometheus presenting the configured bearer token. */
export const metricsRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  const admin = ctx.guard.requireRole('admin');
  const hasToken = (request: FastifyRequest) => {
    const presented = Buffer.from(request.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${ctx.metricsToken ?? ''}`);
    return ctx.metricsToken !== undefined && presented.length === expected.length && timingSafeEqual(presented, expected);
  };
  app.get(
    '/metrics',
    {
      preHandler: async (request, reply) => {
        if (!hasToken(request)) return admin.call(app, request, reply);
      },
      schema: { tags: ['operations'], summary: 'Prometheus metrics' },
    },
    async (_request, reply) => {
      ctx.metrics.wsClients.set(ctx.hub.clientCount);
      return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
    },
  );
};
