import { z } from 'zod';

/**
 * STIX 2.1 (OASIS Committee Specification, 2021) as zod schemas: the common properties (section 3.2),
 * and the required properties of the objects canhgac exports and imports. Exported bundles are checked
 * against it before they leave; imported indicator bundles are read through it.
 */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

export const stixId = (type: string) => z.string().regex(new RegExp(`^${type}--${UUID}$`), `an identifier '${type}--<RFC 4122 UUID>'`);
const anyId = z.string().regex(new RegExp(`^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]--${UUID}$`), 'an identifier TYPE--UUID');

/** RFC 3339 in UTC ("Z"); created and modified must carry milliseconds (section 3.2). */
const Timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'an RFC 3339 UTC timestamp')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'a real date');
const TimestampMs = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,}Z$/, 'an RFC 3339 UTC timestamp precise to the millisecond');

const ExternalReference = z
  .object({
    source_name: z.string().min(1),
    description: z.string().optional(),
    url: z.string().optional(),
    external_id: z.string().optional(),
    hashes: z.record(z.string(), z.string()).optional(),
  })
  .refine(
    (r) => r.description !== undefined || r.url !== undefined || r.external_id !== undefined,
    'an external reference needs a description, url or external_id',
  );

/** Custom properties (section 11.1): lower-case a-z, 0-9 and _, 3 to 250 characters. */
const customKeys = (o: Record<string, unknown>, known: Set<string>) => Object.keys(o).every((k) => known.has(k) || /^[a-z0-9_]{3,250}$/.test(k));

/** Common properties of every SDO and SRO (section 3.2). */
const sdoCommon = (type: string) => ({
  type: z.literal(type),
  spec_version: z.literal('2.1'),
  id: stixId(type),
  created: TimestampMs,
  modified: TimestampMs,
  created_by_ref: stixId('identity').optional(),
  revoked: z.boolean().optional(),
  labels: z.array(z.string().min(1)).optional(),
  confidence: z.number().int().min(0).max(100).optional(),
  lang: z.string().optional(),
  external_references: z.array(ExternalReference).optional(),
  object_marking_refs: z.array(stixId('marking-definition')).optional(),
});

function sdo<S extends z.ZodRawShape>(type: string, shape: S) {
  const schema = z.looseObject({ ...sdoCommon(type), ...shape });
  const known = new Set(Object.keys(schema.shape));
  return schema
    .refine((o) => Date.parse(o.modified as string) >= Date.parse(o.created as string), {
      message: 'modified must not be earlier than created',
      path: ['modified'],
    })
    .refine((o) => customKeys(o, known), 'custom property names are lower-case a-z, 0-9 and _, 3 to 250 characters');
}

/** Common properties of SCOs (section 3.2): spec_version is optional there, id required. */
function sco<S extends z.ZodRawShape>(type: string, shape: S) {
  return z.looseObject({
    type: z.literal(type),
    id: stixId(type),
    spec_version: z.literal('2.1').optional(),
    object_marking_refs: z.array(stixId('marking-definition')).optional(),
    defanged: z.boolean().optional(),
    ...shape,
  });
}

export const IdentitySchema = sdo('identity', {
  name: z.string().min(1),
  description: z.string().optional(),
  roles: z.array(z.string()).optional(),
  identity_class: z.string().optional(),
  sectors: z.array(z.string()).optional(),
  contact_information: z.string().optional(),
});

export const IndicatorSchema = sdo('indicator', {
  name: z.string().optional(),
  description: z.string().optional(),
  indicator_types: z.array(z.string()).optional(),
  pattern: z.string().min(1),
  pattern_type: z.string().min(1),
  pattern_version: z.string().optional(),
  valid_from: Timestamp,
  valid_until: Timestamp.optional(),
}).refine((o) => o.valid_until === undefined || Date.parse(o.valid_until) > Date.parse(o.valid_from), {
  message: 'valid_until must be later than valid_from',
  path: ['valid_until'],
});

export const MalwareSchema = sdo('malware', {
  name: z.string().optional(),
  is_family: z.boolean(),
  malware_types: z.array(z.string()).optional(),
}).refine((o) => !o.is_family || (o.name !== undefined && o.name.length > 0), { message: 'a malware family needs a name', path: ['name'] });

export const IncidentSdoSchema = sdo('incident', { name: z.string().min(1), description: z.string().optional() });

export const ObservedDataSchema = sdo('observed-data', {
  first_observed: Timestamp,
  last_observed: Timestamp,
  number_observed: z.number().int().min(1).max(999_999_999),
  object_refs: z.array(anyId).min(1),
}).refine((o) => Date.parse(o.last_observed) >= Date.parse(o.first_observed), {
  message: 'last_observed must not be earlier than first_observed',
  path: ['last_observed'],
});

