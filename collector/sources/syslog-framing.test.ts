import { describe, expect, it } from 'vitest';
import { SyslogFramer, type FramedMessage } from './syslog-framing.ts';

function frame(framer: SyslogFramer, chunks: (string | Buffer)[]): FramedMessage[] {
  return chunks.flatMap((c) => framer.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
}

describe('SyslogFramer (RFC 6587)', () => {
  it('splits newline-framed messages, across chunk borders, dropping CR', () => {
    const f = new SyslogFramer(1000);
    const out = frame(f, ['<13>one\r\n<13>tw', 'o\n\n<13>three']);
    expect(out).toEqual([
      { text: '<13>one', truncated: false, invalidUtf8: false },
      { text: '<13>two', truncated: false, invalidUtf8: false },
    ]);
    expect(f.end()).toEqual([{ text: '<13>three', truncated: false, invalidUtf8: false }]);
  });

  it('reads octet-counted messages that hold newlines, with the length split across chunks', () => {
    const m1 = '<34>1 2026-11-26T08:00:00Z fw01 app - - - first\nsecond line';
    const m2 = '<34>multi\nline\n';
    const wire = `${Buffer.byteLength(m1)} ${m1}${Buffer.byteLength(m2)} ${m2}`;
    const f = new SyslogFramer(1000);
    const out = frame(f, [wire.slice(0, 1), wire.slice(1, 20), wire.slice(20)]);
    expect(out.map((m) => m.text)).toEqual([m1, m2]);
  });

  it('mixes both framings on one connection and counts bytes, not characters', () => {
    const m = 'Tiếng Việt\nok';
    const f = new SyslogFramer(1000);
    const out = frame(f, [`<13>plain\n${Buffer.byteLength(m)} ${m}<13>again\n`]);
    expect(out.map((x) => x.text)).toEqual(['<13>plain', m, '<13>again']);
  });

  it('treats a message that merely starts with digits as newline-framed', () => {
    const f = new SyslogFramer(1000);
    expect(frame(f, ['2026-11-26 fw01 deny\n']).map((m) => m.text)).toEqual(['2026-11-26 fw01 deny']);
  });

  it('cuts messages at the limit, flags them and skips the rest without buffering it', () => {
    const f = new SyslogFramer(300);
    const long = 'a'.repeat(1000);
    const counted = 'b'.repeat(700);
    const out = frame(f, [`<13>${long}\n`, `${counted.length} ${counted}`, '<13>short\n']);
    expect(out).toEqual([
      { text: `<13>${long}`.slice(0, 300), truncated: true, invalidUtf8: false },
      { text: counted.slice(0, 300), truncated: true, invalidUtf8: false },
      { text: '<13>short', truncated: false, invalidUtf8: false },
    ]);
  });

  it('shows invalid UTF-8 as U+FFFD and says so; a cut that splits a character is not invalid', () => {
    const f = new SyslogFramer(15);
    const bad = Buffer.concat([Buffer.from('<13>caf'), Buffer.from([0xe9]), Buffer.from(' ok\n')]);
    // "Việt" cut at the limit in the middle of the three bytes of "ệ".
    const cut = Buffer.from('<13>Tiếng Việt\n');
    expect(frame(f, [bad, cut])).toEqual([
      { text: '<13>caf\ufffd ok', truncated: false, invalidUtf8: true },
      { text: '<13>Tiếng Vi', truncated: true, invalidUtf8: false },
    ]);
  });
});
