import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NormalizedEventSchema, getField } from '../../../shared/event.ts';
import { decodeLine } from '../index.ts';
import { useCustomDecoders } from '../registry.ts';
import { loadDecoders, parseDecoderText } from './load.ts';
import { compileTimestamp } from './timestamp.ts';

const RECEIVED = new Date('2026-11-26T01:00:00Z');
const rulesDecoders = join(import.meta.dirname, '..', '..', '..', 'rules', 'decoders');

/** A decoder file's text from its parts (match, parse, fields, rules as YAML snippets). */
function file(parts: { name?: string; match: string; parse: string; fields?: string; rules?: string; tests?: string }): string {
  return [
    `name: ${parts.name ?? 'acme-waf'}`,
    `match: ${parts.match}`,
    `parse: ${parts.parse}`,
    'observer: { vendor: ACME, product: WAF }',
    parts.fields ? `fields:\n${parts.fields}` : '',
    parts.rules ? `rules:\n${parts.rules}` : '',
    parts.tests ? `tests:\n${parts.tests}` : '',
  ].join('\n');
}

function install(text: string) {
  const r = parseDecoderText(text, 'acme.yml');
  expect(
    r.findings.filter((f) => f.severity === 'error'),
    JSON.stringify(r.findings),
  ).toEqual([]);
  useCustomDecoders([r.decoder!]);
  return r.decoder!;
}

function decode(line: string) {
  const event = decodeLine(line, { received: RECEIVED });
  const check = NormalizedEventSchema.safeParse(event);
  expect(check.success, check.success ? '' : JSON.stringify(check.error.issues)).toBe(true);
  return Object.assign((path: string) => getField(event, path), { event });
}

afterEach(() => useCustomDecoders([]));

