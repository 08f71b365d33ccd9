import { describe, expect, it } from 'vitest';
import { alertFixture, incidentFixture } from '../../../shared/store/fixtures.ts';
import { identityId, incidentBundle, observablesOf, uuidv5, type ProvinceIdentity } from './stix.ts';
import { BundleSchema } from './stix-schema.ts';

const identity: ProvinceIdentity = {
  name: 'Sở Thông tin và Truyền thông tỉnh Thử',
  sectors: ['government-local'],
  since: '2019-06-07T00:00:00.000Z',
  contact: 'soc@tinh.gov.vn',
};
const HASH = 'a'.repeat(64);

function richIncident() {
  const inc = incidentFixture({
    id: 'inc-outbreak',
    group: { 'source.ip': '203.0.113.7' },
    severity: 'critical',
    layer: 2,
    alert_count: 3,
    first_seen: '2026-11-20T03:00:00.000Z',
    last_seen: '2026-11-20T03:20:00.000Z',
    updated_at: '2026-11-20T03:21:00.000Z',
    version: 4,
    report_due: '2026-11-25T03:00:00.000Z',
  });
  const alert = alertFixture(inc, 1);
  alert.events = [
    { source: { ip: '10.0.0.9' }, file: { hash: { sha256: HASH.toUpperCase() } }, threat: { software: { name: 'Win.Trojan.Agent-123' } } },
    { source: { ip: '2001:db8::7' }, url: { domain: 'bad.example.net' } },
    // Inbound to the province's own public server: that address is never an indicator.
    { source: { ip: '203.0.113.7' }, destination: { ip: '198.18.0.10' } },
  ];
  return { inc, alerts: [alert] };
}

