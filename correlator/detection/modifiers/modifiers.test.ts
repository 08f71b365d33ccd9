import { describe, expect, it } from 'vitest';
import { context, detection } from '../testdata/build.ts';
import { base64offset } from './encoding.ts';

const sel = (items: string) => `sel:\n${items.replace(/^/gm, '  ')}\ncondition: sel`;

describe('plain values', () => {
  it('are case-insensitive exact matches with * and ? wildcards and escapes', () => {
    const d = detection(sel("f: 'Foo*Bar?'"));
    expect(d.matches({ f: 'fooXXbarZ' })).toBe(true);
    expect(d.matches({ f: 'FOObarZ' })).toBe(true);
    expect(d.matches({ f: 'fooXXbar' })).toBe(false);
    const esc = detection(sel("f: 'a\\*b\\?c\\\\d'"));
    expect(esc.matches({ f: 'a*b?c\\d' })).toBe(true);
    expect(esc.matches({ f: 'aXbYc\\d' })).toBe(false);
    const path = detection(sel("f: 'C:\\Windows\\cmd.exe'"));
    expect(path.matches({ f: 'c:\\windows\\CMD.EXE' })).toBe(true);
  });
  it('lists are OR, maps are AND, arrays in the event match on any element', () => {
    const d = detection(sel('a: [x, y]\nb: 1'));
    expect(d.matches({ a: 'y', b: 1 })).toBe(true);
    expect(d.matches({ a: 'y', b: '1' })).toBe(true);
    expect(d.matches({ a: 'z', b: 1 })).toBe(false);
    expect(d.matches({ a: 'x' })).toBe(false);
    expect(d.matches({ a: ['q', 'X'], b: 1 })).toBe(true);
  });
  it('null means absent or null', () => {
    const d = detection(sel('a: null'));
    expect(d.matches({})).toBe(true);
    expect(d.matches({ a: null })).toBe(true);
    expect(d.matches({ a: '' })).toBe(false);
  });
  it('keywords search the original line', () => {
    const d = detection('kw:\n  - evil.exe\n  - "mimi*katz"\ncondition: kw');
    expect(d.matches({ event: { original: 'started EVIL.EXE now' } })).toBe(true);
    expect(d.matches({ message: 'found mimiXkatz' })).toBe(true);
    expect(d.matches({ event: { original: 'clean' } })).toBe(false);
  });
  it('nested ECS events and dotted flat keys both resolve', () => {
    const d = detection(sel('source.ip: 10.0.0.1'));
    expect(d.matches({ source: { ip: '10.0.0.1' } })).toBe(true);
    expect(d.matches({ 'source.ip': '10.0.0.1' })).toBe(true);
  });
});

describe('string modifiers', () => {
  it('contains, startswith, endswith', () => {
    expect(detection(sel('f|contains: mid')).matches({ f: 'xxMIDyy' })).toBe(true);
    expect(detection(sel('f|contains: mid')).matches({ f: 'xxmiyy' })).toBe(false);
    expect(detection(sel('f|startswith: pre')).matches({ f: 'prefix' })).toBe(true);
    expect(detection(sel('f|startswith: pre')).matches({ f: 'xprefix' })).toBe(false);
    expect(detection(sel('f|endswith: .exe')).matches({ f: 'a.EXE' })).toBe(true);
    expect(detection(sel('f|endswith: .exe')).matches({ f: 'a.exe.txt' })).toBe(false);
    expect(detection(sel("f|contains: 'a*c'")).matches({ f: 'xxabbcxx' })).toBe(true);
  });
  it('all turns the list into AND', () => {
    const d = detection(sel('f|contains|all: [one, two]'));
    expect(d.matches({ f: 'two and one' })).toBe(true);
    expect(d.matches({ f: 'only one' })).toBe(false);
  });
  it('cased compares case-sensitively', () => {
    const d = detection(sel('f|cased: Admin'));
    expect(d.matches({ f: 'Admin' })).toBe(true);
    expect(d.matches({ f: 'admin' })).toBe(false);
    expect(detection(sel('f|contains|cased: Adm')).matches({ f: 'xadm' })).toBe(false);
  });
  it('windash accepts every dash character in front of flags', () => {
    const d = detection(sel("f|windash|contains: ' -enc '"));
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015']) expect(d.matches({ f: `powershell ${dash}enc AAA` })).toBe(true);
    expect(d.matches({ f: 'powershell enc AAA' })).toBe(false);
  });
  it('re with the i, m and s flags, on the linear-time engine', () => {
    expect(detection(sel("f|re: '^ab+c$'")).matches({ f: 'abbbc' })).toBe(true);
    expect(detection(sel("f|re: '^ab+c$'")).matches({ f: 'ABBC' })).toBe(false);
    expect(detection(sel("f|re|i: '^ab+c$'")).matches({ f: 'ABBC' })).toBe(true);
    expect(detection(sel("f|re: '^b$'")).matches({ f: 'a\nb' })).toBe(false);
    expect(detection(sel("f|re|m: '^b$'")).matches({ f: 'a\nb' })).toBe(true);
    expect(detection(sel("f|re: 'a.b'")).matches({ f: 'a\nb' })).toBe(false);
    expect(detection(sel("f|re|s: 'a.b'")).matches({ f: 'a\nb' })).toBe(true);
    // Catastrophic for a backtracking engine; linear here.
    expect(detection(sel("f|re: '^(a+)+$'")).matches({ f: `${'a'.repeat(5000)}!` })).toBe(false);
  });
  it('a regex the engine cannot run is an error', () => {
    expect(detection(sel("f|re: '(a)\\1'")).errors.join()).toMatch(/linear-time engine/);
    expect(detection(sel("f|re: '(?=a)b'")).errors.join()).toMatch(/linear-time engine/);
  });
});