describe('custom decoders: the four parsers, conversions and conditions', () => {
  it('kv on a syslog program: ip, port and transport conversions, first present name wins, conditions set type and outcome', () => {
    install(
      file({
        match: '{ program: acmewaf }',
        parse: '{ kv: { delimiter: space } }',
        fields: [
          '  source.ip: [client, src]',
          '  source.port: sport',
          '  destination.port: { from: dport, type: port }',
          '  network.transport: proto',
          '  event.severity: { from: sev, type: int }',
          '  user.name: { from: usr, type: lowercase }',
        ].join('\n'),
        rules: [
          '  - when: { verdict: [deny, Block] }\n    set: { event.category: network, event.type: [connection, denied], event.outcome: success }',
          "  - when: { path: { matches: '^/admin' } }\n    set: { event.category: web, event.kind: alert }",
        ].join('\n'),
      }),
    );
    const get = decode(
      '<134>Nov 26 07:59:01 waf-01 acmewaf[88]: src=203.0.113.7 sport=51515 dport=443 proto=6 verdict=BLOCK path="/admin/login" usr=Admin sev=7',
    );
    expect(get('event.module')).toBe('acme-waf');
    expect(get('source.ip')).toBe('203.0.113.7');
    expect(get('source.port')).toBe(51515);
    expect(get('destination.port')).toBe(443);
    expect(get('network.transport')).toBe('tcp');
    expect(get('event.severity')).toBe(7);
    expect(get('user.name')).toBe('admin');
    expect(get('event.type')).toEqual(['connection', 'denied']);
    expect(get('event.category')).toEqual(['network', 'web']);
    expect(get('event.outcome')).toBe('success');
    expect(get('event.kind')).toBe('alert');
    expect(get('observer.vendor')).toBe('ACME');
    // Another program is not this decoder's; a bad address is left out rather than kept as text.
    expect(decode('<134>Nov 26 07:59:01 waf-01 other[88]: src=203.0.113.7').event.event.module).not.toBe('acme-waf');
    expect(decode('<134>Nov 26 07:59:01 waf-01 acmewaf[88]: src=not-an-ip client=- sport=99999')('source')).toBeUndefined();
  });

  it('csv with a header list and a timestamp in a given format and zone', () => {
    install(
      file({
        match: "{ prefix: 'ACME,' }",
        parse: "{ csv: { fields: ['-', time, src, dst, dport, action] } }",
        fields: [
          "  '@timestamp': { from: time, type: timestamp, format: 'dd/MM/yyyy HH:mm:ss', zone: Asia/Ho_Chi_Minh }",
          '  source.ip: src',
          '  destination.ip: dst',
          '  destination.port: dport',
          '  event.action: action',
        ].join('\n'),
      }),
    );
    const get = decode('ACME,26/11/2026 08:15:30,10.0.0.5,10.0.9.9,3389,"drop, logged"');
    expect(get('@timestamp')).toBe('2026-11-26T01:15:30.000Z');
    expect(get('destination.port')).toBe(3389);
    expect(get('event.action')).toBe('drop, logged');
    expect(get('event.type')).toEqual(['info']);
  });

  it('JSON by dotted paths, matched on fields; epoch numbers and ISO strings as timestamps', () => {
    install(
      file({
        match: '{ fields: { kind: waf, net.src: { present: true } } }',
        parse: '{ json: }',
        fields: [
          "  '@timestamp': { from: [ts, when], type: timestamp }",
          '  source.ip: net.src',
          '  destination.port: net.port',
          '  rule.name: rule.title',
          '  labels.tenant: { value: acme }',
        ].join('\n'),
      }),
    );
    const get = decode('{"kind":"WAF","ts":1795655730,"net":{"src":"198.51.100.4","port":8443},"rule":{"title":"SQLi"}}');
    expect(get('@timestamp')).toBe('2026-11-26T01:15:30.000Z');
    expect(get('source.ip')).toBe('198.51.100.4');
    expect(get('destination.port')).toBe(8443);
    expect(get('rule.name')).toBe('SQLi');
    expect(get('labels.tenant')).toBe('acme');
    expect(decode('{"kind":"WAF","when":"2026-11-26T08:15:30+07:00","net":{"src":"198.51.100.4"}}')('@timestamp')).toBe('2026-11-26T01:15:30.000Z');
    // Without the matched fields the line is left to the built-in decoders.
    expect(decode('{"kind":"other","net":{"src":"198.51.100.4"}}').event.event.module).not.toBe('acme-waf');
  });

  it('an RE2 expression with named groups; syslog-style times without a year take the receive year', () => {
    install(
      file({
        match: "{ prefix: 'WAF ', pattern: '^WAF \\w{3} ' }",
        parse: "{ regex: '^WAF (?P<time>\\w{3} +\\d+ [\\d:]+) (?P<src>\\S+) -> (?P<dst>\\S+):(?P<port>\\d+) (?P<act>\\w+)' }",
        fields: [
          "  '@timestamp': { from: time, type: timestamp, format: 'MMM d HH:mm:ss', zone: UTC }",
          '  source.ip: src',
          '  destination.ip: dst',
          '  destination.port: port',
        ].join('\n'),
        rules: '  - when: { act: allow }\n    set: { event.type: allowed }',
      }),
    );
    const get = decode('WAF Nov 25 23:59:58 192.0.2.1 -> 10.1.1.1:80 allow');
    expect(get('@timestamp')).toBe('2026-11-25T23:59:58.000Z');
    expect(get('destination.ip')).toBe('10.1.1.1');
    expect(get('event.type')).toEqual(['allowed']);
    const broken = decodeLine('WAF Nov 25 no arrow here', { received: RECEIVED, format: 'acme-waf' });
    expect(broken.event.kind).toBe('pipeline_error');
    expect((broken as { error?: { message: string } }).error?.message).toContain("acme-waf: the line does not fit the decoder's regex parser");
  });
});

