import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { severityFor } from '../../shared/incident.ts';
import { AssetRegister } from './assets.ts';
import { FieldMapping } from './fields/mapping.ts';
import { ListStore, readListFile } from './lists.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ctx-'));
const repoRules = join(import.meta.dirname, '..', '..', 'rules');

describe('lists', () => {
  it('reads .txt (one value a line, # comments) and .yml lists; a deleted file deletes its list', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ips.txt'), '# national feed\n1.2.3.4\n\n  5.6.7.8  \n');
    writeFileSync(join(dir, 'users.yml'), '- admin\n- root\n');
    writeFileSync(join(dir, 'hashes.yaml'), 'values: [abc, 123]\n');
    const store = new ListStore();
    expect(store.loadDir(dir)).toEqual([]);
    expect(store.get('ips')).toEqual(['1.2.3.4', '5.6.7.8']);
    expect(store.get('users')).toEqual(['admin', 'root']);
    expect(store.get('hashes')).toEqual(['abc', '123']);
    const version = store.entry('ips').version;
    rmSync(join(dir, 'ips.txt'));
    store.loadDir(dir);
    expect(store.has('ips')).toBe(false);
    expect(store.entry('ips').version).toBeGreaterThan(version);
  });
  it('a broken list file is reported and keeps its previous values', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x.yml'), '- a\n');
    const store = new ListStore();
    store.loadDir(dir);
    writeFileSync(join(dir, 'x.yml'), 'values: { nested: map }\n');
    const findings = store.loadDir(dir);
    expect(findings.map((f) => `${f.line}:${f.severity}`)).toEqual(['1:error']);
    expect(store.get('x')).toEqual(['a']);
    expect(readListFile(join(dir, 'x.yml')).values).toBeUndefined();
  });
  it('the example lists in rules/lists load', () => {
    const store = new ListStore();
    expect(store.loadDir(join(repoRules, 'lists'))).toEqual([]);
    expect(store.get('admin_ports')).toContain('3389');
  });
});

describe('asset register', () => {
  it('looks hosts up by name, alias, address and short name, case-insensitively', () => {
    const file = join(tmp(), 'assets.yml');
    writeFileSync(
      file,
      [
        'assets:',
        '  - { host: portal.tinh.gov.vn, aliases: [portal, 10.10.1.10], unit: Văn phòng UBND tỉnh, security_level: 3, owner: { name: An } }',
        '  - { host: mail.tinh.gov.vn, aliases: [10.10.1.20], unit: Sở Thông tin và Truyền thông, security_level: 4, owner: { name: Bình } }',
        '  - { host: dvc.tinh.gov.vn, unit: Trung tâm Phục vụ hành chính công, security_level: 3, owner: { name: Châu, email: chau.lm@tinh.gov.vn } }',
        '',
      ].join('\n'),
    );
    const { register, findings } = AssetRegister.load(file);
    expect(findings).toEqual([]);
    expect(register!.lookup('PORTAL.tinh.gov.vn')).toMatchObject({ unit: 'Văn phòng UBND tỉnh', security_level: 3 });
    expect(register!.lookup('10.10.1.20')?.host).toBe('mail.tinh.gov.vn');
    expect(register!.lookup('dvc')?.owner.email).toBe('chau.lm@tinh.gov.vn');
    expect(register!.lookup('unknown.example')).toBeUndefined();
    expect(register!.hosts()).toEqual(['portal.tinh.gov.vn', 'mail.tinh.gov.vn', 'dvc.tinh.gov.vn']);
    // Severity rises with the security level (shared/incident.ts): level 4 raises high to critical.
    expect(severityFor('high', register!.lookup('mail')!.security_level)).toBe('critical');
  });

  it("ships empty: the sample data centre is the demo's (rules/drills/assets.yml), added beside a register without overriding it", () => {
    const shipped = AssetRegister.load(join(repoRules, 'assets.yml'));
    expect(shipped.findings).toEqual([]);
    expect(shipped.register!.hosts()).toEqual([]);
    const sample = AssetRegister.load(join(repoRules, 'drills', 'assets.yml'));
    expect(sample.findings).toEqual([]);
    expect(sample.register!.lookup('10.20.1.11')).toMatchObject({ host: 'srv-web-01', unit: 'so-tttt', security_level: 3 });
    const own = new AssetRegister([{ host: 'srv-web-01', aliases: [], unit: 'ubnd', security_level: 5, owner: { name: 'O' } }]);
    const both = own.with(sample.register!);
    // The own entry wins on srv-web-01, and with it its name: the sample's alias of it is not taken over.
    expect(both.lookup('srv-web-01')).toMatchObject({ unit: 'ubnd', security_level: 5 });
    expect(both.lookup('10.20.1.11')).toBeUndefined();
    expect(both.lookup('srv-db-01')?.unit).toBe('so-tc');
    expect(both.hosts()).toHaveLength(sample.register!.hosts().length);
    expect(own.with(AssetRegister.empty())).toBe(own);
  });

  it('rejects a bad register with positions: level out of range, duplicates', () => {
    const dir = tmp();
    const file = join(dir, 'assets.yml');
    writeFileSync(file, 'assets:\n  - { host: a, unit: U, security_level: 7, owner: { name: O } }\n');
    const bad = AssetRegister.load(file);
    expect(bad.register).toBeNull();
    expect(bad.findings[0]).toMatchObject({ line: 2, severity: 'error' });
    expect(bad.findings[0]!.message).toMatch(/security_level/);
    writeFileSync(
      file,
      'assets:\n  - { host: a, unit: U, security_level: 1, owner: { name: O } }\n  - { host: b, aliases: [A], unit: U, security_level: 1, owner: { name: O } }\n',
    );
    expect(AssetRegister.load(file).findings.map((f) => `${f.line} ${f.message}`)).toEqual(["3 'A' is registered twice (also asset 1)"]);
    expect(AssetRegister.load(join(dir, 'missing.yml')).register!.hosts()).toEqual([]);
  });
});

describe('field mapping file', () => {
  it('adds mappings, known fields and log-source conditions', () => {
    const { mapping, findings } = FieldMapping.load(join(repoRules, 'fields.yml'));
    expect(findings).toEqual([]);
    expect(mapping.resolve('DestinationPort')).toBe('destination.port');
    expect(mapping.resolve('dst_port')).toBe('destination.port');
    expect(mapping.isKnown('fortinet.firewall.vd')).toBe(true);
    expect(mapping.logsources.category.antivirus!['event.module']).toContain('clamav');
    expect(mapping.logsources.category.firewall).toBeDefined();
  });
  it('a broken file is reported and the defaults stay', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'x'));
    const file = join(dir, 'fields.yml');
    writeFileSync(file, 'fields:\n  a: 1\nextra: true\n');
    const r = FieldMapping.load(file);
    expect(r.findings.map((f) => f.line).sort()).toEqual([2, 3]);
    expect(r.mapping.resolve('src_ip')).toBe('source.ip');
  });
});
