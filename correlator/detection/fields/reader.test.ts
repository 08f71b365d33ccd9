import { describe, expect, it } from 'vitest';
import { getField } from '../../../shared/event.ts';
import { fieldReader } from './reader.ts';

describe('field readers', () => {
  const events: Record<string, unknown>[] = [
    { source: { ip: '1.1.1.1' } },
    { 'source.ip': '2.2.2.2' },
    { source: { ip: '3.3.3.3', port: 1 } },
    { file: { 'hash.sha256': 'abc' } },
    { file: { hash: { sha256: 'def' } } },
    { 'file.hash': { sha256: 'ghi' } },
    { source: 'not an object' },
    { source: null },
    {},
  ];
  it('agree with getField on nested, flat and mixed shapes', () => {
    for (const path of ['source.ip', 'file.hash.sha256', 'source.port', 'source']) {
      const read = fieldReader(path, path);
      for (const e of events) expect(read(e), `${path} in ${JSON.stringify(e)}`).toEqual(getField(e, path));
    }
  });
  it('fall back to the name the rule wrote', () => {
    const read = fieldReader('source.ip', 'src_ip');
    expect(read({ src_ip: '9.9.9.9' })).toBe('9.9.9.9');
    expect(read({ source: { ip: '1.1.1.1' }, src_ip: '9.9.9.9' })).toBe('1.1.1.1');
  });
});
