import { existsSync } from 'node:fs';
import { z } from 'zod';
import { positionOf, readYamlFileBounded, toData, zodFindings, type Finding } from '../../shared/yaml-source.ts';
import { DEFAULT_RULE_LIMITS, type ContextLimits } from './limits.ts';

/**
 * rules/assets.yml, the asset register: each shared server, its unit, its security level (1-5 under
 * Decree 85/2016) and who to call. Incident severity rises with the level (shared/incident.ts severityFor).
 */
const Contact = z.object({ name: z.string().min(1), email: z.email().optional(), phone: z.string().min(1).optional() }).strict();

const AssetSchema = z
  .object({
    host: z.string().min(1),
    /** Other names and addresses the host appears under in logs. */
    aliases: z.array(z.string().min(1)).default([]),
    unit: z.string().min(1),
    security_level: z.number().int().min(1).max(5),
    owner: Contact,
    description: z.string().optional(),
  })
  .strict();

export const AssetsFileSchema = z.object({ assets: z.array(AssetSchema).default([]) }).strict();

export type Asset = z.infer<typeof AssetSchema>;

export class AssetRegister {
  private readonly byName = new Map<string, Asset>();
  /** First label of each registered host name, first asset wins: every event asks, so no scan per lookup. */
  private readonly byShortName = new Map<string, Asset>();

  constructor(readonly assets: readonly Asset[] = []) {
    for (const a of assets) {
      for (const n of [a.host, ...a.aliases]) this.byName.set(n.toLowerCase(), a);
      const short = a.host.toLowerCase().split('.')[0]!;
      if (!this.byShortName.has(short)) this.byShortName.set(short, a);
    }
  }

  /** By host name, alias or address, case-insensitive; a short name also finds its FQDN's asset. */
  lookup(host: string): Asset | undefined {
    const lower = host.toLowerCase();
    const hit = this.byName.get(lower);
    if (hit) return hit;
    return lower.includes('.') ? undefined : this.byShortName.get(lower);
  }

  /** The registered host names: the groups a flatline rule expects to hear from. */
  hosts(): string[] {
    return this.assets.map((a) => a.host);
  }

  static empty(): AssetRegister {
    return new AssetRegister();
  }

  /**
   * This register plus the assets of `extra` it does not know by any name (its own entries win): the
   * demo's sample register beside the rules folder's, so that a real register is never overridden.
   */
  with(extra: AssetRegister): AssetRegister {
    if (!extra.assets.length) return this;
    const known = (a: Asset) => [a.host, ...a.aliases].some((n) => this.byName.has(n.toLowerCase()));
    return new AssetRegister([...this.assets, ...extra.assets.filter((a) => !known(a))]);
  }

  /**
   * A missing file is an empty register; a broken one, or one past `maxFileBytes` or `maxAssets`, is
   * reported (the caller keeps its previous register).
   */
  static load(
    file: string,
    limits: Pick<ContextLimits, 'maxFileBytes' | 'maxAssets'> = DEFAULT_RULE_LIMITS,
  ): { register: AssetRegister | null; findings: Finding[] } {
    if (!existsSync(file)) return { register: AssetRegister.empty(), findings: [] };
    const { source, findings } = readYamlFileBounded(file, limits.maxFileBytes, 'correlator.ruleLimits.maxFileBytes');
    if (!source || findings.some((f) => f.severity === 'error')) return { register: null, findings };
    const data = toData(source);
    if ('finding' in data) return { register: null, findings: [...findings, data.finding] };
    const parsed = AssetsFileSchema.safeParse(data.data ?? {});
    if (!parsed.success) return { register: null, findings: [...findings, ...zodFindings(source, parsed.error)] };
    if (parsed.data.assets.length > limits.maxAssets) {
      const message = `${parsed.data.assets.length} assets, more than the limit of ${limits.maxAssets} (correlator.ruleLimits.maxAssets)`;
      return { register: null, findings: [...findings, { file, ...positionOf(source, ['assets']), severity: 'error', message }] };
    }
    const seen = new Map<string, number>();
    const dup: Finding[] = [];
    parsed.data.assets.forEach((a, i) => {
      for (const n of [a.host, ...a.aliases]) {
        const k = n.toLowerCase();
        if (seen.has(k) && seen.get(k) !== i) {
          dup.push({
            file,
            ...positionOf(source, ['assets', i, 'host']),
            severity: 'error',
            message: `'${n}' is registered twice (also asset ${seen.get(k)! + 1})`,
          });
        }
        seen.set(k, i);
      }
    });
    if (dup.length) return { register: null, findings: [...findings, ...dup] };
    return { register: new AssetRegister(parsed.data.assets), findings };
  }
}