describe('timestamp formats', () => {
  const time = { received: RECEIVED.getTime(), timezone: 'Asia/Ho_Chi_Minh' };
  const at = (format: string, value: string, zone?: string) => {
    const parse = compileTimestamp(format);
    if (typeof parse === 'string') throw new Error(parse);
    const t = parse(value, time, zone);
    return Number.isNaN(t) ? 'NaN' : new Date(t).toISOString();
  };

  it('reads quoted literals, fractions of any length and written offsets; the zone only where none is written', () => {
    expect(at("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", '2026-11-26T08:15:30.123456+07:00')).toBe('2026-11-26T01:15:30.123Z');
    expect(at('yyyy-MM-dd HH:mm:ss', '2026-11-26 08:15:30')).toBe('2026-11-26T01:15:30.000Z');
    expect(at('yyyy-MM-dd HH:mm:ss', '2026-11-26 08:15:30', 'Europe/Paris')).toBe('2026-11-26T07:15:30.000Z');
    expect(at('dd/MMM/yyyy:HH:mm:ss Z', '26/Nov/2026:08:15:30 +0700')).toBe('2026-11-26T01:15:30.000Z');
    expect(at('epoch', '1795655730.5')).toBe('2026-11-26T01:15:30.500Z');
    expect(at('yyyy-MM-dd HH:mm:ss', '26/11/2026 08:15')).toBe('NaN');
  });

  it('rejects what it cannot read, saying why', () => {
    expect(compileTimestamp('yyyy-MM-ddTHH:mm')).toBe(
      "unknown letter 'T' at position 10 of the format (tokens: yyyy yy MM MMM dd d HH H mm ss SSS Z XXX; quote literal letters)",
    );
    expect(compileTimestamp("yyyy-MM-dd'T")).toBe('unterminated quote at position 10 of the format');
    expect(compileTimestamp('HH:mm:ss')).toBe('the format has no month (MM or MMM)');
  });
});

describe('custom decoders: errors name file, line and column', () => {
  const errorsOf = (text: string) =>
    parseDecoderText(text, 'acme.yml')
      .findings.filter((f) => f.severity === 'error')
      .map((f) => `${f.line}:${f.col} ${f.message}`);

  it('reports schema errors at the offending key', () => {
    const found = errorsOf('name: Bad Name\nmatch: {}\nparse: { xml: {} }\nobserver: { vendor: A, product: B }\nfields:\n  source.ip: { from: a, typ: ip }\n');
    expect(found).toEqual([
      '1:1 field name: lower-case letters, digits, - and _ (2 to 63 characters)',
      '2:1 field match: say which lines the decoder takes: program, prefix, pattern or fields',
      '3:1 field parse: one parser: kv, csv (with fields), json, or regex (RE2 with named groups)',
      '6:25 field fields.source.ip: Unrecognized key: "typ"',
    ]);
  });

  it('reports what only compiling finds: RE2, timestamp formats, zones, unknown parser fields, built-in names', () => {
    const found = errorsOf(
      file({
        name: 'fortigate',
        match: "{ pattern: '(?<=a)b' }",
        parse: "{ regex: '(?P<src>\\S+) (?P<t>.+)' }",
        fields: [
          '  source.ip: srcip',
          "  '@timestamp': { from: t, type: timestamp, format: 'yyyy-QQ', zone: Mars/Base }",
          '  source.port: { from: src, format: x }',
        ].join('\n'),
      }),
    );
    expect(found).toContain("1:1 'fortigate' is the name of a built-in decoder; choose another");
    expect(found.find((f) => f.startsWith('2:10 '))).toContain('linear-time engine (RE2)');
    expect(found).toContain("6:3 'srcip' is not a field the parser produces (src, t)");
    expect(found).toContain("7:64 unknown time zone 'Mars/Base' (an IANA name such as Asia/Ho_Chi_Minh)");
    expect(found.find((f) => f.startsWith('7:45 '))).toContain("timestamp format 'yyyy-QQ': unknown letter 'Q'");
    expect(found).toContain('8:29 format and zone apply to type timestamp, not port');
    expect(errorsOf(file({ match: "{ prefix: 'A' }", parse: '{ kv: }', fields: '  source.ip: { from: a, type: string }' }))).toEqual([
      '6:25 source.ip takes type ip, not string',
    ]);
    const object = errorsOf(file({ match: "{ prefix: 'A' }", parse: '{ kv: }', fields: '  source: b' }));
    expect(object).toHaveLength(1);
    expect(object[0]).toMatch(/^6:3 field fields\.source: .*source\.ip, not source/);
  });

  it('a failing embedded test is an error at the expectation that failed', () => {
    const found = errorsOf(
      file({
        match: "{ prefix: 'A ' }",
        parse: "{ regex: 'A (?P<src>\\S+)' }",
        fields: '  source.ip: src',
        tests: [
          "  - line: 'A 10.0.0.1'",
          '    expect:',
          '      source.ip: 10.0.0.2',
          "  - line: 'B 10.0.0.1'",
          '    expect: {}',
          "  - line: 'xA 10.0.0.1'",
          '    expect: {}',
        ].join('\n'),
      }),
    );
    expect(found).toEqual([
      '11:7 test 1: source.ip is "10.0.0.1", expected "10.0.0.2"',
      "12:5 test 2: the line does not decode: acme-waf: the line does not fit the decoder's regex parser at position 0",
      '14:5 test 3: match does not take this line, so it would only decode with --format acme-waf',
    ]);
  });

  it('two files claiming one name: the first keeps it, the second is reported', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'decoders-'));
    const text = file({ match: "{ prefix: 'A ' }", parse: '{ kv: }' });
    writeFileSync(join(dir, 'a.yml'), text);
    writeFileSync(join(dir, 'b.yml'), text);
    const r = loadDecoders([dir]);
    expect(r.decoders.map((d) => d.file)).toEqual([join(dir, 'a.yml')]);
    expect(r.findings.map((f) => `${f.file}: ${f.message}`)).toEqual([
      `${join(dir, 'b.yml')}: decoder name 'acme-waf' is already taken by ${join(dir, 'a.yml')}`,
    ]);
  });
});

