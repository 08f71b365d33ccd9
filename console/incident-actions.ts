import { z } from 'zod';
import type { Incident, TimelineEntry } from '../shared/incident.ts';
import { Username } from './auth/users-file.ts';

const Note = z.string().trim().min(1).max(4000);
/** Escalating and closing change who owns an incident or end it: the responder says why. */
const Reason = z.string().trim().min(1, 'say why (reason)').max(4000);

/** The body of POST /api/incidents/:id/actions. */
export const ActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('acknowledge'), note: Note.optional() }).strict(),
  z.object({ action: z.literal('assign'), assignee: Username, note: Note.optional() }).strict(),
  z.object({ action: z.literal('comment'), note: Note }).strict(),
  z.object({ action: z.literal('escalate'), reason: Reason, note: Note.optional() }).strict(),
  z.object({ action: z.literal('resolve'), reason: Reason, note: Note.optional() }).strict(),
  z.object({ action: z.literal('false_positive'), reason: Reason, note: Note.optional() }).strict(),
]);
export type Action = z.infer<typeof ActionSchema>;

/** The body of POST /api/incidents/actions: the same acknowledge or assign on several incidents at once. */
export const BulkActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('acknowledge'), ids: z.array(z.string().min(1).max(256)).min(1).max(200), note: Note.optional() }).strict(),
  z.object({ action: z.literal('assign'), ids: z.array(z.string().min(1).max(256)).min(1).max(200), assignee: Username, note: Note.optional() }).strict(),
]);
export type BulkAction = z.infer<typeof BulkActionSchema>;

/** An action that makes no sense in the incident's present state (409). */
export class ActionRefused extends Error {
  override name = 'ActionRefused';
}

const CLOSED = new Set(['resolved', 'false_positive']);

/**
 * The incident after one responder action, with the action on its timeline. Closed incidents take
 * comments only; escalation hands the incident to the next layer as a new, unassigned one.
 */
export function applyAction(incident: Incident, action: Action, actor: string, at: Date): Incident {
  const reason = 'reason' in action ? action.reason : undefined;
  const entry = (from: unknown, to: unknown): TimelineEntry => ({
    at: at.toISOString(),
    actor,
    action: action.action,
    note: action.note,
    ...(reason ? { reason } : {}),
    from,
    to,
  });
  if (CLOSED.has(incident.status) && action.action !== 'comment') throw new ActionRefused(`the incident is ${incident.status}; only comments are taken`);
  switch (action.action) {
    case 'acknowledge':
      if (incident.status !== 'new') throw new ActionRefused(`the incident is already ${incident.status}`);
      return { ...incident, status: 'acknowledged', timeline: [...incident.timeline, entry('new', 'acknowledged')] };
    case 'assign':
      if (incident.assignee === action.assignee) throw new ActionRefused(`the incident is already assigned to ${action.assignee}`);
      return { ...incident, assignee: action.assignee, timeline: [...incident.timeline, entry(incident.assignee, action.assignee)] };
    case 'comment':
      return { ...incident, timeline: [...incident.timeline, entry(undefined, undefined)] };
    case 'escalate':
      if (incident.layer >= 4) throw new ActionRefused('the incident is already at layer 4, the national connection');
      return {
        ...incident,
        layer: incident.layer + 1,
        status: 'new',
        assignee: null,
        timeline: [
          ...incident.timeline,
          entry({ layer: incident.layer, status: incident.status, assignee: incident.assignee }, { layer: incident.layer + 1, status: 'new' }),
        ],
      };
    case 'resolve':
    case 'false_positive': {
      const status = action.action === 'resolve' ? 'resolved' : 'false_positive';
      return { ...incident, status, timeline: [...incident.timeline, entry(incident.status, status)] };
    }
  }
}