describe('encoding modifiers', () => {
  it('base64', () => {
    const d = detection(sel('f|base64: secret'));
    expect(d.matches({ f: Buffer.from('secret').toString('base64') })).toBe(true);
    expect(detection(sel('f|base64|contains: secret')).matches({ f: `xx${Buffer.from('secret').toString('base64')}yy` })).toBe(true);
  });
  it('base64offset finds the value at any byte offset inside encoded text', () => {
    const d = detection(sel('f|base64offset|contains: http://evil'));
    for (const prefix of ['', 'a', 'ab', 'abc', 'wget ']) {
      expect(d.matches({ f: Buffer.from(`${prefix}http://evil.example/x`).toString('base64') })).toBe(true);
    }
    expect(d.matches({ f: Buffer.from('http://good.example').toString('base64') })).toBe(false);
    expect(base64offset('abc')).toHaveLength(3);
  });
  it('utf16le / wide / utf16be / utf16 with base64', () => {
    const text = 'cmd';
    expect(detection(sel('f|utf16le|base64: cmd')).matches({ f: Buffer.from(text, 'utf16le').toString('base64') })).toBe(true);
    expect(detection(sel('f|wide|base64: cmd')).matches({ f: Buffer.from(text, 'utf16le').toString('base64') })).toBe(true);
    const be = Buffer.from(text, 'utf16le').swap16();
    expect(detection(sel('f|utf16be|base64: cmd')).matches({ f: be.toString('base64') })).toBe(true);
    const bom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(detection(sel('f|utf16|base64: cmd')).matches({ f: bom.toString('base64') })).toBe(true);
    const offset = detection(sel('f|wide|base64offset|contains: Invoke'));
    expect(offset.matches({ f: Buffer.from('x; Invoke-Mimikatz', 'utf16le').toString('base64') })).toBe(true);
  });
  it('wildcards cannot be encoded', () => {
    expect(detection(sel("f|base64: 'a*'")).errors.join()).toMatch(/wildcards cannot be encoded/);
  });
});

