import type {} from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import type { ConsoleContext } from '../context.ts';
import { schemaOf } from '../validation.ts';
import { ClientMessageSchema, WsQuerySchema, type ServerMessage } from './messages.ts';

const HEARTBEAT_MS = 15_000;

/** GET /ws: the live incident stream (see messages.ts for the protocol). */
export const streamRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  const viewer = ctx.guard.requireRole('viewer');
  const alive = new WeakMap<WebSocket, boolean>();
  const sockets = new Set<WebSocket>();
  // A socket that missed a whole heartbeat is gone (a laptop closed, a NAT forgot): free its slot.
  const heartbeat = setInterval(() => {
    for (const s of sockets) {
      if (alive.get(s) === false) s.terminate();
      else {
        alive.set(s, false);
        s.ping();
      }
    }
  }, HEARTBEAT_MS).unref();
  app.addHook('onClose', async () => clearInterval(heartbeat));

  app.get<{ Querystring: z.infer<typeof WsQuerySchema> }>(
    '/ws',
    {
      websocket: true,
      // Cross-site WebSocket hijacking: browsers send cookies on cross-origin upgrades, so the origin must be ours.
      preValidation: async (request, reply) => {
        const origin = request.headers.origin;
        if (origin && safeHost(origin) !== request.headers.host) return reply.code(403).send({ error: 'forbidden', message: 'cross-origin WebSocket refused' });
      },
      preHandler: viewer,
      schema: { querystring: schemaOf(WsQuerySchema), hide: true },
    },
    (socket, request) => {
      sockets.add(socket);
      alive.set(socket, true);
      socket.on('pong', () => alive.set(socket, true));
      const send = (m: ServerMessage) => socket.send(JSON.stringify(m));
      const detach = ctx.hub.attach(socket, request.query.since);
      ctx.metrics.wsClients.set(ctx.hub.clientCount);
      socket.on('message', (data, isBinary) => {
        let parsed;
        try {
          parsed = isBinary ? null : ClientMessageSchema.safeParse(JSON.parse(data.toString()));
        } catch {
          parsed = null;
        }
        if (!parsed?.success) {
          const issue = parsed?.error.issues[0];
          return send({ type: 'error', message: issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'messages are JSON text' });
        }
        if (parsed.data.type === 'ping') send({ type: 'pong', id: parsed.data.id });
        else ctx.hub.resync(socket, 'requested');
      });
      socket.on('close', () => {
        detach();
        sockets.delete(socket);
        ctx.metrics.wsClients.set(ctx.hub.clientCount);
      });
    },
  );
};

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
