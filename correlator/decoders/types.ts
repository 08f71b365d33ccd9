import type { SyslogHeader } from './framing/syslog.ts';
import type { TimeContext } from './time.ts';

/** One side of an appliance: the interface and the zone a packet came in by or left by. */
export interface ObserverSide {
  interface?: { name?: string };
  zone?: string;
}

/** One end of a connection; nat is the address the appliance translated it to. */
export interface Endpoint {
  ip?: string;
  port?: number;
  domain?: string;
  bytes?: number;
  packets?: number;
  nat?: { ip?: string; port?: number };
}

/** What a decoder fills in; index.ts adds @timestamp defaults, event.kind, event.original and the module names. */
export interface Draft {
  '@timestamp'?: string;
  event: {
    kind?: 'event' | 'alert' | 'pipeline_error' | 'metric' | 'state';
    category?: string[];
    type?: string[];
    action?: string;
    outcome?: 'success' | 'failure' | 'unknown';
    severity?: number;
    code?: string;
    dataset?: string;
    reason?: string;
  };
  message?: string;
  host?: { name?: string; ip?: string };
  observer?: { vendor?: string; product?: string; type?: string; name?: string; serial_number?: string; ingress?: ObserverSide; egress?: ObserverSide };
  source?: Endpoint;
  destination?: Endpoint;
  network?: { transport?: string; direction?: string; application?: string; bytes?: number; packets?: number };
  rule?: { id?: string; name?: string };
  file?: { path?: string; name?: string; hash?: Record<string, string> };
  threat?: { software?: { name?: string; id?: string; type?: string } };
  user?: { name?: string; domain?: string };
  process?: { name?: string; pid?: number; executable?: string };
  log?: { syslog?: { priority?: number; facility?: { code: number }; severity?: { code: number } } };
  labels?: Record<string, string>;
  [extra: string]: unknown;
}

export interface DecodeInput {
  /** The message: the whole line, or what follows the syslog header. */
  payload: string;
  /** Where payload starts in the original line, so that error positions point into the line. */
  offset: number;
  header?: SyslogHeader;
  time: TimeContext;
  /** Per-source memory (W3C #Fields headers); absent when decoding one line on its own. */
  state?: Map<string, unknown>;
  /** The payload parsed as JSON, once, for every decoder that looks at it (see formats/json-payload.ts). */
  json?: { value: unknown } | { error: DecodeError };
}

export interface Decoder {
  name: string;
  description: string;
  /** Cheap test on the framed line; never throws. */
  sniff(input: DecodeInput): boolean;
  /**
   * A text every payload the sniff takes holds ('=' for key=value formats): the registry searches a line for it
   * once and skips the sniffs of every decoder that needs it when it is absent.
   */
  sniffNeeds?: string;
  /** Throws DecodeError when the line is not what the decoder expects. */
  decode(input: DecodeInput, draft: Draft): void;
}

/** A line the decoder recognised but could not read: position is relative to DecodeInput.payload. */
export class DecodeError extends Error {
  readonly position: number;

  constructor(message: string, position: number) {
    // Thrown for every unreadable line and read only for its message and position: capturing a stack trace
    // would cost more than decoding the line.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.position = position;
  }
}
