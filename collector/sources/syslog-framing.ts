import { lineText } from '../record.ts';

/** One syslog message taken off a stream. */
export interface FramedMessage {
  text: string;
  truncated: boolean;
  /** Bytes that were not UTF-8, shown as U+FFFD in text. */
  invalidUtf8: boolean;
}

const SP = 0x20;
const LF = 0x0a;
const MAX_LENGTH_DIGITS = 10;

/**
 * RFC 6587 framing for syslog over TCP and TLS, decided per message as receivers do: a frame that
 * starts with a digit is octet-counted ("MSG-LEN SP MSG", the message may hold newlines); any
 * other frame runs to the next LF. Messages longer than `limit` bytes keep their first `limit`
 * bytes and are flagged; the rest is skipped without being buffered.
 */
export class SyslogFramer {
  private mode: 'start' | 'length' | 'octets' | 'line' = 'start';
  private digits = '';
  private remaining = 0;
  private parts: Buffer[] = [];
  private kept = 0;
  private over = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): FramedMessage[] {
    const out: FramedMessage[] = [];
    let i = 0;
    while (i < chunk.length) {
      switch (this.mode) {
        case 'start': {
          const b = chunk[i]!;
          if (b === LF || b === 0x0d || b === 0) {
            i++;
          } else if (b >= 0x30 && b <= 0x39) {
            this.mode = 'length';
            this.digits = '';
          } else this.mode = 'line';
          break;
        }
        case 'length': {
          const b = chunk[i]!;
          if (b >= 0x30 && b <= 0x39 && this.digits.length < MAX_LENGTH_DIGITS) {
            this.digits += String.fromCharCode(b);
            i++;
          } else if (b === SP && this.digits.length > 0) {
            this.remaining = Number(this.digits);
            this.mode = 'octets';
            i++;
            if (this.remaining === 0) this.finish(out);
          } else {
            // Not a length after all (a message that starts with digits): it is LF-framed text.
            this.keep(Buffer.from(this.digits, 'latin1'));
            this.mode = 'line';
          }
          break;
        }
        case 'octets': {
          const take = Math.min(this.remaining, chunk.length - i);
          this.keep(chunk.subarray(i, i + take));
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.finish(out);
          break;
        }
        case 'line': {
          const nl = chunk.indexOf(LF, i);
          const stop = nl === -1 ? chunk.length : nl;
          this.keep(chunk.subarray(i, stop));
          i = stop;
          if (nl !== -1) {
            i++;
            this.finish(out);
          }
          break;
        }
      }
    }
    return out;
  }

  /** The peer closed: a last LF-framed message without its newline still counts. */
  end(): FramedMessage[] {
    const out: FramedMessage[] = [];
    if (this.mode === 'line' || (this.mode === 'octets' && this.kept > 0) || (this.mode === 'length' && this.digits)) {
      if (this.mode === 'length') this.keep(Buffer.from(this.digits, 'latin1'));
      this.finish(out);
    }
    return out;
  }

  private keep(b: Buffer): void {
    const room = this.limit - this.kept;
    if (b.length > room) this.over = true;
    if (room <= 0) return;
    const part = b.length > room ? b.subarray(0, room) : b;
    this.parts.push(Buffer.from(part));
    this.kept += part.length;
  }

  private finish(out: FramedMessage[]): void {
    const { text: raw, invalidUtf8 } = lineText(Buffer.concat(this.parts, this.kept), this.over);
    const text = this.mode === 'line' && raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.length > 0) out.push({ text, truncated: this.over, invalidUtf8 });
    this.parts = [];
    this.kept = 0;
    this.over = false;
    this.digits = '';
    this.mode = 'start';
  }
}
