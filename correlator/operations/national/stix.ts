import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Alert, Incident } from '../../../shared/incident.ts';
import type { StixBundle } from './stix-schema.ts';

/** The namespace STIX 2.1 gives for deterministic SCO identifiers (section 2.9). */
export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** canhgac's own namespace; a province's identity and objects derive from it and the province's name. */
const CANHGAC_NAMESPACE = '7c3f0b52-6a3e-5d1e-9f41-2a9d5b0c8e17';

/** The TLP 1.0 marking definitions the specification itself defines (section 7.2.1.4). */
export const TLP_MARKINGS = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;
export type Tlp = keyof typeof TLP_MARKINGS;

/** RFC 4122 version 5 (SHA-1, name-based). */
export function uuidv5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** JSON with keys sorted at every level: enough of RFC 8785 for the string-valued properties ids derive from. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export interface ProvinceIdentity {
  /** The province's name as the national centre knows it, e.g. "Sở Thông tin và Truyền thông tỉnh X". */
  name: string;
  /** Fixed once per province; derived from the name when absent. */
  namespace?: string;
  contact?: string;
  sectors: string[];
  /** When the identity object was first published (its created/modified). */
  since: string;
}

export interface BundleOptions {
  identity: ProvinceIdentity;
  tlp: Tlp;
  /** The incident's alerts, whose triggering events contribute file hashes and malware names. */
  alerts?: Alert[];
}

type StixObject = Record<string, unknown> & { type: string; id: string };

const iso = (t: string) => new Date(Date.parse(t)).toISOString();

function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127) ||
      a >= 224
    );
  }
  const l = ip.toLowerCase();
  return l === '::1' || l === '::' || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('fe80') || l.startsWith('ff');
}

/** What the incident's group and events say about the other side: addresses, domains, hashes, malware. */
export interface Observables {
  ips: string[];
  domains: string[];
  sha256: string[];
  malware: string[];
}

const DOMAIN_FIELDS = ['destination.domain', 'url.domain', 'dns.question.name'];
const HASH_FIELDS = ['file.hash.sha256'];
const MALWARE_FIELDS = ['threat.software.name'];

