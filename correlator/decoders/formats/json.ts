import { DecodeError, type Decoder } from '../types.ts';
import { jsonObject, parseJsonPayload } from './json-payload.ts';
import { mapWellKnown } from './well-known.ts';

/**
 * Any other JSON object (cloud AV consoles, EDR APIs): the well-known field names at the top level map to ECS;
 * the document itself stays in event.original.
 */
export const jsonGeneric: Decoder = {
  name: 'json',
  description: 'any other JSON object: well-known top-level field names (src_ip, user, threat_name, ...) map to ECS',
  sniff: (input) => input.payload.charCodeAt(0) === 123,
  decode(input, draft) {
    const x = jsonObject(input);
    if (!x) {
      // Raises the parser's own message and position when the text is not JSON at all.
      parseJsonPayload(input);
      throw new DecodeError('JSON value is not an object', 0);
    }
    mapWellKnown(x, input, draft);
  },
};
