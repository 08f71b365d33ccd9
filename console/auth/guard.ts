import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { credentialOf, roleAtLeast, type Role, type UsersDirectory } from './users-file.ts';
import type { SessionStore } from './sessions.ts';

export const SESSION_COOKIE = 'canhgac_session';

export interface AuthUser {
  username: string;
  role: Role;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

/** Who may pass: every route but login and the static page asks for a session and a least role. */
export interface Guard {
  requireRole(role: Role): preHandlerAsyncHookHandler;
  userOf(request: FastifyRequest): AuthUser | null;
  /** The user a session still belongs to, or null once it ended (expired, logged out, credential changed). */
  sessionUser(sessionId: string | undefined): AuthUser | null;
}

export function createGuard(users: UsersDirectory, sessions: SessionStore): Guard {
  const sessionUser = (sessionId: string | undefined): AuthUser | null => {
    const session = sessions.get(sessionId);
    if (!session) return null;
    // The role comes from the users file now, not from login time: a demotion or removal acts at once.
    const user = users.get(session.username);
    if (!user || credentialOf(user) !== session.credential) {
      sessions.delete(session.id);
      return null;
    }
    return { username: user.username, role: user.role, sessionId: session.id };
  };
  const userOf = (request: FastifyRequest): AuthUser | null => sessionUser(request.cookies[SESSION_COOKIE]);
  return {
    userOf,
    sessionUser,
    requireRole(role) {
      return async (request: FastifyRequest, reply: FastifyReply) => {
        const user = userOf(request);
        if (!user) return reply.code(401).send({ error: 'unauthorized', message: 'log in first' });
        if (!roleAtLeast(user.role, role)) return reply.code(403).send({ error: 'forbidden', message: `needs the ${role} role; you are ${user.role}` });
        request.user = user;
      };
    },
  };
}
