import type {} from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { appendAuditWithRetry } from '../../shared/store/audit.ts';
import { auditEntry } from '../audit.ts';
import { DECOY_HASH, verifyPassword } from '../auth/password.ts';
import { SESSION_COOKIE } from '../auth/guard.ts';
import type { ConsoleContext } from '../context.ts';
import { schemaOf } from '../validation.ts';

const LoginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict();

/** POST /api/login (rate-limited), POST /api/logout, GET /api/me. */
export const loginRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.post<{ Body: z.infer<typeof LoginBody> }>(
    '/api/login',
    {
      schema: { body: schemaOf(LoginBody), tags: ['session'], summary: 'Log in; sets the session cookie' },
      config: { rateLimit: { max: ctx.loginAttemptsPerMinute, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = ctx.users.get(username);
      // The decoy keeps the time spent equal whether or not the name exists.
      const ok = (await verifyPassword(password, user?.hash ?? DECOY_HASH)) && user !== undefined;
      const at = new Date().toISOString();
      await appendAuditWithRetry(
        ctx.store,
        auditEntry({ '@timestamp': at, actor: username, action: ok ? 'login' : 'login_failed', incident_id: null, source_ip: request.ip }, `${request.id}`),
      );
      ctx.metrics.logins.inc({ outcome: ok ? 'success' : 'failure' });
      if (!ok) return reply.code(401).send({ error: 'invalid_credentials', message: 'wrong user name or password' });
      const session = ctx.sessions.create(user.username);
      reply.setCookie(SESSION_COOKIE, session.id, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.secureCookies,
        maxAge: Math.floor(ctx.sessionTtlMs / 1000),
      });
      return { username: user.username, role: user.role };
    },
  );

  app.post('/api/logout', { preHandler: ctx.guard.requireRole('viewer'), schema: { tags: ['session'], summary: 'End the session' } }, async (request, reply) => {
    ctx.sessions.delete(request.user!.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  app.get('/api/me', { preHandler: ctx.guard.requireRole('viewer'), schema: { tags: ['session'], summary: 'Who the session belongs to' } }, async (request) => ({
    username: request.user!.username,
    role: request.user!.role,
  }));
};
