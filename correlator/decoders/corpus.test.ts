import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NormalizedEventSchema } from '../../shared/event.ts';
import { decodeLine } from './index.ts';
import { formatTable, measureAgreement, NAMED_VENDORS, readCorpus } from './test-support/agreement.ts';

// The shared corpus lives beside the repository (<repo>/../shared/corpus) and is never copied in;
// CANHGAC_CORPUS names it when the checkout is elsewhere (a git worktree).
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusFile = process.env.CANHGAC_CORPUS ?? join(repo, '..', 'shared', 'corpus', 'decoders-dev.ndjson');
const present = existsSync(corpusFile);
if (!present) process.stderr.write(`[corpus] ${corpusFile} is absent: the corpus agreement test is skipped\n`);

describe.skipIf(!present)('decoder corpus (real vendor lines, format sniffing)', () => {
  const cases = present ? readCorpus(corpusFile) : [];

  it('decodes every line to a schema-valid event without throwing', () => {
    for (const c of cases) {
      const event = decodeLine(c.line, { received: new Date('2026-11-26T00:00:00Z') });
      const check = NormalizedEventSchema.safeParse(event);
      expect(check.success, `${c.id}: ${check.success ? '' : JSON.stringify(check.error.issues[0])}`).toBe(true);
      expect(event.event.original, c.id).toBe(c.line);
    }
  });

  it('agrees with the public parsers on at least 98% of the compared fields over the named vendors', () => {
    const { rows } = measureAgreement(cases);
    process.stdout.write(`\n${formatTable(rows)}\n`);
    const named = rows.filter((r) => NAMED_VENDORS.includes(r.vendor));
    expect(named.map((r) => r.vendor).sort()).toEqual([...NAMED_VENDORS].sort());
    const compared = named.reduce((s, r) => s + r.compared, 0);
    const agreed = named.reduce((s, r) => s + r.agreed, 0);
    expect(compared).toBeGreaterThan(5000);
    expect(agreed / compared).toBeGreaterThanOrEqual(0.98);
  });

  it('agrees on at least 90% of the compared fields over all vendors of the corpus', () => {
    const { rows } = measureAgreement(cases);
    const compared = rows.reduce((s, r) => s + r.compared, 0);
    const agreed = rows.reduce((s, r) => s + r.agreed, 0);
    expect(compared).toBeGreaterThan(7000);
    expect(agreed / compared).toBeGreaterThanOrEqual(0.9);
  });
});