describe('other modifiers', () => {
  it('cidr for IPv4 and IPv6', () => {
    const d = detection(sel('ip|cidr: [10.0.0.0/8, "2001:db8::/32"]'));
    expect(d.matches({ ip: '10.200.3.4' })).toBe(true);
    expect(d.matches({ ip: '11.0.0.1' })).toBe(false);
    expect(d.matches({ ip: '2001:db8:1::5' })).toBe(true);
    expect(d.matches({ ip: '2001:db9::5' })).toBe(false);
    expect(d.matches({ ip: '::ffff:10.1.1.1' })).toBe(true);
    expect(detection(sel('ip|cidr: 10.0.0.0/33')).errors.join()).toMatch(/prefix length/);
  });
  it('cidr at the edges of IPv4 prefixes and addresses', () => {
    const edges = detection(sel('ip|cidr: [192.168.1.128/25, 255.255.255.255/32]'));
    expect(edges.matches({ ip: '192.168.1.128' })).toBe(true);
    expect(edges.matches({ ip: '192.168.1.255' })).toBe(true);
    expect(edges.matches({ ip: '192.168.1.127' })).toBe(false);
    expect(edges.matches({ ip: '255.255.255.255' })).toBe(true);
    expect(edges.matches({ ip: '255.255.255.254' })).toBe(false);
    expect(detection(sel('ip|cidr: 0.0.0.0/0')).matches({ ip: '203.0.113.9' })).toBe(true);
    for (const bad of ['1.2.3', '1.2.3.4.5', '1.2.3.256', '1..2.3', '01234.1.1.1', '1.2.3.4 ', ''])
      expect(detection(sel('ip|cidr: 0.0.0.0/0')).matches({ ip: bad }), bad).toBe(false);
  });
  it('exists', () => {
    expect(detection(sel('f|exists: true')).matches({ f: null })).toBe(true);
    expect(detection(sel('f|exists: true')).matches({})).toBe(false);
    expect(detection(sel('f|exists: false')).matches({})).toBe(true);
    expect(detection(sel('f|exists: yes please')).errors.join()).toMatch(/true or false/);
  });
  it('gt, gte, lt, lte', () => {
    expect(detection(sel('n|gt: 10')).matches({ n: 11 })).toBe(true);
    expect(detection(sel('n|gt: 10')).matches({ n: 10 })).toBe(false);
    expect(detection(sel('n|gte: 10')).matches({ n: '10' })).toBe(true);
    expect(detection(sel('n|lt: 10')).matches({ n: 9.5 })).toBe(true);
    expect(detection(sel('n|lte: 10')).matches({ n: 11 })).toBe(false);
    expect(detection(sel('n|lte: 10')).matches({ n: 'ten' })).toBe(false);
    expect(detection(sel('n|gt: ten')).errors.join()).toMatch(/needs numbers/);
  });
  it('neq', () => {
    const d = detection(sel('f|neq: [a, b]'));
    expect(d.matches({ f: 'c' })).toBe(true);
    expect(d.matches({ f: 'A' })).toBe(false);
    expect(d.matches({})).toBe(false);
  });
  it('fieldref, also with contains and neq', () => {
    expect(detection(sel('a|fieldref: b')).matches({ a: 'X', b: 'x' })).toBe(true);
    expect(detection(sel('a|fieldref: b')).matches({ a: 'X', b: 'y' })).toBe(false);
    expect(detection(sel('a|fieldref|contains: b')).matches({ a: 'xyz', b: 'Y' })).toBe(true);
    expect(detection(sel('a|fieldref|neq: b')).matches({ a: 'x', b: 'y' })).toBe(true);
    expect(detection(sel('src_ip|fieldref: dst_ip')).matches({ source: { ip: '1.1.1.1' }, destination: { ip: '1.1.1.1' } })).toBe(true);
  });
  it('expand resolves placeholders to lists, and follows list updates', () => {
    const ctx = context({ lists: { bad_ips: ['1.2.3.4', '5.6.7.8'] } });
    const d = detection(sel("ip|expand: '%bad_ips%'"), ctx);
    expect(d.matches({ ip: '5.6.7.8' })).toBe(true);
    expect(d.matches({ ip: '9.9.9.9' })).toBe(false);
    ctx.lists.set('bad_ips', ['9.9.9.9']);
    expect(d.matches({ ip: '9.9.9.9' })).toBe(true);
    expect(d.matches({ ip: '5.6.7.8' })).toBe(false);
    const nets = detection(sel("ip|cidr|expand: '%nets%'"), context({ lists: { nets: ['10.0.0.0/8'] } }));
    expect(nets.matches({ ip: '10.9.9.9' })).toBe(true);
    const embedded = detection(sel("path|expand: 'C:\\Users\\%users%\\\\*'"), context({ lists: { users: ['an', 'binh'] } }));
    expect(embedded.matches({ path: 'c:\\users\\binh\\x.exe' })).toBe(true);
    expect(embedded.matches({ path: 'c:\\users\\chau\\x.exe' })).toBe(false);
  });
  it('a placeholder whose list is empty matches nothing until the list gets values', () => {
    const ctx = context({ lists: { later: [] } });
    const d = detection(sel("ip|expand: '%later%'"), ctx);
    expect(d.errors).toEqual([]);
    expect(d.matches({ ip: '1.1.1.1' })).toBe(false);
    ctx.lists.set('later', ['1.1.1.1']);
    expect(d.matches({ ip: '1.1.1.1' })).toBe(true);
  });
  it('time modifiers take a part of a date in UTC', () => {
    const ev = { ts: '2024-03-10T23:45:00+07:00' };
    expect(detection(sel('ts|hour: 16')).matches(ev)).toBe(true);
    expect(detection(sel('ts|minute: 45')).matches(ev)).toBe(true);
    expect(detection(sel('ts|day: 10')).matches(ev)).toBe(true);
    expect(detection(sel('ts|month: 3')).matches(ev)).toBe(true);
    expect(detection(sel('ts|year: 2024')).matches(ev)).toBe(true);
    expect(detection(sel('ts|week: 10')).matches(ev)).toBe(true);
    expect(detection(sel('ts|hour|gte: 17')).matches(ev)).toBe(false);
  });
  it('unknown modifiers and bad combinations are errors', () => {
    expect(detection(sel('f|contians: x')).errors.join()).toMatch(/unknown modifier 'contians'/);
    expect(detection(sel('f|contains|startswith: x')).errors.join()).toMatch(/cannot be combined/);
    expect(detection(sel('f|i: x')).errors.join()).toMatch(/flag of 're'/);
    expect(detection(sel('f|re|cidr: x')).errors.join()).toMatch(/cannot be combined/);
  });
});
