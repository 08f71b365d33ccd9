import type { NormalizedEvent } from '../../shared/event.ts';

/** The asset register as placement asks it: by host name, alias or address (rules/assets.yml). */
export type AssetFinder = (name: string) => { host?: string; unit?: string; securityLevel?: number } | undefined;

export interface PlacementContext {
  assets?: AssetFinder;
  /** The host the collector that shipped the line runs on, and the unit it was configured with. */
  collector?: { host: string; unit?: string };
}

interface Endpointish {
  ip?: unknown;
  domain?: unknown;
  address?: unknown;
}

/** Addresses and names of one side of the connection, in the order the register is asked. */
function names(side: Endpointish | undefined): string[] {
  if (!side) return [];
  const out: string[] = [];
  for (const v of [side.ip, side.domain, side.address]) if (typeof v === 'string' && v.length > 0 && !out.includes(v)) out.push(v);
  return out;
}

function firstLabel(host: string): string {
  const lower = host.toLowerCase();
  const dot = lower.indexOf('.');
  return dot > 0 ? lower.slice(0, dot) : lower;
}

/**
 * The appliance that logged: the name the line gives, else the host the collector received it from; under
 * the register's name when it is registered (so that "FGT-DC" and "fgt-dc" are one log source), the name as
 * logged staying in observer.hostname.
 */
function nameObserver(e: Record<string, unknown>, ctx: PlacementContext): void {
  const o = e.observer as { name?: unknown; hostname?: unknown } | undefined;
  if (o === undefined) return;
  if (typeof o.name !== 'string' || o.name.length === 0) {
    if (ctx.collector?.host === undefined) return;
    o.name = ctx.collector.host;
  }
  const registered = ctx.assets?.(o.name as string)?.host;
  if (registered !== undefined && registered !== o.name) {
    o.hostname ??= o.name;
    o.name = registered;
  }
}

/**
 * Which host an event is about, and so its unit and security level (see README.md, "Observer and host").
 * Runs once after decoding for every decoder. An event whose decoder named no host (an appliance's line)
 * is about the registered server it saw (destination first, or the source of outbound traffic), else about
 * the appliance itself, else about the collector's host. The register then gives the unit and the
 * security level; the collector's unit only counts for events about the collector's own host.
 */
export function placeEvent(event: NormalizedEvent, ctx: PlacementContext): void {
  const e = event as NormalizedEvent & Record<string, unknown>;
  if (ctx.assets === undefined && ctx.collector === undefined) {
    // One line on its own (canhgac decode, rule tests): an appliance's line is about the appliance.
    const name = e.host?.name === undefined ? (e.observer as { name?: unknown } | undefined)?.name : undefined;
    if (typeof name === 'string' && name.length > 0) (e.host ??= {}).name = name;
    return;
  }
  nameObserver(e, ctx);
  let host = e.host?.name;
  let asset: ReturnType<AssetFinder>;
  if (host === undefined) {
    if (ctx.assets) {
      const outbound = e.network?.direction === 'outbound' || e.network?.direction === 'egress';
      const sides = outbound ? [e.source, e.destination] : [e.destination, e.source];
      search: for (const side of sides) {
        for (const n of names(side as Endpointish | undefined)) {
          asset = ctx.assets(n);
          if (asset) {
            host = asset.host ?? n;
            const h = (e.host ??= {});
            h.name = host;
            if (n === (side as Endpointish).ip) h.ip = n;
            break search;
          }
        }
      }
    }
    if (host === undefined) {
      const observerName = (e.observer as { name?: unknown } | undefined)?.name;
      const fallback = typeof observerName === 'string' && observerName.length > 0 ? observerName : ctx.collector?.host;
      if (fallback !== undefined) {
        // Under the name the register gives it, so that one appliance groups as one host.
        asset = ctx.assets?.(fallback);
        host = asset?.host ?? fallback;
        (e.host ??= {}).name = host;
      }
    }
  }
  if (host === undefined) return;
  asset ??= ctx.assets?.(host);
  if (asset?.unit !== undefined || asset?.securityLevel !== undefined) {
    const labels = (e.labels ??= {}) as Record<string, string>;
    if (asset.unit !== undefined) labels.unit = asset.unit;
    if (asset.securityLevel !== undefined) labels.security_level = String(asset.securityLevel);
  } else if (ctx.collector?.unit !== undefined && firstLabel(host) === firstLabel(ctx.collector.host)) {
    (e.labels ??= {}).unit = ctx.collector.unit;
  }
}
