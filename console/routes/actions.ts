import type { FastifyPluginAsync } from 'fastify';
import type { z } from 'zod';
import type { Incident } from '../../shared/incident.ts';
import { IncidentConflictError, IncidentNotFoundError } from '../../shared/store/types.ts';
import { appendAuditWithRetry } from '../../shared/store/audit.ts';
import { auditEntry } from '../audit.ts';
import type { ConsoleContext } from '../context.ts';
import { ActionRefused, ActionSchema, BulkActionSchema, applyAction, type Action, type BulkAction } from '../incident-actions.ts';
import { schemaOf } from '../validation.ts';
import { IncidentParams } from './incidents.ts';

type Outcome = { ok: true; incident: Incident } | { ok: false; code: 404 | 409; error: string; message: string };

/**
 * POST /api/incidents/:id/actions and POST /api/incidents/actions (bulk). The store is written first (under
 * optimistic concurrency), then the audit trail and the feed, from which every console instance (this one
 * too) pushes the change to its clients.
 */
export const actionRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  const responder = ctx.guard.requireRole('responder');

  async function perform(id: string, action: Action, actor: string, sourceIp: string): Promise<Outcome> {
    const now = new Date();
    let result;
    try {
      result = await ctx.store.updateIncident(id, (current) => applyAction(current, action, actor, now), { now: () => now });
    } catch (err) {
      if (err instanceof IncidentNotFoundError) return { ok: false, code: 404, error: 'not_found', message: err.message };
      if (err instanceof ActionRefused) return { ok: false, code: 409, error: 'refused', message: err.message };
      if (err instanceof IncidentConflictError) return { ok: false, code: 409, error: 'busy', message: err.message };
      throw err;
    }
    const { before, after } = result;
    // The audit entry and the change are independent writes: done together, the other consoles see the
    // action one Elasticsearch round trip sooner. The answer waits for both.
    await Promise.all([
      appendAuditWithRetry(
        ctx.store,
        auditEntry(
          { '@timestamp': now.toISOString(), actor, action: action.action, incident_id: after.id, source_ip: sourceIp, before, after },
          String(after.version),
        ),
      ),
      ctx.feed.publish({ type: 'updated', at: now.toISOString(), incident: after }),
    ]);
    ctx.metrics.actions.inc({ action: action.action });
    return { ok: true, incident: after };
  }

  /** An assignee must be a user of this console: a typo would hand the incident to nobody. */
  const unknownAssignee = (action: { action: string; assignee?: string }) =>
    action.action === 'assign' && action.assignee && !ctx.users.get(action.assignee)
      ? { error: 'unknown_assignee', field: 'body.assignee', message: `body.assignee: no user named ${action.assignee}` }
      : null;

  app.post<{ Params: z.infer<typeof IncidentParams>; Body: Action }>(
    '/api/incidents/:id/actions',
    {
      preHandler: responder,
      schema: {
        params: schemaOf(IncidentParams),
        body: schemaOf(ActionSchema),
        tags: ['incidents'],
        summary: 'Act on an incident (escalate, resolve and false_positive need a reason)',
      },
    },
    async (request, reply) => {
      const refused = unknownAssignee(request.body);
      if (refused) return reply.code(400).send(refused);
      const out = await perform(request.params.id, request.body, request.user!.username, request.ip);
      if (!out.ok) return reply.code(out.code).send({ error: out.error, message: out.message });
      return { incident: out.incident };
    },
  );

  app.post<{ Body: BulkAction }>(
    '/api/incidents/actions',
    {
      preHandler: responder,
      schema: { body: schemaOf(BulkActionSchema), tags: ['incidents'], summary: 'Acknowledge or assign several incidents; one result per id' },
    },
    async (request, reply) => {
      const refused = unknownAssignee(request.body);
      if (refused) return reply.code(400).send(refused);
      const { ids, ...rest } = request.body;
      const action = rest as Action;
      // Distinct incidents are independent writes: done together, the other consoles see the whole batch sooner.
      const results = await Promise.all(
        [...new Set(ids)].map(async (id) => {
          const out = await perform(id, action, request.user!.username, request.ip);
          return out.ok ? { id, ok: true, incident: out.incident } : { id, ok: false, error: out.error, message: out.message };
        }),
      );
      return { results };
    },
  );
};
