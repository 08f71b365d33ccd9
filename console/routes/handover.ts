import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PRINT_STYLE_SOURCE } from '../../correlator/operations/printable.ts';
import type { ConsoleContext } from '../context.ts';
import { isValidTimezone } from '../../correlator/decoders/time.ts';
import { collectHandover, handoverHtml, type Language } from '../handover.ts';
import { schemaOf } from '../validation.ts';

const HandoverQuery = z
  .object({
    since: z.iso.datetime({ offset: true }),
    drill: z.string().min(1).default('none'),
  })
  .strict();

const PrintQuery = HandoverQuery.extend({
  /** The page's language; without it, the browser's (Accept-Language). */
  lang: z.enum(['en', 'vi']).optional(),
  /** The zone the times are shown in (the browser's); without it, the server's. */
  tz: z.string().max(64).refine(isValidTimezone, 'not a time zone (IANA name such as Asia/Ho_Chi_Minh)').optional(),
}).strict();

/** A printable page may use its own style and nothing else: no script, no fetch, no frame. */
const PRINT_CSP = `default-src 'none'; style-src ${PRINT_STYLE_SOURCE}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/**
 * GET /api/handover: the shift summary a responder hands over. What came in since a time, what is still
 * open, and which open incidents are past their acknowledge or report deadline now. GET /api/handover.html:
 * the same as a printable page, in the look of `canhgac report`, in the responder's language.
 */
export const handoverRoutes: FastifyPluginAsync<{ ctx: ConsoleContext }> = async (app, { ctx }) => {
  app.get<{ Querystring: z.infer<typeof HandoverQuery> }>(
    '/api/handover',
    {
      preHandler: ctx.guard.requireRole('viewer'),
      schema: { querystring: schemaOf(HandoverQuery), tags: ['incidents'], summary: 'Shift summary: came in, open and overdue since a time' },
    },
    async (request) => collectHandover(ctx.store, request.query.since, request.query.drill, Date.now()),
  );

  app.get<{ Querystring: z.infer<typeof PrintQuery> }>(
    '/api/handover.html',
    {
      preHandler: ctx.guard.requireRole('viewer'),
      schema: {
        querystring: schemaOf(PrintQuery),
        tags: ['incidents'],
        summary: 'The shift summary as a printable HTML page (the look of canhgac report), in Vietnamese or English',
      },
    },
    async (request, reply) => {
      const { since, drill, tz } = request.query;
      const lang: Language = request.query.lang ?? (/^vi\b/i.test(request.headers['accept-language'] ?? '') ? 'vi' : 'en');
      const h = await collectHandover(ctx.store, since, drill, Date.now());
      const vi = new Map<string, string>();
      if (lang === 'vi') {
        // Rule titles in Vietnamese come from the rules (`vi:`); without them the incident's title stands.
        const rules = await ctx.rules().catch((err: unknown) => {
          request.log.warn({ err: (err as Error).message }, 'rule texts unavailable for the handover');
          return { rules: [] };
        });
        for (const r of rules.rules) if (r.vi?.title) vi.set(r.id, r.vi.title);
      }
      const html = handoverHtml(h, {
        lang,
        timeZone: tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
        user: request.user!.username,
        ruleTitle: (i) => vi.get(i.rule.id) ?? i.rule.title,
      });
      return reply.type('text/html; charset=utf-8').header('content-security-policy', PRINT_CSP).send(html);
    },
  );
};
