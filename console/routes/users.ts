import type { FastifyPluginAsync } from 'fastify';
import type { ConsoleContext } from '../context.ts';

/** GET /api/users: who can take an incident (names and roles, never hashes), for the assign list. */
export const userRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.get(
    '/api/users',
    {
      preHandler: ctx.guard.requireRole('responder'),
      schema: { tags: ['session'], summary: 'Users of the console with their roles (responders assign to them)' },
    },
    async () => ({ users: ctx.users.list().map((u) => ({ username: u.username, role: u.role })) }),
  );
};
