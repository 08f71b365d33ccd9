import type { estypes } from '@elastic/elasticsearch';

/**
 * The least each component needs in Elasticsearch, as roles for POST /_security/role/<name>. The
 * templates are written once by `canhgac es setup` (as an administrator); the components then run
 * with `elasticsearch.manageTemplates: false` and need no cluster privilege beyond health.
 */
export function componentRoles(prefix: string): { name: string; role: estypes.SecurityPutRoleRequest }[] {
  const alerts = `${prefix}-alerts-*`;
  const incidents = `${prefix}-incidents`;
  const audit = `${prefix}-audit-*`;
  const meta = { managed_by: 'canhgac' };
  return [
    {
      // Writes alerts and incidents (optimistic concurrency needs realtime GET), appends to the audit trail,
      // creates the monthly indices as months begin.
      name: `${prefix}-correlator`,
      role: {
        name: `${prefix}-correlator`,
        cluster: ['monitor'],
        indices: [
          { names: [alerts, incidents], privileges: ['create_index', 'index', 'read', 'view_index_metadata'] },
          { names: [audit], privileges: ['create_index', 'create_doc', 'read', 'view_index_metadata'] },
        ],
        metadata: meta,
      },
    },
    {
      // Reads everything; acknowledges, assigns and closes incidents; appends the analysts' actions to the audit trail.
      name: `${prefix}-console`,
      role: {
        name: `${prefix}-console`,
        cluster: ['monitor'],
        indices: [
          { names: [alerts], privileges: ['create_index', 'read', 'view_index_metadata'] },
          { names: [incidents], privileges: ['create_index', 'index', 'read', 'view_index_metadata'] },
          { names: [audit], privileges: ['create_index', 'create_doc', 'read', 'view_index_metadata'] },
        ],
        metadata: meta,
      },
    },
    {
      // `canhgac drill` and `canhgac operations`: read incidents to check a drill, write the audit of it.
      name: `${prefix}-operations`,
      role: {
        name: `${prefix}-operations`,
        cluster: ['monitor'],
        indices: [
          { names: [alerts], privileges: ['create_index', 'read', 'view_index_metadata'] },
          { names: [incidents], privileges: ['create_index', 'index', 'read', 'view_index_metadata'] },
          { names: [audit], privileges: ['create_index', 'create_doc', 'read', 'view_index_metadata'] },
        ],
        metadata: meta,
      },
    },
  ];
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
