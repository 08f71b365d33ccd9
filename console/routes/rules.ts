import type { FastifyPluginAsync } from 'fastify';
import type { ConsoleContext } from '../context.ts';

/**
 * GET /api/rules: the rules in force with their lint state (admins manage rules). GET /api/rules/texts:
 * what every responder reads of them (title, description, runbook, and their Vietnamese wording), by id.
 */
export const ruleRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.get('/api/rules', { preHandler: ctx.guard.requireRole('admin'), schema: { tags: ['rules'], summary: 'Rules in force and their lint state' } }, async () =>
    ctx.rules(),
  );
  app.get(
    '/api/rules/texts',
    {
      preHandler: ctx.guard.requireRole('viewer'),
      schema: { tags: ['rules'], summary: 'Title, description and runbook of each rule, with their vi: wording' },
    },
    async () => {
      const { rules } = await ctx.rules();
      return {
        rules: Object.fromEntries(
          rules.map((r) => [r.id, { title: r.title, description: r.description ?? null, runbook: r.runbook ?? null, vi: r.vi ?? null }]),
        ),
      };
    },
  );
};
