import type { FastifyPluginAsync } from 'fastify';
import type { ConsoleContext } from '../context.ts';

/** GET /api/rules: the rules in force with their lint state (admins manage rules). */
export const ruleRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.get('/api/rules', { preHandler: ctx.guard.requireRole('admin'), schema: { tags: ['rules'], summary: 'Rules in force and their lint state' } }, async () => ctx.rules());
};