describe('the shipped examples (rules/decoders)', () => {
  it('load without findings and pass their own tests', () => {
    const r = loadDecoders([rulesDecoders]);
    expect(r.findings).toEqual([]);
    expect(r.decoders.map((d) => d.decoder.name).sort()).toEqual(['barracuda-cgf', 'clavister-ngfw']);
  });

  it('decode real-format Clavister and Barracuda lines by sniffing, before any built-in decoder', () => {
    useCustomDecoders(loadDecoders([rulesDecoders]).decoders.map((d) => d.decoder));
    const close = decode(
      'id=600002 event=conn_close action=close [message=Connection closed reason="" connrecvzone="Zone_INTRA" conndestzone="Zone_T0" ][rules rule=Alw_GRP_NET-T11 ][conn [conn connsrcip=10.20.1.4 conndestip=10.30.0.8 connipproto=UDP connsrcport=64650 conndestport=53 origsent=59.0 termsent=75.0 connrecvif=AGG-VLAN_INTRA conndestif=IF_VLAN240_T0 ]]',
    );
    expect([close('event.module'), close('source.ip'), close('destination.port'), close('network.transport'), close('rule.name')]).toEqual([
      'clavister-ngfw',
      '10.20.1.4',
      53,
      'udp',
      'Alw_GRP_NET-T11',
    ]);
    expect(close('event.type')).toEqual(['connection', 'end']);
    const login = decode(
      '<134>Nov 26 07:10:00 efw-01 EFW: id=3700102 event=user_login [message=User logged in. idle_timeout=1800 ][userauth authrule=IF_OneConnect username=jdoe authagent=OneConnect srcip=198.51.100.23 ]',
    );
    // Sent by the firewall itself, the event follows its program name ("EFW:"), and the prefix still fits.
    expect([login('event.module'), login('user.name'), login('source.ip'), login('event.category')]).toEqual([
      'clavister-ngfw',
      'jdoe',
      '198.51.100.23',
      ['authentication'],
    ]);
    expect(login('event.type')).toEqual(['start']);
    const ips = decode(
      '{"component":"firewall","dst_ip":"10.0.5.20","operation":"Block","port":"445","src_ip":"203.0.113.50","timestamp":"2026-11-26T07:00:00+07:00","trans_proto":"TCP","type":"IPS","user":"-"}',
    );
    expect([ips('event.module'), ips('source.ip'), ips('destination.port'), ips('network.transport'), ips('user.name'), ips('@timestamp')]).toEqual([
      'barracuda-cgf',
      '203.0.113.50',
      445,
      'tcp',
      undefined,
      '2026-11-26T00:00:00.000Z',
    ]);
    expect(ips('event.type')).toEqual(['connection', 'denied']);
  });
});
