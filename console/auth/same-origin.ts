import type { FastifyInstance } from 'fastify';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The CSRF defence of every state change (login, logout, actions): the body must be declared JSON, which
 * no HTML form can send and which a script on another origin (another host of the same site included)
 * can only send after a CORS preflight this console never grants; a browser's Origin, when present,
 * must be this console's own (its Host, or X-Forwarded-Host from a trusted proxy).
 */
export function requireJsonForChanges(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!UNSAFE.has(request.method)) return;
    const origin = request.headers.origin;
    if (origin !== undefined && hostOf(origin) !== request.host) {
      return reply.code(403).send({ error: 'forbidden', message: 'cross-origin request refused' });
    }
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      return reply.code(415).send({ error: 'unsupported_media_type', message: 'state changes take a JSON body (content-type: application/json)' });
    }
  });
}

export function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
