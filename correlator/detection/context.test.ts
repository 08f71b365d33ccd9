import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { severityFor } from '../../shared/incident.ts';
import { AssetRegister } from './assets.ts';
import { FieldMapping } from './fields/mapping.ts';
import { DEFAULT_RULE_LIMITS } from './limits.ts';
import { lintPaths } from './lint.ts';
import { ListStore, readListFile } from './lists.ts';
import { watchRules } from './watch.ts';

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

describe('size limits of the context files', () => {
  const limits = { ...DEFAULT_RULE_LIMITS, maxFileBytes: 1024, maxListBytes: 2048, maxListEntries: 5, maxAssets: 2, maxFieldEntries: 3 };

  it('a list file past its bytes or entries is refused, named, and keeps its previous values', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ips.txt'), '1.1.1.1\n2.2.2.2\n');
    writeFileSync(join(dir, 'users.yml'), '- admin\n');
    const store = new ListStore();
    expect(store.loadDir(dir, limits)).toEqual([]);
    writeFileSync(join(dir, 'ips.txt'), `${'# padding\n'.repeat(210)}3.3.3.3\n`);
    writeFileSync(join(dir, 'users.yml'), `${'# padding\n'.repeat(110)}- root\n`);
    expect(store.loadDir(dir, limits)).toEqual([
      {
        file: join(dir, 'ips.txt'),
        line: 1,
        col: 1,
        severity: 'error',
        message: 'the list file is larger than the limit of 2048 bytes (correlator.ruleLimits.maxListBytes)',
      },
      {
        file: join(dir, 'users.yml'),
        line: 1,
        col: 1,
        severity: 'error',
        message: 'the file is larger than the limit of 1024 bytes (correlator.ruleLimits.maxFileBytes; a long list belongs in a .txt list file)',
      },
    ]);
    expect(store.get('ips')).toEqual(['1.1.1.1', '2.2.2.2']);
    expect(store.get('users')).toEqual(['admin']);
    writeFileSync(join(dir, 'ips.txt'), '1\n2\n3\n4\n5\n6\n');
    writeFileSync(join(dir, 'users.yml'), '[a, b, c, d, e, f]\n');
    expect(store.loadDir(dir, limits).map((f) => `${f.file.slice(dir.length + 1)}: ${f.message}`)).toEqual([
      'ips.txt: more than 5 values, the limit per list file (correlator.ruleLimits.maxListEntries)',
      'users.yml: more than 5 values, the limit per list file (correlator.ruleLimits.maxListEntries)',
    ]);
    expect(store.get('ips')).toEqual(['1.1.1.1', '2.2.2.2']);
    // At the limit loads.
    writeFileSync(join(dir, 'ips.txt'), '1\n2\n3\n4\n5\n');
    expect(store.loadDir(dir, limits).filter((f) => f.file.endsWith('ips.txt'))).toEqual([]);
    expect(store.get('ips')).toHaveLength(5);
  });

  it('assets.yml past its bytes or assets is refused with the file named', () => {
    const dir = tmp();
    const file = join(dir, 'assets.yml');
    const asset = (h: string) => `  - { host: ${h}, unit: U, security_level: 1, owner: { name: O } }\n`;
    writeFileSync(file, `assets:\n${asset('a')}${asset('b')}${asset('c')}`);
    const many = AssetRegister.load(file, limits);
    expect(many.register).toBeNull();
    expect(many.findings).toEqual([
      { file, line: 1, col: 1, severity: 'error', message: '3 assets, more than the limit of 2 (correlator.ruleLimits.maxAssets)' },
    ]);
    writeFileSync(file, `${'# padding\n'.repeat(110)}assets:\n${asset('a')}`);
    const big = AssetRegister.load(file, limits);
    expect(big.register).toBeNull();
    expect(big.findings.map((f) => `${f.file}:${f.line}: ${f.message}`)).toEqual([
      `${file}:1: the file is larger than the limit of 1024 bytes (correlator.ruleLimits.maxFileBytes)`,
    ]);
    writeFileSync(file, `assets:\n${asset('a')}${asset('b')}`);
    expect(AssetRegister.load(file, limits).register!.hosts()).toEqual(['a', 'b']);
  });

  it('fields.yml past its bytes or entries is refused with the file named, and the defaults stay', () => {
    const dir = tmp();
    const file = join(dir, 'fields.yml');
    writeFileSync(file, 'fields: { a: source.ip, b: source.ip }\nknown: [x.y]\nlogsources: { product: { p: { observer.vendor: [v1] } } }\n');
    const many = FieldMapping.load(file, limits);
    expect(many.findings.map((f) => `${f.file}:${f.line}: ${f.message}`)).toEqual([
      `${file}:1: 4 field mappings, known names and log-source values, more than the limit of 3 (correlator.ruleLimits.maxFieldEntries)`,
    ]);
    expect(many.mapping.resolve('a')).toBe('a');
    writeFileSync(file, `${'# padding\n'.repeat(110)}fields: { a: source.ip }\n`);
    expect(FieldMapping.load(file, limits).findings.map((f) => f.message)).toEqual([
      'the file is larger than the limit of 1024 bytes (correlator.ruleLimits.maxFileBytes)',
    ]);
    writeFileSync(file, 'fields: { a: source.ip, b: source.ip }\nknown: [x.y]\n');
    expect(FieldMapping.load(file, limits).mapping.resolve('a')).toBe('source.ip');
  });

  it('the watcher and lint apply the configured limits to the context files', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'lists'));
    writeFileSync(join(dir, 'lists', 'ips.txt'), '1\n2\n3\n4\n5\n6\n');
    writeFileSync(join(dir, 'r.yml'), 'title: t\nid: t\nlayer: 1\ndetection:\n  sel: { source.ip|expand: "%ips%" }\n  condition: sel\n');
    const report = lintPaths([dir], { limits });
    expect(report.findings.map((f) => `${f.file.slice(dir.length + 1)}:${f.line}:${f.col}: ${f.severity}: ${f.message}`)).toContain(
      'lists/ips.txt:1:1: error: more than 5 values, the limit per list file (correlator.ruleLimits.maxListEntries)',
    );
    const watcher = watchRules(dir, () => undefined, { limits });
    try {
      expect(watcher.findings.map((f) => f.message)).toContain('more than 5 values, the limit per list file (correlator.ruleLimits.maxListEntries)');
      expect(watcher.ruleset.context.lists.has('ips')).toBe(false);
    } finally {
      watcher.close();
    }
  });
});
