import type { FastifyPluginAsync } from 'fastify';
import type { ConsoleContext } from '../context.ts';

/** GET /api/openapi.json: the OpenAPI description @fastify/swagger built from the route schemas. */
export const openapiRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.get('/api/openapi.json', { preHandler: ctx.guard.requireRole('viewer'), schema: { hide: true } }, async () => app.swagger());
};
