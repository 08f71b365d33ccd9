import { describe, expect, it } from 'vitest';
import { NormalizedEventSchema } from '../../shared/event.ts';
import { decodeBytes, decodeEnvelope, decodeLine, escapeLine, listFormats, MAX_LINE } from './index.ts';
import { decoded, RECEIVED } from './test-support/decode.ts';

describe('decodeLine', () => {
  it('turns a line no decoder understands into a pipeline_error that keeps the original', () => {
    const f = decoded('hello, this is not a log line');
    expect(f('event.kind')).toBe('pipeline_error');
    expect(f('error.message')).toBe('auto: no decoder recognised the line at position 0');
    expect(f('@timestamp')).toBe(RECEIVED.toISOString());
  });

  it('keeps the syslog framing of an unknown payload', () => {
    const f = decoded('<30>Nov 26 07:00:00 web01 nginx[812]: upstream timed out');
    expect([f('event.kind'), f('event.module'), f('host.name'), f('process.name'), f('process.pid'), f('message')]).toEqual([
      'event',
      'syslog',
      'web01',
      'nginx',
      812,
      'upstream timed out',
    ]);
    expect(f('@timestamp')).toBe('2026-11-26T00:00:00.000Z');
  });

  it('decodes a line with control characters and lone surrogates escaped, keeping the line as received, and flags it', () => {
    const line = '<30>Nov 26 07:00:00 web01 app: bell\u0007here\u001b[31m \ud800 \u007f';
    const f = decoded(line);
    expect([f('event.kind'), f('host.name'), f('message'), f('event.original')]).toEqual(['event', 'web01', 'bell\u2407here\u241b[31m \ufffd \u2421', line]);
    expect(f('labels.line_escaped')).toBe('control,invalid_utf8');
    expect(decoded('<30>Nov 26 07:00:00 web01 app: a\u0000b')('labels.line_escaped')).toBe('control');
    expect(escapeLine('clean line, tab\tand Đ 😀')).toEqual({ line: 'clean line, tab\tand Đ 😀', escaped: [] });
    expect(decoded('<30>Nov 26 07:00:00 web01 app: clean')('labels')).toBeUndefined();
  });

  it('writes only the fields the line gave: the draft fields left unset are left out of the JSON', () => {
    const event = decodeLine('<30>Nov 26 07:00:00 web01 nginx[812]: upstream timed out', { received: RECEIVED });
    const json = JSON.parse(JSON.stringify(event)) as Record<string, Record<string, unknown>>;
    expect(Object.keys(json)).toEqual(['@timestamp', 'event', 'message', 'host', 'process', 'log']);
    expect(Object.keys(json.event!).sort()).toEqual(['dataset', 'kind', 'module', 'original']);
    // Unset fields are undefined, never null or empty: every reader takes them for absent.
    expect(Object.values(event).filter((v) => v !== undefined && (v === null || (typeof v === 'object' && Object.keys(v).length === 0)))).toEqual([]);
  });

  it('flags a line nothing decodes after escaping too', () => {
    const f = decoded('not a log\u0000line');
    expect([f('event.kind'), f('labels.line_escaped')]).toEqual(['pipeline_error', 'control']);
  });

  it('shows control characters inside a JSON document visibly too, so that it still parses', () => {
    const line = `{"EventID":1116,"SourceName":"Microsoft-Windows-Windows Defender","Computer":"ws-1","Threat Name":"EICAR","Path":"C:\\\\Users\\\\a\u0000b.exe"}`;
    const f = decoded(line);
    expect([f('event.kind'), f('file.path'), f('event.original')]).toEqual(['alert', 'C:\\Users\\a\u2400b.exe', line]);
  });

  it('cuts a 10 MB line, says so, and does not try to decode it', () => {
    const line = `CEF:0|V|P|1|2|N|3|msg=${'x'.repeat(10 * 1024 * 1024)}`;
    const event = decodeLine(line, { received: RECEIVED }) as Record<string, any>;
    expect(NormalizedEventSchema.safeParse(event).success).toBe(true);
    expect(event.event.kind).toBe('pipeline_error');
    expect(event.event.original).toHaveLength(MAX_LINE);
    expect(event.error.message).toBe(
      `input: line of ${line.length} characters exceeds the limit of ${MAX_LINE} at position ${MAX_LINE}; event.original keeps the first ${MAX_LINE}`,
    );
    expect(event.labels.original_truncated).toBe(`${MAX_LINE} of ${line.length} characters`);
  });

  it('uses a format hint instead of sniffing, and names that decoder when the line does not fit', () => {
    expect(decoded('Oct 10 07:25:12 gw kernel: IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 PROTO=UDP SPT=1 DPT=2', { format: 'iptables' })('event.module')).toBe(
      'netfilter',
    );
    expect(decoded('not fortigate at all', { format: 'fortigate' })('error.message')).toBe('fortigate: no type= field at position 0');
    expect(decoded('x', { format: 'no-such-format' })('error.message')).toBe("format: unknown format 'no-such-format' at position 0");
  });

  it('passes already-normalized events through after validating them', () => {
    const event = {
      '@timestamp': '2026-11-26T00:00:00.000Z',
      event: { kind: 'event', category: ['network'], type: ['connection', 'denied'] },
      source: { ip: '10.0.0.1', port: 4444 },
    };
    const f = decoded(JSON.stringify(event));
    expect([f('event.module'), f('source.port'), f('event.type'), f('@timestamp')]).toEqual([
      'normalized',
      4444,
      ['connection', 'denied'],
      '2026-11-26T00:00:00.000Z',
    ]);
    const bad = decoded(JSON.stringify({ ...event, source: { ip: '10.0.0.1', port: 'ssh' } }));
    expect(bad('error.message')).toBe('normalized: field source.port: Invalid input: expected number, received string at position 0');
  });

  it('reports invalid JSON with the parser position', () => {
    expect(decoded('{"EventID": 1116, "SourceName": "Defender"')('error.message')).toMatch(/^json: invalid JSON \(.+\) at position \d+$/);
  });

  it('never throws, whatever it is given', () => {
    for (const bad of ['', ' ', '<', '<999>', '<1>1', 'CEF:', '{', '[]', '%ASA-', '%ASA-1-', '1,2026/11/26 00:00:00,x,TRAFFIC,', 'id=firewall sn= m= fw=']) {
      expect(() => decodeLine(bad)).not.toThrow();
      expect(NormalizedEventSchema.safeParse(decodeLine(bad)).success).toBe(true);
    }
  });
});

