import { describe, expect, it } from 'vitest';
import { FieldMapping } from './fields/mapping.ts';
import { context, detection, rulesFrom } from './testdata/build.ts';

/**
 * Where the engine used to part from the Sigma specification, each with a rule shaped like the public
 * SigmaHQ rule that showed it and the event it was wrong on.
 */
describe('the Sigma specification', () => {
  // SigmaHQ's "Mimikatz Use" (win_alert_mimikatz_keywords): keywords only, product windows.
  const mimikatz = "keywords:\n  - 'dpapi::masterkey'\n  - 'sekurlsa::logonpasswords'\n  - 'gentilkiwi.com'\ncondition: keywords";
  const sysmon = {
    EventID: 1,
    Image: 'C:\\Users\\x\\mimikatz.exe',
    CommandLine: 'mimikatz.exe "privilege::debug" "SEKURLSA::LogonPasswords" exit',
    Hashes: 'MD5=352B525E9C26CB92693899528FE007C2',
  };

  it('keywords search every string value of the event, at any depth', () => {
    const d = detection(mimikatz);
    expect(d.matches(sysmon)).toBe(true);
    expect(d.matches({ winlog: { event_data: { ServiceFileName: 'http://gentilkiwi.com/x' } } })).toBe(true);
    expect(d.matches({ tags: ['a', 'dpapi::masterkey'] })).toBe(true);
    expect(d.matches({ ...sysmon, CommandLine: 'whoami' })).toBe(false);
    // The strings are gathered per match: an event changed and matched again is read anew.
    const ev: Record<string, unknown> = { CommandLine: 'whoami' };
    expect(d.matches(ev)).toBe(false);
    ev.CommandLine = 'dpapi::masterkey /in:x';
    expect(d.matches(ev)).toBe(true);
  });

  it("keywords search only the original line when fields.yml says 'keywords: message'", () => {
    const mapping = new FieldMapping(undefined, [], undefined, 'message');
    const d = detection(mimikatz, context({ mapping }));
    expect(d.matches(sysmon)).toBe(false);
    expect(d.matches({ message: 'sekurlsa::logonpasswords' })).toBe(true);
  });

  // SigmaHQ's "Potential Pass the Hash Activity" (rules-placeholder): `selection and not filter` over %Workstations%.
  const passTheHash =
    "selection:\n  EventID: 4624\n  LogonType: 3\n  WorkstationName|expand: '%Workstations%'\nfilter:\n  TargetUserName: 'ANONYMOUS LOGON'\ncondition: selection and not filter";
  const logon = { EventID: 4624, LogonType: 3, WorkstationName: 'WS01', TargetUserName: 'alice' };

  it('refuses a placeholder no list resolves, naming it', () => {
    const d = detection(passTheHash);
    expect(d.errors).toEqual(['placeholder %Workstations% is not resolved: no list rules/lists/Workstations.txt (an empty list file resolves it)']);
    expect(d.matches(logon)).toBe(false);
  });

  it('an empty list in rules/lists/ resolves a placeholder', () => {
    const empty = detection(passTheHash, context({ lists: { Workstations: [] } }));
    expect(empty.errors).toEqual([]);
    expect(empty.matches(logon)).toBe(false);
    const filled = detection(passTheHash, context({ lists: { Workstations: ['ws01'] } }));
    expect(filled.matches(logon)).toBe(true);
    expect(filled.matches({ ...logon, TargetUserName: 'ANONYMOUS LOGON' })).toBe(false);
  });

  it('refuses an empty alternative, which would match every event', () => {
    const d = detection("selection:\n  - Image|endswith: '\\\\mimikatz.exe'\n  - {}\ncondition: selection");
    expect(d.errors).toContain("selection 'selection': alternative 2 is empty ({}), which would match every event");
    expect(d.matches({ Image: 'C:\\Windows\\notepad.exe' })).toBe(false);
    expect(detection('selection: {}\ncondition: selection').errors).toContain("selection 'selection' is an empty map, which would match every event");
  });

  it('refuses null inside a list of values, and still takes null as its own value', () => {
    const d = detection('selection:\n  ParentImage:\n    - null\n    - C:\\Windows\\explorer.exe\ncondition: selection');
    expect(d.errors).toContain("field 'ParentImage': null inside a list of values; write 'ParentImage: null' as its own item to match a missing field");
    expect(d.matches({ Image: 'x' })).toBe(false);
    expect(detection('keywords:\n  - evil\n  - null\ncondition: keywords').errors).toContain("selection 'keywords': null inside a list of keywords");
    const alone = detection('selection:\n  ParentImage: null\ncondition: selection');
    expect(alone.errors).toEqual([]);
    expect(alone.matches({ Image: 'x' })).toBe(true);
  });

  it('keeps unquoted leading-zero scalars as strings', () => {
    // Windows logon failure sub-statuses and error codes are written with their zeros: 00000429 is not 429.
    const d = detection('selection:\n  ErrorCode: 00000429\ncondition: selection');
    expect(d.matches({ ErrorCode: '00000429' })).toBe(true);
    expect(d.matches({ ErrorCode: '429' })).toBe(false);
    expect(d.matches({ ErrorCode: 429 })).toBe(false);
    const list = detection('selection:\n  Status: [0012, 13]\ncondition: selection');
    expect(list.matches({ Status: '0012' })).toBe(true);
    expect(list.matches({ Status: '12' })).toBe(false);
    expect(list.matches({ Status: 13 })).toBe(true);
  });

  it('windash varies every dash, not only the one in front of a flag', () => {
    // SigmaHQ's "Suspicious Execution of Powershell with Base64": `-enc` and `-EncodedCommand` under windash.
    const d = detection("selection:\n  CommandLine|windash|contains: 'set-mppreference -disablerealtimemonitoring'\ncondition: selection");
    expect(d.matches({ CommandLine: 'powershell Set-MpPreference /DisableRealtimeMonitoring $true' })).toBe(true);
    expect(d.matches({ CommandLine: 'powershell Set\u2013MpPreference \u2014DisableRealtimeMonitoring $true' })).toBe(true);
    expect(d.matches({ CommandLine: 'powershell Set/MpPreference -DisableRealtimeMonitoring $true' })).toBe(true);
    expect(d.matches({ CommandLine: 'powershell SetMpPreference -DisableRealtimeMonitoring $true' })).toBe(false);
    // Before an encoding the permutations are enumerated, every dash included.
    const b64 = detection("selection:\n  CommandLine|windash|base64offset|contains: 'a-b'\ncondition: selection");
    expect(b64.matches({ CommandLine: Buffer.from('xx a/b yy').toString('base64') })).toBe(true);
  });

  it('large inline lists compile to one matcher: 5,000 hashes cost one pass', () => {
    const hashes = Array.from({ length: 5000 }, (_, i) => `MD5=${i.toString(16).padStart(32, '0')}`);
    const { ruleset, findings } = rulesFrom(
      `title: hashes\nid: hashes\nlayer: 1\ndetection:\n  selection:\n    Hashes|contains:\n${hashes.map((h) => `      - '${h}'`).join('\n')}\n  condition: selection\n`,
    );
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(ruleset.detections.get('hashes')!.sizes).toEqual([
      { values: 5000, exact: 0, prefixes: 0, suffixes: 0, substrings: 5000, wildcards: 0, regexes: 0, networks: 0 },
    ]);
    expect(ruleset.match({ Hashes: `SHA1=AB,MD5=${(4321).toString(16).padStart(32, '0').toUpperCase()},IMPHASH=CD` }).length).toBe(1);
    expect(ruleset.match({ Hashes: `MD5=${'f'.repeat(32)}` }).length).toBe(0);
  });

  it('thousands of wildcard values in the middle run as a few RE2 alternations, beyond what one expression may hold', () => {
    const values = Array.from({ length: 20000 }, (_, i) => `a${i}*b${i}`);
    const d = detection(`selection:\n  f:\n${values.map((v) => `    - '${v}'`).join('\n')}\ncondition: selection`);
    expect(d.errors).toEqual([]);
    expect(d.matches({ f: 'A19999 and then B19999' })).toBe(true);
    expect(d.matches({ f: 'a19999 and then b19998' })).toBe(false);
  });
});