export const SightingSchema = sdo('sighting', {
  description: z.string().optional(),
  first_seen: Timestamp.optional(),
  last_seen: Timestamp.optional(),
  count: z.number().int().min(0).max(999_999_999).optional(),
  sighting_of_ref: anyId.refine(
    (id) =>
      !/^(relationship|sighting|marking-definition|language-content|extension-definition|bundle)--/.test(id) && !SCO_TYPES.some((t) => id.startsWith(`${t}--`)),
    'sighting_of_ref names an SDO',
  ),
  observed_data_refs: z.array(stixId('observed-data')).optional(),
  where_sighted_refs: z.array(z.union([stixId('identity'), stixId('location')])).optional(),
  summary: z.boolean().optional(),
}).refine((o) => !o.first_seen || !o.last_seen || Date.parse(o.last_seen) >= Date.parse(o.first_seen), {
  message: 'last_seen must not be earlier than first_seen',
  path: ['last_seen'],
});

export const RelationshipSchema = sdo('relationship', { relationship_type: z.string().regex(/^[a-z0-9-]+$/), source_ref: anyId, target_ref: anyId });

export const Ipv4AddrSchema = sco('ipv4-addr', { value: z.string().min(1) });
export const Ipv6AddrSchema = sco('ipv6-addr', { value: z.string().min(1) });
export const DomainNameSchema = sco('domain-name', { value: z.string().min(1) });
export const UrlSchema = sco('url', { value: z.string().min(1) });
export const FileSchema = sco('file', { hashes: z.record(z.string(), z.string().min(1)).optional(), name: z.string().optional() }).refine(
  (f) => (f.hashes && Object.keys(f.hashes).length > 0) || f.name,
  'a file needs hashes or a name',
);

const SCO_TYPES = [
  'ipv4-addr',
  'ipv6-addr',
  'domain-name',
  'url',
  'file',
  'artifact',
  'autonomous-system',
  'directory',
  'email-addr',
  'email-message',
  'mac-addr',
  'mutex',
  'network-traffic',
  'process',
  'software',
  'user-account',
  'windows-registry-key',
  'x509-certificate',
];

const SCHEMAS: Record<string, z.ZodType> = {
  identity: IdentitySchema,
  indicator: IndicatorSchema,
  malware: MalwareSchema,
  incident: IncidentSdoSchema,
  'observed-data': ObservedDataSchema,
  sighting: SightingSchema,
  relationship: RelationshipSchema,
  'ipv4-addr': Ipv4AddrSchema,
  'ipv6-addr': Ipv6AddrSchema,
  'domain-name': DomainNameSchema,
  url: UrlSchema,
  file: FileSchema,
};

/** One object of a type canhgac writes, checked by its type's schema; any other type is refused. */
export const StixObjectSchema = z.looseObject({ type: z.string() }).superRefine((o, ctx) => {
  const schema = SCHEMAS[o.type];
  if (!schema) {
    ctx.addIssue({ code: 'custom', message: `'${o.type}' is not a STIX object type canhgac exports`, path: ['type'] });
    return;
  }
  const r = schema.safeParse(o);
  if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message, path: issue.path } as never);
});

/** A bundle (section 8): no spec_version of its own in 2.1. */
export const BundleSchema = z
  .object({ type: z.literal('bundle'), id: stixId('bundle'), objects: z.array(StixObjectSchema).optional() })
  .strict()
  .superRefine((b, ctx) => {
    const ids = new Set((b.objects ?? []).map((o) => o.id as string));
    (b.objects ?? []).forEach((o, i) => {
      for (const [k, v] of Object.entries(o)) {
        const refs = k.endsWith('_ref') ? [v] : k.endsWith('_refs') && Array.isArray(v) ? v : [];
        for (const r of refs) {
          // TLP markings are defined by the specification itself; everything else must be in the bundle.
          if (typeof r === 'string' && !r.startsWith('marking-definition--') && !ids.has(r))
            ctx.addIssue({ code: 'custom', message: `${k} names ${r}, which is not in the bundle`, path: ['objects', i, k] });
        }
      }
    });
  });
export type StixBundle = z.infer<typeof BundleSchema>;

/** An inbound bundle: the envelope strictly, objects only by type and id (the indicators are read further). */
export const InboundBundleSchema = z.object({
  type: z.literal('bundle'),
  id: stixId('bundle'),
  objects: z.array(z.looseObject({ type: z.string().min(1), id: anyId })).default([]),
});
