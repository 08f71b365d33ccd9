import { NormalizedEventSchema } from '../../../shared/event.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';
import { jsonObject, parseJsonPayload } from './json-payload.ts';

/** Already-normalized events (a collector that did the work, a replayed export) pass through after validation. */
export const normalized: Decoder = {
  name: 'normalized',
  description: 'already-normalized canhgac/ECS JSON events, validated against the event schema',
  sniff(input) {
    const x = jsonObject(input);
    const ev = x?.event;
    return x !== undefined && typeof x['@timestamp'] === 'string' && ev !== null && typeof ev === 'object' && 'kind' in ev;
  },
  decode(input, draft) {
    const json = parseJsonPayload(input);
    const withOriginal = json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {};
    const ev = (withOriginal as { event?: Record<string, unknown> }).event;
    // Validation needs event.original; the line itself is the original when the event carries none.
    const candidate = ev && typeof ev === 'object' && ev.original === undefined ? { ...withOriginal, event: { ...ev, original: input.payload } } : withOriginal;
    const parsed = NormalizedEventSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DecodeError(`field ${issue.path.join('.') || '(root)'}: ${issue.message}`, 0);
    }
    Object.assign(draft, parsed.data as unknown as Draft);
  },
};
