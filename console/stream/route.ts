import type {} from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import { hostOf } from '../auth/same-origin.ts';
import type { ConsoleContext } from '../context.ts';
import { schemaOf } from '../validation.ts';
import { StreamLimits } from './limits.ts';
import { ClientMessageSchema, WsQuerySchema, type ServerMessage } from './messages.ts';

const HEARTBEAT_MS = 15_000;
const REVOCATION_CHECK_MS = 2_000;
const CLOSE_GRACE_MS = 2_000;
const MESSAGE_WINDOW_MS = 10_000;
const MESSAGES_PER_WINDOW = 100;

/** GET /ws: the live incident stream (see messages.ts for the protocol). */
export const streamRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  const viewer = ctx.guard.requireRole('viewer');
  const limits = new StreamLimits(ctx.streamLimits);
  const alive = new WeakMap<WebSocket, boolean>();
  const sockets = new Map<WebSocket, string>();
  const drop = (socket: WebSocket, reason: 'greedy' | 'revoked', text: string) => {
    // Messages already received keep arriving while the close handshake runs: one drop counts once.
    if (socket.readyState !== socket.OPEN) return;
    ctx.metrics.wsDropped.inc({ reason });
    socket.close(1008, text);
    // A client that stopped reading never answers the close: its unsent bytes go with the connection.
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  };
  // A socket that missed a whole heartbeat is gone (a laptop closed, a NAT forgot): free its slot.
  const heartbeat = setInterval(() => {
    for (const [s] of sockets) {
      if (alive.get(s) === false) s.terminate();
      else {
        alive.set(s, false);
        s.ping();
      }
    }
  }, HEARTBEAT_MS).unref();
  // A session ended by logout, a password change or the user's removal takes its open sockets with it.
  const revocation = setInterval(() => {
    for (const [s, sessionId] of sockets) if (!ctx.guard.sessionUser(sessionId)) drop(s, 'revoked', 'session ended');
    limits.prune();
  }, REVOCATION_CHECK_MS).unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    clearInterval(revocation);
  });
  // Checked before the upgrade, so that a refused client gets a plain 429 it can back off from.
  const admit = async (request: FastifyRequest<{ Querystring: z.infer<typeof WsQuerySchema> }>, reply: FastifyReply) => {
    const user = request.user!;
    const refused = limits.refusal(user.username, user.sessionId, !ctx.hub.canReplay(request.query.since));
    if (!refused) return;
    ctx.metrics.wsRefused.inc({ reason: refused });
    return reply
      .code(429)
      .header('retry-after', '10')
      .send({ error: 'too_many', message: `live stream refused: ${refused.replace('_', ' ')} limit reached` });
  };

  app.get<{ Querystring: z.infer<typeof WsQuerySchema> }>(
    '/ws',
    {
      websocket: true,
      // Cross-site WebSocket hijacking: browsers send cookies on cross-origin upgrades, so the origin must be ours.
      preValidation: async (request, reply) => {
        const origin = request.headers.origin;
        if (origin && hostOf(origin) !== request.host) return reply.code(403).send({ error: 'forbidden', message: 'cross-origin WebSocket refused' });
      },
      preHandler: [viewer, admit],
      schema: { querystring: schemaOf(WsQuerySchema), hide: true },
    },
    (socket, request) => {
      const user = request.user!;
      // Upgrades accepted at once may all have passed `admit`: the slot and the snapshot are taken here.
      const slot = limits.open(user.username, user.sessionId);
      if ('refused' in slot) {
        ctx.metrics.wsRefused.inc({ reason: slot.refused });
        return socket.close(1013, `${slot.refused.replace('_', ' ')} limit reached; retry later`);
      }
      // A client resuming from its cursor gets the changes it missed, not a snapshot: no budget taken.
      if (!ctx.hub.canReplay(request.query.since) && !limits.snapshot(user.username, user.sessionId)) {
        slot.release();
        ctx.metrics.wsRefused.inc({ reason: 'snapshots' });
        return socket.close(1013, 'too many snapshots; retry later');
      }
      sockets.set(socket, user.sessionId);
      alive.set(socket, true);
      socket.on('pong', () => alive.set(socket, true));
      const send = (m: ServerMessage) => socket.send(JSON.stringify(m));
      const detach = ctx.hub.attach(socket, request.query.since);
      ctx.metrics.wsClients.set(ctx.hub.clientCount);
      let recent = { start: Date.now(), messages: 0 };
      socket.on('message', (data, isBinary) => {
        // A dropped socket's queued messages are not worth reading; a socket sending more than a page
        // ever does (it sends none by itself) is dropped like one asking for too many snapshots.
        if (socket.readyState !== socket.OPEN) return;
        if (Date.now() - recent.start > MESSAGE_WINDOW_MS) recent = { start: Date.now(), messages: 0 };
        if (++recent.messages > MESSAGES_PER_WINDOW) return drop(socket, 'greedy', 'too many messages; reconnect later');
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
        else if (limits.snapshot(user.username, user.sessionId)) ctx.hub.resync(socket, 'requested');
        else drop(socket, 'greedy', 'too many resyncs; reconnect later');
      });
      socket.on('close', () => {
        slot.release();
        detach();
        sockets.delete(socket);
        ctx.metrics.wsClients.set(ctx.hub.clientCount);
      });
    },
  );
};
