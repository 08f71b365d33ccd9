import type {} from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { appendAuditWithRetry } from '../../shared/store/audit.ts';
import { auditEntry } from '../audit.ts';
import { DECOY_HASH, verifyPassword } from '../auth/password.ts';
import { SESSION_COOKIE } from '../auth/guard.ts';
import { credentialOf } from '../auth/users-file.ts';
import type { ConsoleContext } from '../context.ts';
import { schemaOf } from '../validation.ts';

/** The audit's actor for a login under a name that is not a user. */
export const UNKNOWN_ACTOR = '(unknown user)';

const LoginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict();

/** POST /api/login (rate-limited per address, locked per account), POST /api/logout, GET /api/me. */
export const loginRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.post<{ Body: z.infer<typeof LoginBody> }>(
    '/api/login',
    {
      schema: { body: schemaOf(LoginBody), tags: ['session'], summary: 'Log in; sets the session cookie' },
      config: { rateLimit: { max: ctx.loginAttemptsPerMinute, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const at = new Date().toISOString();
      const user = ctx.users.get(username);
      // Only an existing name is written down: a password typed into the user-name field must not be kept.
      const actor = user?.username ?? UNKNOWN_ACTOR;
      const audit = (action: string) =>
        appendAuditWithRetry(ctx.store, auditEntry({ '@timestamp': at, actor, action, incident_id: null, source_ip: request.ip }, `${request.id}`));
      const wait = ctx.lockout.lockedFor(username);
      if (wait > 0) {
        await audit('login_locked');
        ctx.metrics.logins.inc({ outcome: 'locked' });
        const seconds = Math.ceil(wait / 1000);
        return reply
          .code(429)
          .header('retry-after', String(seconds))
          .send({ error: 'locked', message: `too many failed logins for this account; try again in ${seconds} s` });
      }
      // Counted as a failure before the check, so that attempts sent all at once cannot slip under the
      // limit while their hashes are computed; a success clears it.
      ctx.lockout.failed(username);
      // The decoy keeps the time spent equal whether or not the name exists.
      const ok = (await verifyPassword(password, user?.hash ?? DECOY_HASH)) && user !== undefined;
      await audit(ok ? 'login' : 'login_failed');
      ctx.metrics.logins.inc({ outcome: ok ? 'success' : 'failure' });
      if (!ok) return reply.code(401).send({ error: 'invalid_credentials', message: 'wrong user name or password' });
      ctx.lockout.succeeded(username);
      const session = ctx.sessions.create(user.username, credentialOf(user));
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

  app.post(
    '/api/logout',
    { preHandler: ctx.guard.requireRole('viewer'), schema: { tags: ['session'], summary: 'End the session' } },
    async (request, reply) => {
      ctx.sessions.delete(request.user!.sessionId);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    },
  );

  app.get(
    '/api/me',
    { preHandler: ctx.guard.requireRole('viewer'), schema: { tags: ['session'], summary: 'Who the session belongs to' } },
    async (request) => ({
      username: request.user!.username,
      role: request.user!.role,
    }),
  );
};
