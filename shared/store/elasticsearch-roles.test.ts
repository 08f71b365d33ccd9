import { describe, expect, it } from 'vitest';
import { componentRoles, monthlyIndexPolicy } from './elasticsearch-roles.ts';

const READ = ['create_index', 'read', 'view_index_metadata'];
const WRITE = ['create_index', 'index', 'read', 'view_index_metadata'];
const APPEND = ['create_index', 'create_doc', 'read', 'view_index_metadata'];

describe('componentRoles', () => {
  const roles = componentRoles('soc');
  const byName = new Map(roles.map((r) => [r.name, r.role]));

  it('one role per component, named after the prefix, with cluster monitor only', () => {
    expect(roles.map((r) => r.name)).toEqual(['soc-correlator', 'soc-console', 'soc-operations']);
    for (const { name, role } of roles) {
      expect(role.name).toBe(name);
      expect(role.cluster).toEqual(['monitor']);
      expect(role.metadata).toEqual({ managed_by: 'canhgac' });
    }
  });

  it('the correlator writes alerts and incidents and appends to the audit trail', () => {
    expect(byName.get('soc-correlator')!.indices).toEqual([
      { names: ['soc-alerts-*', 'soc-incidents'], privileges: WRITE },
      { names: ['soc-audit-*'], privileges: APPEND },
    ]);
  });

  it('the console and operations read alerts, write incidents and append to the audit trail', () => {
    for (const name of ['soc-console', 'soc-operations']) {
      expect(byName.get(name)!.indices).toEqual([
        { names: ['soc-alerts-*'], privileges: READ },
        { names: ['soc-incidents'], privileges: WRITE },
        { names: ['soc-audit-*'], privileges: APPEND },
      ]);
    }
  });

  it('no component may delete or overwrite an audit entry', () => {
    for (const { role } of roles) {
      const audit = role.indices!.find((i) => (i.names as string[]).includes('soc-audit-*'))!;
      expect(audit.privileges).not.toContain('index');
      expect(audit.privileges).not.toContain('delete');
    }
  });
});

describe('monthlyIndexPolicy', () => {
  it('deletes an index a month after the retention, so that its last day is kept in full', () => {
    const { name, policy } = monthlyIndexPolicy('soc', 12);
    expect(name).toBe('soc-monthly');
    expect(policy.phases?.delete).toEqual({ min_age: '403d', actions: { delete: {} } });
  });
});
