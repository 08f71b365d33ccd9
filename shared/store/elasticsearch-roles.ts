import type { estypes } from '@elastic/elasticsearch';

/** The index families of the store: monthly alert indices, the incidents index, monthly audit indices. */
type IndexFamily = 'alerts' | 'incidents' | 'audit';

/**
 * What a component does with an index family. Every access may create the index (a new month begins
 * while the component runs) and read it; `append` adds documents but can never replace one, which
 * keeps the audit trail append-only.
 */
type Access = 'read' | 'write' | 'append';

const PRIVILEGES: Record<Access, string[]> = {
  read: ['create_index', 'read', 'view_index_metadata'],
  write: ['create_index', 'index', 'read', 'view_index_metadata'],
  append: ['create_index', 'create_doc', 'read', 'view_index_metadata'],
};

const COMPONENTS: Record<string, Record<IndexFamily, Access>> = {
  // Writes alerts and incidents (optimistic concurrency needs realtime GET), appends to the audit trail.
  correlator: { alerts: 'write', incidents: 'write', audit: 'append' },
  // Reads everything; acknowledges, assigns and closes incidents; appends the analysts' actions to the audit trail.
  console: { alerts: 'read', incidents: 'write', audit: 'append' },
  // `canhgac drill` and `canhgac operations`: read incidents to check a drill, write the audit of it.
  operations: { alerts: 'read', incidents: 'write', audit: 'append' },
};

/** A component's role from what it does with each index family; families with the same access share one entry. */
function componentRole(prefix: string, component: string, access: Record<IndexFamily, Access>): estypes.SecurityPutRoleRequest {
  const patterns: Record<IndexFamily, string> = { alerts: `${prefix}-alerts-*`, incidents: `${prefix}-incidents`, audit: `${prefix}-audit-*` };
  const indices = new Map<Access, string[]>();
  for (const [family, a] of Object.entries(access) as [IndexFamily, Access][]) indices.set(a, [...(indices.get(a) ?? []), patterns[family]]);
  return {
    name: `${prefix}-${component}`,
    cluster: ['monitor'],
    indices: [...indices].map(([a, names]) => ({ names, privileges: PRIVILEGES[a] })),
    metadata: { managed_by: 'canhgac' },
  };
}

/**
 * The least each component needs in Elasticsearch, as roles for POST /_security/role/<name>. The
 * templates are written once by `canhgac es setup` (as an administrator); the components then run
 * with `elasticsearch.manageTemplates: false` and need no cluster privilege beyond health.
 */
export function componentRoles(prefix: string): { name: string; role: estypes.SecurityPutRoleRequest }[] {
  return Object.entries(COMPONENTS).map(([component, access]) => {
    const role = componentRole(prefix, component, access);
    return { name: role.name, role };
  });
}

/** Deletes a monthly index once the retention has passed (counted from the index's creation, at the month's start). */
export function monthlyIndexPolicy(prefix: string, retentionMonths: number): { name: string; policy: estypes.IlmPolicy } {
  // A month is at most 31 days; one more month so that the last day of the oldest month is kept in full.
  const days = (retentionMonths + 1) * 31;
  return {
    name: `${prefix}-monthly`,
    policy: { phases: { hot: { min_age: '0ms', actions: {} }, delete: { min_age: `${days}d`, actions: { delete: {} } } }, _meta: { managed_by: 'canhgac' } },
  };
}
