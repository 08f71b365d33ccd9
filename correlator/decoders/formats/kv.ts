import { scanKv } from '../scan/kv.ts';
import { DecodeError, type Decoder } from '../types.ts';
import { mapWellKnown } from './well-known.ts';

/** How many `word=` tokens start the first 512 characters: the signature of a key=value record. */
function pairs(p: string): number {
  let n = 0;
  const end = Math.min(p.length, 512);
  for (let i = 1; i < end; i++) {
    if (p.charCodeAt(i) !== 61) continue;
    const c = p.charCodeAt(i - 1);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) n++;
  }
  return n;
}

/**
 * Any other key=value record (Stormshield, Clavister, Meraki, appliances without a dedicated decoder):
 * well-known key names map to ECS, the record stays in event.original.
 */
export const kvGeneric: Decoder = {
  name: 'kv',
  description: 'any other key=value record: well-known keys (src, dst, sport, dport, proto, user, action, ...) map to ECS',
  sniffNeeds: '=',
  sniff: (input) => pairs(input.payload) >= 3,
  decode(input, draft) {
    const x = scanKv(input.payload);
    if (Object.keys(x).length < 2) throw new DecodeError('fewer than 2 key=value pairs', 0);
    mapWellKnown(x, input, draft);
    draft.kv = x;
  },
};
