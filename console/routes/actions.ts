import type { FastifyPluginAsync } from 'fastify';
import type { z } from 'zod';
import { IncidentConflictError, IncidentNotFoundError } from '../../shared/store/types.ts';
import { appendAuditWithRetry } from '../../shared/store/audit.ts';
import { auditEntry } from '../audit.ts';
import type { ConsoleContext } from '../context.ts';
import { ActionRefused, ActionSchema, applyAction, type Action } from '../incident-actions.ts';
import { schemaOf } from '../validation.ts';
import { IncidentParams } from './incidents.ts';

/**
 * POST /api/incidents/:id/actions. The store is written first (under optimistic concurrency), then the
 * audit trail and the feed, from which every console instance (this one too) pushes the change to its clients.
 */
export const actionRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.post<{ Params: z.infer<typeof IncidentParams>; Body: Action }>(
    '/api/incidents/:id/actions',
    {
      preHandler: ctx.guard.requireRole('responder'),
      schema: { params: schemaOf(IncidentParams), body: schemaOf(ActionSchema), tags: ['incidents'], summary: 'Act on an incident' },
    },
    async (request, reply) => {
      const actor = request.user!.username;
      const now = new Date();
      let result;
      try {
        result = await ctx.store.updateIncident(request.params.id, (current) => applyAction(current, request.body, actor, now), { now: () => now });
      } catch (err) {
        if (err instanceof IncidentNotFoundError) return reply.code(404).send({ error: 'not_found', message: err.message });
        if (err instanceof ActionRefused) return reply.code(409).send({ error: 'refused', message: err.message });
        if (err instanceof IncidentConflictError) return reply.code(409).send({ error: 'busy', message: err.message });
        throw err;
      }
      const { before, after } = result;
      // The audit entry and the change are independent writes: done together, the other consoles see the
      // action one Elasticsearch round trip sooner. The answer waits for both.
      await Promise.all([
        appendAuditWithRetry(
          ctx.store,
          auditEntry(
            { '@timestamp': now.toISOString(), actor, action: request.body.action, incident_id: after.id, source_ip: request.ip, before, after },
            String(after.version),
          ),
        ),
        ctx.feed.publish({ type: 'updated', at: now.toISOString(), incident: after }),
      ]);
      ctx.metrics.actions.inc({ action: request.body.action });
      return { incident: after };
    },
  );
};
