import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { RuleInfo } from '../correlator/detection/model.ts';
import { loadRuleSet, ruleFiles } from '../correlator/detection/ruleset.ts';

/**
 * The pack's Vietnamese wording (rules/README.md, "Vietnamese wording (`vi:`)"): a responder who chose
 * Vietnamese reads every bundled rule's title, description and runbook in Vietnamese, so each of these texts
 * a rule has needs its `vi:` twin, translated rather than copied, keeping the numbers and names (event ids,
 * ports, field names, paths) the responder searches for or types.
 */
const { ruleset, findings } = loadRuleSet([import.meta.dirname]);

type Field = 'title' | 'description' | 'runbook';

/** Each text a responder reads, in English and in its `vi:` wording. */
function texts(rule: RuleInfo): { field: Field; english: string | null; vi: string | undefined }[] {
  return [
    { field: 'title', english: rule.title, vi: rule.vi?.title },
    { field: 'description', english: rule.description, vi: rule.vi?.description },
    { field: 'runbook', english: rule.response.runbook, vi: rule.vi?.runbook },
  ];
}

const where = (rule: RuleInfo) => `rules/${relative(import.meta.dirname, rule.file)}:${rule.line} (${rule.id})`;

/** Letters of Vietnamese and of no other Latin-script language the pack could be copied from: ă â đ ê ô ơ ư and the tone-marked vowels. */
const VIETNAMESE = /[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]/u;
/** What a translation keeps as written: numbers, and names with a dot or a slash (field names, paths, dotted ids). */
const VERBATIM = /\d+|[A-Za-z_][\w-]*(?:[./][\w<>*-]+)+/g;

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

describe('the Vietnamese wording of the bundled rules', () => {
  it('checks every rule document of the pack, base rules of multi-document files included', () => {
    expect(findings).toEqual([]);
    const documents = ruleFiles([import.meta.dirname]).files.flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')));
    expect(ruleset.rules().length).toBe(documents.length);
  });

  it('gives every rule a vi: title, and a vi: description and vi: runbook exactly where the rule has them', () => {
    const missing = ruleset.rules().flatMap((rule) =>
      texts(rule).flatMap(({ field, english, vi }) => {
        if (english && !vi) return [`${where(rule)}: has a ${field} but no vi.${field}`];
        if (!english && vi) return [`${where(rule)}: has vi.${field} but no ${field} to translate`];
        return [];
      }),
    );
    expect(missing).toEqual([]);
  });

  it('writes each vi: text in Vietnamese, not as the English copied, keeping the numbers and names of the English', () => {
    const wrong = ruleset.rules().flatMap((rule) =>
      texts(rule).flatMap(({ field, english, vi }) => {
        if (!english || !vi) return [];
        if (squash(vi) === squash(english)) return [`${where(rule)}: vi.${field} is the English text`];
        const out: string[] = [];
        if (!VIETNAMESE.test(vi)) out.push(`${where(rule)}: vi.${field} has no Vietnamese letter: ${squash(vi)}`);
        const lost = [...new Set(english.match(VERBATIM) ?? [])].filter((token) => !vi.includes(token));
        if (lost.length > 0) out.push(`${where(rule)}: vi.${field} leaves out ${lost.join(', ')} of the English`);
        return out;
      }),
    );
    expect(wrong).toEqual([]);
  });

  it('gives the vi: texts as the console shows them, trimmed like the English ones (no block-scalar newline)', () => {
    const untrimmed = ruleset.rules().flatMap((rule) =>
      texts(rule)
        .filter(({ vi }) => vi !== undefined && vi !== vi.trim())
        .map(({ field }) => `${where(rule)}: vi.${field}`),
    );
    expect(untrimmed).toEqual([]);
  });
});
