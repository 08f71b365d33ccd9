import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleSectionSchema } from '../../console/config.ts';
import { DEFAULT_RULE_LIMITS } from '../../correlator/detection/limits.ts';

const root = join(import.meta.dirname, '..', '..');
const security = readFileSync(join(root, 'SECURITY.md'), 'utf8');

/** The text of one `## ` section of SECURITY.md. */
function section(title: string): string {
  const start = security.indexOf(`\n## ${title}\n`);
  expect(start, `SECURITY.md has no section "${title}"`).toBeGreaterThanOrEqual(0);
  const end = security.indexOf('\n## ', start + 1);
  return security.slice(start, end < 0 ? undefined : end);
}

describe('SECURITY.md', () => {
  it('says how to report a vulnerability and who can reach what', () => {
    expect(section('Reporting a vulnerability')).toMatch(/privately/);
    const reach = section('Who can reach what');
    for (const who of ['Syslog senders', 'Unauthenticated clients of the console', 'Viewers', 'Responders', 'Admins', 'Rule authors'])
      expect(reach, who).toContain(`**${who}**`);
  });

  it('names every console limit and every rule limit the configs accept, so that a new one is not left out', () => {
    const consoleLimits = section('Limits and their defaults');
    const defaults = ConsoleSectionSchema.parse({});
    const names = [
      'loginAttemptsPerMinute',
      'sessionTtlMinutes',
      ...Object.keys(defaults.lockout).map((k) => `lockout.${k}`),
      ...Object.keys(defaults.stream).map((k) => `stream.${k}`),
    ];
    for (const name of names) expect(consoleLimits, name).toContain(`\`${name}\``);
    const rules = section('Rules');
    for (const name of Object.keys(DEFAULT_RULE_LIMITS)) expect(rules, name).toContain(`\`${name}\``);
  });
});