function path(o: Record<string, unknown>, dotted: string): unknown {
  if (dotted in o) return o[dotted];
  let cur: unknown = o;
  for (const part of dotted.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const publicIp = (v: unknown): v is string => typeof v === 'string' && isIP(v) !== 0 && !isPrivateAddress(v);
const privateIp = (v: unknown): v is string => typeof v === 'string' && isIP(v) !== 0 && isPrivateAddress(v);

/**
 * The other side's address in one record: a public source (inbound), or the public destination of
 * traffic leaving a private address (outbound, e.g. to a command server). Never a public destination of
 * inbound traffic: that is the province's own server.
 */
function otherSide(r: Record<string, unknown>): string | null {
  const src = path(r, 'source.ip');
  const dst = path(r, 'destination.ip');
  if (publicIp(src)) return src;
  if (privateIp(src) && publicIp(dst)) return dst;
  return null;
}

/**
 * Observables worth sharing: never the province's own addresses (private ones mean nothing outside and
 * reveal the internal network), only what identifies the other side or the malware.
 */
export function observablesOf(incident: Incident, alerts: Alert[] = []): Observables {
  const records: Record<string, unknown>[] = [incident.group, ...alerts.flatMap((a) => [a.group, ...a.events])];
  const collect = (fields: string[], ok: (v: string) => boolean) => {
    const out = new Set<string>();
    for (const r of records)
      for (const f of fields) {
        const v = path(r, f);
        if (typeof v === 'string' && ok(v.trim())) out.add(v.trim());
      }
    return [...out].sort();
  };
  const ips = new Set<string>();
  for (const r of records) {
    const ip = otherSide(r);
    if (ip) ips.add(ip.toLowerCase());
  }
  return {
    ips: [...ips].sort(),
    domains: collect(DOMAIN_FIELDS, (v) => /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(v)).map((d) => d.toLowerCase()),
    sha256: collect(HASH_FIELDS, (v) => /^[0-9a-f]{64}$/i.test(v)).map((h) => h.toLowerCase()),
    malware: collect(MALWARE_FIELDS, (v) => v.length > 0 && v.length <= 256),
  };
}

export function provinceNamespace(identity: ProvinceIdentity): string {
  return identity.namespace ?? uuidv5(CANHGAC_NAMESPACE, identity.name);
}

export function identityId(identity: ProvinceIdentity): string {
  return `identity--${uuidv5(provinceNamespace(identity), 'identity')}`;
}

/** A pattern's string literal: quotes and backslashes escaped (STIX patterning, section 9.2). */
const literal = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The STIX 2.1 bundle reporting one incident: the province's identity, the incident, and for each
 * observable an SCO in one observed-data, an indicator and a sighting of it by the province (a malware
 * name becomes a malware object, sighted too). Ids are deterministic (`type--uuidv5`): exporting the same
 * incident again yields the same objects, and a later version of the incident the same ids with a newer
 * `modified`, as STIX versioning wants.
 */
export function incidentBundle(incident: Incident, opts: BundleOptions): StixBundle {
  const ns = provinceNamespace(opts.identity);
  const id = (type: string, key: string) => `${type}--${uuidv5(ns, `${type}\u0000${incident.id}\u0000${key}`)}`;
  const scoId = (type: string, props: Record<string, unknown>) => `${type}--${uuidv5(STIX_SCO_NAMESPACE, canonical(props))}`;
  const marking = [TLP_MARKINGS[opts.tlp]];
  const created = iso(incident.first_seen);
  const modified = new Date(Math.max(Date.parse(created), Date.parse(incident.updated_at))).toISOString();
  const firstSeen = created;
  const lastSeen = new Date(Math.max(Date.parse(created), Date.parse(incident.last_seen))).toISOString();
  const who = identityId(opts.identity);
  const common = { spec_version: '2.1', created, modified, created_by_ref: who, object_marking_refs: marking };

  const identity: StixObject = {
    type: 'identity',
    spec_version: '2.1',
    id: who,
    created: iso(opts.identity.since),
    modified: iso(opts.identity.since),
    name: opts.identity.name,
    identity_class: 'organization',
    sectors: opts.identity.sectors,
    ...(opts.identity.contact ? { contact_information: opts.identity.contact } : {}),
  };
  const objects: StixObject[] = [identity];
  objects.push({
    type: 'incident',
    id: id('incident', ''),
    ...common,
    name: incident.rule.title,
    description: [
      `Detected by rule ${incident.rule.id} (${incident.rule.title}).`,
      `Severity ${incident.severity}, layer ${incident.layer}, status ${incident.status}.`,
      `Unit: ${incident.unit ?? 'unknown'}; hosts: ${incident.host.join(', ') || 'none'}.`,
      `${incident.alert_count} alert(s) from ${firstSeen} to ${lastSeen}.`,
    ].join(' '),
    labels: [`severity:${incident.severity}`, `layer:${incident.layer}`],
    external_references: [{ source_name: 'canhgac', external_id: incident.id }],
    x_canhgac_status: incident.status,
    x_canhgac_unit: incident.unit,
    x_canhgac_first_seen: firstSeen,
    x_canhgac_last_seen: lastSeen,
    ...(incident.report_due ? { x_canhgac_report_due: iso(incident.report_due) } : {}),
  });

  const obs = observablesOf(incident, opts.alerts);
  const scos: StixObject[] = [];
  const sighted: string[] = [];
  const indicator = (key: string, name: string, pattern: string) => {
    const ind: StixObject = {
      type: 'indicator',
      id: id('indicator', key),
      ...common,
      name,
      indicator_types: ['malicious-activity'],
      pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: firstSeen,
    };
    objects.push(ind);
    sighted.push(ind.id);
  };
  for (const ip of obs.ips) {
    const type = isIP(ip) === 4 ? 'ipv4-addr' : 'ipv6-addr';
    scos.push({ type, spec_version: '2.1', id: scoId(type, { value: ip }), value: ip });
    indicator(`ip:${ip}`, `Address seen in: ${incident.rule.title}`, `[${type}:value = ${literal(ip)}]`);
  }
  for (const d of obs.domains) {
    scos.push({ type: 'domain-name', spec_version: '2.1', id: scoId('domain-name', { value: d }), value: d });
    indicator(`domain:${d}`, `Domain seen in: ${incident.rule.title}`, `[domain-name:value = ${literal(d)}]`);
  }
  for (const h of obs.sha256) {
    scos.push({ type: 'file', spec_version: '2.1', id: scoId('file', { hashes: { 'SHA-256': h } }), hashes: { 'SHA-256': h } });
    indicator(`sha256:${h}`, `File seen in: ${incident.rule.title}`, `[file:hashes.'SHA-256' = ${literal(h)}]`);
  }
  for (const m of obs.malware) {
    const mw: StixObject = { type: 'malware', id: id('malware', m), ...common, name: m, is_family: true };
    objects.push(mw);
    sighted.push(mw.id);
  }
  let observedId: string | null = null;
  if (scos.length) {
    observedId = id('observed-data', '');
    objects.push(...scos);
    objects.push({
      type: 'observed-data',
      id: observedId,
      ...common,
      first_observed: firstSeen,
      last_observed: lastSeen,
      number_observed: Math.min(incident.alert_count, 999_999_999),
      object_refs: scos.map((s) => s.id),
    });
  }
  for (const target of sighted) {
    objects.push({
      type: 'sighting',
      id: id('sighting', target),
      ...common,
      sighting_of_ref: target,
      where_sighted_refs: [who],
      ...(observedId ? { observed_data_refs: [observedId] } : {}),
      first_seen: firstSeen,
      last_seen: lastSeen,
      count: Math.min(incident.alert_count, 999_999_999),
    });
  }
  return { type: 'bundle', id: `bundle--${uuidv5(ns, `bundle\u0000${incident.id}\u0000${incident.version}`)}`, objects };
}
