import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';

/**
 * Route schemas are written in zod and declared to Fastify as JSON Schema, so that one definition both
 * validates (zod, with the field named in every 400) and documents (the OpenAPI description).
 */
const zodOf = new WeakMap<object, z.ZodType>();

export function schemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  zodOf.set(json, schema);
  return json;
}

export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  constructor(readonly issues: z.core.$ZodIssue[]) {
    super(issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
}

export function installZodValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema }) => {
    const zod = zodOf.get(schema as object);
    if (!zod) throw new Error('route schema not declared with schemaOf()');
    return (data: unknown) => {
      const r = zod.safeParse(data);
      return r.success ? { value: r.data } : { error: new RequestValidationError(r.error.issues) };
    };
  });
  app.setErrorHandler((err: FastifyError & { validationContext?: string }, request, reply) => {
    if (err instanceof RequestValidationError) {
      const issue = err.issues[0]!;
      const field = [err.validationContext ?? 'body', ...issue.path.map(String)].join('.');
      return reply.code(400).send({ error: 'bad_request', field, message: `${field}: ${issue.message}` });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: status === 500 ? 'internal' : (err.code ?? 'error'), message: status === 500 ? 'internal error' : err.message });
  });
}
