import { describe, expect, it } from 'vitest';
import { parseSyslog } from './syslog.ts';

const time = { received: Date.parse('2026-11-26T01:00:00Z'), timezone: 'Asia/Ho_Chi_Minh' };

describe('syslog framing', () => {
  it('reads an RFC 3164 header and resolves the missing year and zone against the receive time', () => {
    const line = "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8";
    const f = parseSyslog(line, time);
    expect(f.header).toMatchObject({ priority: 34, hostname: 'mymachine', appName: 'su', procId: '230' });
    expect(new Date(f.header!.timestamp!).toISOString()).toBe('2026-10-11T15:14:15.000Z');
    expect(line.slice(f.offset)).toBe("'su root' failed for lonvick on /dev/pts/8");
  });

  it('puts a December line read in January into the previous year', () => {
    const f = parseSyslog('<13>Dec 31 23:59:00 host app: x', { received: Date.parse('2027-01-01T00:30:00Z'), timezone: 'UTC' });
    expect(new Date(f.header!.timestamp!).toISOString()).toBe('2026-12-31T23:59:00.000Z');
  });

  it('reads a 3164 time with a year (Cisco) and one without a host name (pfSense filterlog)', () => {
    const asa = parseSyslog('<166>Aug 28 2023 15:35:01 fw123 : %ASA-6-113005: AAA user authentication Rejected', time);
    expect(asa.header?.hostname).toBe('fw123');
    expect(new Date(asa.header!.timestamp!).toISOString()).toBe('2023-08-28T08:35:01.000Z');
    const pf = parseSyslog('<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in', time);
    expect(pf.header).toMatchObject({ appName: 'filterlog', procId: '72237' });
    expect(pf.header?.hostname).toBeUndefined();
  });

  it('reads an RFC 5424 header with structured data and an offset', () => {
    const line =
      '<165>1 2003-10-11T22:14:15.003-07:00 mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event';
    const f = parseSyslog(line, time);
    expect(f.header).toMatchObject({ version: 1, hostname: 'mymachine.example.com', appName: 'evntslog', msgId: 'ID47' });
    expect(f.header?.procId).toBeUndefined();
    expect(f.header?.structuredData).toEqual({
      'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
      'examplePriority@32473': { class: 'high' },
    });
    expect(new Date(f.header!.timestamp!).toISOString()).toBe('2003-10-12T05:14:15.003Z');
    expect(line.slice(f.offset)).toBe('An application event');
  });

  it('keeps a payload that only looks like structured data (Check Point) as the message', () => {
    const line = '<134>1 2023-03-02T03:28:09Z gw CheckPoint 15871 - [action:"Block"; ifdir:"outbound"]';
    const f = parseSyslog(line, time);
    expect(line.slice(f.offset)).toBe('[action:"Block"; ifdir:"outbound"]');
  });

  it('skips a facility.level word between host and tag and leaves unframed lines alone', () => {
    const f = parseSyslog('May  5 20:46:46 gw user.info kernel: TTL=126 PROTO=TCP', time);
    expect(f.header).toMatchObject({ hostname: 'gw', appName: 'kernel' });
    expect(parseSyslog('date=2019-05-10 time=11:50:48 logid="0001000014"', time)).toEqual({ offset: 0 });
  });

  it('applies the configured zone to times without one', () => {
    const f = parseSyslog('<13>Nov 25 10:00:00 host app: x', { ...time, timezone: 'Europe/Paris' });
    expect(new Date(f.header!.timestamp!).toISOString()).toBe('2026-11-25T09:00:00.000Z');
  });
});