describe('STIX 2.1 bundle of an incident', () => {
  it('derives ids as RFC 4122 version 5 and SCO ids as the specification does', () => {
    expect(uuidv5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    const { inc } = richIncident();
    const b = incidentBundle(inc, { identity, tlp: 'amber' });
    expect(b.objects!.find((o) => o.type === 'ipv4-addr')!.id).toBe('ipv4-addr--9ddd739e-87b1-587d-83f2-62ef1130af2f');
  });

  it('is valid by the schema, every reference resolves, and private addresses stay home', () => {
    const { inc, alerts } = richIncident();
    const bundle = incidentBundle(inc, { identity, tlp: 'amber', alerts });
    const parsed = BundleSchema.safeParse(bundle);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);

    const byType = (t: string) => bundle.objects!.filter((o) => o.type === t);
    expect(byType('identity')).toEqual([expect.objectContaining({ id: identityId(identity), name: identity.name, identity_class: 'organization' })]);
    expect(byType('incident')).toEqual([
      expect.objectContaining({
        name: inc.rule.title,
        created: '2026-11-20T03:00:00.000Z',
        modified: '2026-11-20T03:21:00.000Z',
        external_references: [{ source_name: 'canhgac', external_id: 'inc-outbreak' }],
      }),
    ]);
    expect(
      byType('indicator')
        .map((o) => o.pattern)
        .sort(),
    ).toEqual([
      "[domain-name:value = 'bad.example.net']",
      `[file:hashes.'SHA-256' = '${HASH}']`,
      "[ipv4-addr:value = '203.0.113.7']",
      "[ipv6-addr:value = '2001:db8::7']",
    ]);
    expect(byType('malware')).toEqual([expect.objectContaining({ name: 'Win.Trojan.Agent-123', is_family: true })]);
    // One sighting per indicator and malware, by the province, with the observed data.
    const sightings = byType('sighting');
    expect(sightings).toHaveLength(5);
    const od = byType('observed-data')[0]!;
    expect(od).toMatchObject({ number_observed: 3, first_observed: '2026-11-20T03:00:00.000Z', last_observed: '2026-11-20T03:20:00.000Z' });
    expect((od.object_refs as string[]).length).toBe(4);
    for (const s of sightings) expect(s).toMatchObject({ where_sighted_refs: [identityId(identity)], observed_data_refs: [od.id], count: 3 });
    for (const o of bundle.objects!)
      if (o.type !== 'identity' && o.spec_version === '2.1' && 'created' in o)
        expect(o.object_marking_refs).toEqual(['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82']);
    expect(JSON.stringify(bundle)).not.toContain('10.0.0.9');
    expect(JSON.stringify(bundle)).not.toContain('198.18.0.10');
  });

  it('takes the destination of traffic leaving a private address as the other side', () => {
    const inc = incidentFixture({ id: 'inc-c2', group: { 'host.name': 'web-01' } });
    const alert = alertFixture(inc, 1);
    alert.events = [{ source: { ip: '10.10.2.5', port: 50123 }, destination: { ip: '198.51.100.99', port: 443 } }];
    expect(observablesOf(inc, [alert]).ips).toEqual(['198.51.100.99']);
  });

  it('keeps object ids across versions of the incident and changes the bundle id', () => {
    const { inc } = richIncident();
    const a = incidentBundle(inc, { identity, tlp: 'green' });
    const again = incidentBundle(inc, { identity, tlp: 'green' });
    const later = incidentBundle({ ...inc, version: 5, status: 'resolved', updated_at: '2026-11-21T00:00:00.000Z' }, { identity, tlp: 'green' });
    expect(again).toEqual(a);
    expect(later.id).not.toBe(a.id);
    expect(later.objects!.map((o) => o.id)).toEqual(a.objects!.map((o) => o.id));
    expect(later.objects!.find((o) => o.type === 'incident')!.modified).toBe('2026-11-21T00:00:00.000Z');
    // Another province derives other ids from the same incident.
    const other = incidentBundle(inc, { identity: { ...identity, name: 'Tỉnh Khác' }, tlp: 'green' });
    expect(other.objects!.find((o) => o.type === 'incident')!.id).not.toBe(a.objects!.find((o) => o.type === 'incident')!.id);
  });

  it('without observables still reports the incident by the province, valid', () => {
    const inc = incidentFixture({ id: 'inc-av-off', group: { 'host.name': 'web-01' }, host: ['web-01'] });
    expect(observablesOf(inc)).toEqual({ ips: [], domains: [], sha256: [], malware: [] });
    const b = incidentBundle(inc, { identity, tlp: 'red' });
    expect(BundleSchema.safeParse(b).success).toBe(true);
    expect(b.objects!.map((o) => o.type)).toEqual(['identity', 'incident']);
  });

  it('the schema refuses what the specification forbids', () => {
    const { inc, alerts } = richIncident();
    const good = incidentBundle(inc, { identity, tlp: 'amber', alerts });
    const broken = (edit: (objects: Record<string, unknown>[]) => void) => {
      const copy = structuredClone(good) as { objects: Record<string, unknown>[] };
      edit(copy.objects);
      return BundleSchema.safeParse(copy).success;
    };
    const first = (objects: Record<string, unknown>[], type: string) => objects.find((o) => o.type === type)!;
    expect(broken(() => undefined)).toBe(true);
    expect(broken((o) => delete first(o, 'incident').spec_version)).toBe(false);
    expect(broken((o) => (first(o, 'incident').spec_version = '2.0'))).toBe(false);
    expect(broken((o) => (first(o, 'indicator').id = 'indicator--not-a-uuid'))).toBe(false);
    expect(broken((o) => (first(o, 'indicator').created = '2026-11-20T03:00:00Z'))).toBe(false);
    expect(broken((o) => (first(o, 'indicator').modified = '2026-11-19T03:00:00.000Z'))).toBe(false);
    expect(broken((o) => delete first(o, 'indicator').pattern)).toBe(false);
    expect(broken((o) => delete first(o, 'malware').is_family)).toBe(false);
    expect(broken((o) => (first(o, 'observed-data').number_observed = 0))).toBe(false);
    expect(broken((o) => (first(o, 'sighting').sighting_of_ref = first(o, 'ipv4-addr').id))).toBe(false);
    expect(broken((o) => (first(o, 'sighting').where_sighted_refs = [`identity--${uuidv5(uuidv5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'x'), 'y')}`]))).toBe(
      false,
    );
    expect(broken((o) => o.push({ type: 'x-unknown', id: 'x-unknown--886313e1-3b8a-5372-9b90-0c9aee199e5d' }))).toBe(false);
    expect(BundleSchema.safeParse({ ...good, spec_version: '2.1' }).success).toBe(false);
  });
});
