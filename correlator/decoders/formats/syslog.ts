import type { Decoder } from '../types.ts';

/** Last resort: a syslog header around a payload no other decoder knows; the header is still worth keeping. */
export const syslog: Decoder = {
  name: 'syslog',
  description: 'RFC 3164 / RFC 5424 framing only (priority, time, host, app, structured data); payload kept as message',
  sniff: (input) => input.header !== undefined && (input.header.timestamp !== undefined || input.header.version !== undefined || input.payload.length > 0),
  decode(input, draft) {
    if (!input.header) throw new Error('no syslog header');
    draft.message = input.payload;
    const sd = input.header.structuredData;
    if (sd && Object.keys(sd).length > 0) draft.syslog = { structured_data: sd };
    if (input.header.msgId !== undefined) draft.event.code = input.header.msgId;
  },
};