describe('decodeBytes', () => {
  it('decodes invalid UTF-8 with U+FFFD in place of each bad sequence and flags the event', () => {
    const bytes = Buffer.concat([Buffer.from('<30>Nov 26 07:00:00 h app: caf'), Buffer.from([0xc3, 0x28]), Buffer.from(' ok\u0001')]);
    const event = decodeBytes(bytes, { received: RECEIVED }) as Record<string, any>;
    expect(NormalizedEventSchema.safeParse(event).success).toBe(true);
    expect([event.event.kind, event.message, event.labels.line_escaped]).toEqual(['event', 'caf\ufffd( ok\u2401', 'control,invalid_utf8']);
    expect(event.event.original).toBe('<30>Nov 26 07:00:00 h app: caf\ufffd( ok\u0001');
    // Overlong forms, surrogates and stray continuation bytes are invalid too; a line nothing decodes stays flagged.
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf5, 0x80, 0x80, 0x80]]) {
      const e = decodeBytes(Buffer.concat([Buffer.from('junk '), Buffer.from(bad)]), { received: RECEIVED }) as Record<string, any>;
      expect([e.event.kind, e.labels.line_escaped]).toEqual(['pipeline_error', 'invalid_utf8']);
    }
  });

  it('decodes valid UTF-8 (Vietnamese text included) as decodeLine does', () => {
    const event = decodeBytes(Buffer.from('<30>Nov 26 07:00:00 h app: Đã chặn kết nối'), { received: RECEIVED }) as Record<string, any>;
    expect(event.message).toBe('Đã chặn kết nối');
  });
});

describe('decodeEnvelope', () => {
  it('takes format and receive time from the envelope and adds host, unit, drill, id, ingested', () => {
    const env = {
      v: 1 as const,
      kind: 'line' as const,
      id: 'srv-7/kern.log/1234',
      host: 'srv-7',
      source: '/var/log/kern.log',
      format: 'netfilter',
      received: '2026-11-26T01:00:00.000Z',
      unit: 'So TT&TT',
      drill: 'drill-2026-11',
      line: 'IN=eth0 OUT= SRC=203.0.113.1 DST=10.0.0.7 PROTO=TCP SPT=1234 DPT=22',
    };
    const event = decodeEnvelope(env) as Record<string, any>;
    expect(NormalizedEventSchema.safeParse(event).success).toBe(true);
    expect([event.host.name, event.labels.unit, event.labels.drill, event.event.id, event['@timestamp'], event.event.module]).toEqual([
      'srv-7',
      'So TT&TT',
      'drill-2026-11',
      'srv-7/kern.log/1234',
      '2026-11-26T01:00:00.000Z',
      'netfilter',
    ]);
    expect(Date.parse(event.event.ingested)).toBeGreaterThan(0);
  });

  it('keeps the host name the line gives', () => {
    const env = {
      v: 1 as const,
      kind: 'line' as const,
      id: 'a',
      host: 'collector-1',
      source: 'udp:514',
      format: 'auto',
      received: '2026-11-26T01:00:00.000Z',
      line: '<30>Nov 26 07:00:00 fw-hcm app: hello',
    };
    expect((decodeEnvelope(env) as Record<string, any>).host.name).toBe('fw-hcm');
  });

  it("flags a line whose bytes the collector found not UTF-8 (the envelope's invalid_utf8)", () => {
    const env = {
      v: 1 as const,
      kind: 'line' as const,
      id: 'b',
      host: 'files01',
      source: '/var/log/clamav/clamd.log',
      format: 'auto',
      received: '2026-11-26T01:00:00.000Z',
      line: '<13>Nov 26 07:40:00 files01 clamd[1234]: /srv/h\ufffda.exe: Win.Trojan.Agent-1 FOUND',
      invalid_utf8: true,
    };
    const event = decodeEnvelope(env) as Record<string, any>;
    expect([event.event.kind, event.file.path, event.labels.line_escaped]).toEqual(['alert', '/srv/h\ufffda.exe', 'invalid_utf8']);
  });
});

describe('listFormats', () => {
  it('names every format with a description', () => {
    const names = listFormats().map((f) => f.name);
    for (const n of [
      'netfilter',
      'pfsense-filterlog',
      'fortigate',
      'cisco-asa',
      'windows-firewall',
      'windows-wfp',
      'clamav',
      'windows-defender',
      'cef',
      'paloalto',
      'sophos-xg',
      'checkpoint',
      'sonicwall',
      'juniper-srx',
      'kaspersky',
      'symantec',
      'eset-protect',
      'normalized',
      'syslog',
    ])
      expect(names).toContain(n);
    expect(listFormats().every((f) => f.description.length > 10)).toBe(true);
  });
});
