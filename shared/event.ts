import { z } from 'zod';

/** The normalized event: the ECS subset of ARCHITECTURE.md, "The normalized event". Unknown extra fields are kept (loose objects). */
const Ip = z.string().min(1);
const Port = z.number().int().min(0).max(65535);
const StrOrList = z.union([z.string(), z.array(z.string())]);

const Endpoint = z.object({ ip: Ip.optional(), port: Port.optional() }).loose();

export const EventKind = z.enum(['event', 'alert', 'pipeline_error', 'metric', 'state']);

export const NormalizedEventSchema = z
  .object({
    '@timestamp': z.iso.datetime({ offset: true }),
    event: z
      .object({
        kind: EventKind,
        category: z.array(z.string()).optional(),
        type: z.array(z.string()).optional(),
        action: z.string().optional(),
        outcome: z.enum(['success', 'failure', 'unknown']).optional(),
        dataset: z.string().optional(),
        module: z.string().optional(),
        severity: z.number().optional(),
        original: z.string(),
        ingested: z.iso.datetime({ offset: true }).optional(),
        id: z.string().optional(),
        code: z.string().optional(),
      })
      .loose(),
    host: z
      .object({ name: z.string().optional(), ip: z.union([Ip, z.array(Ip)]).optional() })
      .loose()
      .optional(),
    observer: z.object({ vendor: z.string().optional(), product: z.string().optional(), type: z.string().optional() }).loose().optional(),
    source: Endpoint.optional(),
    destination: Endpoint.optional(),
    network: z.object({ transport: z.string().optional(), direction: z.string().optional() }).loose().optional(),
    rule: z.object({ name: z.string().optional() }).loose().optional(),
    file: z
      .object({
        path: z.string().optional(),
        name: z.string().optional(),
        hash: z.record(z.string(), z.string()).optional(),
      })
      .loose()
      .optional(),
    threat: z
      .object({ software: z.object({ name: StrOrList.optional() }).loose().optional() })
      .loose()
      .optional(),
    user: z.object({ name: z.string().optional(), domain: z.string().optional() }).loose().optional(),
    labels: z.object({ unit: z.string().optional(), drill: z.string().optional() }).loose().optional(),
    error: z.object({ message: z.string() }).loose().optional(),
  })
  .loose()
  .refine((e) => e.event.kind !== 'pipeline_error' || e.error?.message !== undefined, {
    message: 'a pipeline_error event needs error.message',
    path: ['error', 'message'],
  });

export type NormalizedEvent = z.infer<typeof NormalizedEventSchema>;

/** Reads a dotted ECS path ("source.ip") from a nested event; flat dotted keys are honoured too. */
export function getField(event: unknown, path: string): unknown {
  if (event === null || typeof event !== 'object') return undefined;
  const obj = event as Record<string, unknown>;
  if (path in obj) return obj[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  // Try every split point so that keys which themselves contain dots ("hash.sha256") resolve.
  for (let i = dot; i >= 0; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    if (head in obj) {
      const found = getField(obj[head], path.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
