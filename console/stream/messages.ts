import { z } from 'zod';
import type { Incident, IncidentChange } from '../../shared/incident.ts';

/**
 * The /ws protocol. A cursor names one console instance and a position in its sequence of changes:
 * `<instance>.<seq>`. A client reconnecting with `?since=<cursor>` gets the changes after it, or a full
 * snapshot when that instance or position is gone (restart, other instance, outside the replay buffer).
 */
export const CursorSchema = z.string().regex(/^[0-9a-f]{12}\.\d{1,15}$/, 'a cursor is <instance>.<seq>');

export const WsQuerySchema = z.object({ since: CursorSchema.optional() }).strict();

/** What a client may send. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping'), id: z.string().max(64).optional() }).strict(),
  z.object({ type: z.literal('resync') }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export type SnapshotReason = 'connect' | 'unknown_cursor' | 'slow' | 'requested';

/** What the server sends. */
export type ServerMessage =
  /** `omitted`: open incidents left out beyond the snapshot limit (the least recently active). */
  | { type: 'snapshot'; reason: SnapshotReason; cursor: string; omitted: number; incidents: Incident[] }
  | { type: 'change'; cursor: string; change: IncidentChange }
  | { type: 'replayed'; cursor: string; count: number }
  | { type: 'lagging'; message: string }
  | { type: 'pong'; id?: string }
  | { type: 'error'; message: string };
