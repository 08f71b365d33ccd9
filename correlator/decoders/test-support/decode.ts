import { expect } from 'vitest';
import { NormalizedEventSchema, getField } from '../../../shared/event.ts';
import { decodeLine, type DecodeOptions } from '../index.ts';

/** The receive time the unit tests decode against (08:00 in Ho Chi Minh City). */
export const RECEIVED = new Date('2026-11-26T01:00:00Z');

/** Decodes one line, checks it against the event schema, and returns a getter for dotted fields. */
export function decoded(line: string, opts: DecodeOptions = {}) {
  const event = decodeLine(line, { received: RECEIVED, ...opts });
  const check = NormalizedEventSchema.safeParse(event);
  expect(check.success, check.success ? '' : JSON.stringify(check.error.issues)).toBe(true);
  expect(event.event.original).toBe(line);
  return Object.assign((path: string) => getField(event, path), { event });
}
