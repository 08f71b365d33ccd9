import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** A record as the spool keeps it: what Kafka needs plus the source name for metrics. */
export interface SpooledRecord {
  key: string;
  source: string;
  value: string;
}

export interface SpoolPosition {
  segment: number;
  offset: number;
}

const HEADER = 12;
const SEGMENT_RE = /^(\d{10})\.seg$/;
const READ_CHUNK = 1024 * 1024;

function segmentName(n: number): string {
  return `${String(n).padStart(10, '0')}.seg`;
}

function before(a: SpoolPosition, b: SpoolPosition): boolean {
  return a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset);
}

/**
 * Bounded on-disk FIFO of records, in segment files. `head` (persisted after every acknowledgement)
 * is the first record Kafka has not acknowledged; `cursor` is the next record to send, ahead of head
 * by the batch in flight. Records are framed [u32 key length][u32 source length][u32 value length][bytes];
 * a record cut by a crash at the end of the last segment is dropped on open (it was never acknowledged
 * to anyone: the checkpoint of its file was not advanced past it either).
 */
export class Spool {
  private readonly sizes = new Map<number, number>();
  private head: SpoolPosition;
  private cursor: SpoolPosition;
  private tail: number;
  private tailFd = -1;
  private readFd: { segment: number; fd: number } | null = null;
  private unsynced = false;
  private total = 0;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    readonly segmentBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    const segments = readdirSync(dir)
      .map((f) => SEGMENT_RE.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    if (segments.length === 0) segments.push(1);
    for (const s of segments) this.sizes.set(s, 0);
    this.tail = segments[segments.length - 1]!;
    for (const s of segments) {
      const fd = openSync(join(dir, segmentName(s)), s === this.tail ? 'a+' : 'r');
      this.sizes.set(s, fstatSync(fd).size);
      if (s === this.tail) this.tailFd = fd;
      else closeSync(fd);
    }
    this.repairTail();
    this.head = this.readHead(segments[0]!);
    this.cursor = { ...this.head };
    this.recount();
  }

  static open(dir: string, opts: { maxBytes: number; segmentBytes: number }): Spool {
    return new Spool(dir, opts.maxBytes, opts.segmentBytes);
  }

  /** Bytes not yet acknowledged. */
  get bytes(): number {
    return this.total;
  }

  get empty(): boolean {
    return this.head.segment === this.tail && this.head.offset >= this.sizes.get(this.tail)!;
  }

  get full(): boolean {
    return this.total >= this.maxBytes;
  }

  /** Appends in order and returns the position after the last record. Survives a kill -9 once it returns (page cache). */
  append(records: readonly SpooledRecord[]): SpoolPosition {
    if (records.length === 0) return this.end();
    const parts: Buffer[] = [];
    let size = 0;
    const flush = () => {
      if (size === 0) return;
      const buf = Buffer.concat(parts, size);
      let off = 0;
      while (off < buf.length) off += writeSync(this.tailFd, buf, off);
      this.sizes.set(this.tail, this.sizes.get(this.tail)! + size);
      this.total += size;
      parts.length = 0;
      size = 0;
      this.unsynced = true;
    };
    for (const r of records) {
      if (this.sizes.get(this.tail)! + size >= this.segmentBytes) {
        flush();
        this.roll();
      }
      const key = Buffer.from(r.key);
      const source = Buffer.from(r.source);
      const value = Buffer.from(r.value);
      const header = Buffer.allocUnsafe(HEADER);
      header.writeUInt32BE(key.length, 0);
      header.writeUInt32BE(source.length, 4);
      header.writeUInt32BE(value.length, 8);
      parts.push(header, key, source, value);
      size += HEADER + key.length + source.length + value.length;
    }
    flush();
    return this.end();
  }

  /** Reads the next records after the cursor (up to the limits, at least one) and moves the cursor past them. */
  read(maxRecords: number, maxBytes: number): { records: SpooledRecord[]; end: SpoolPosition } {
    const records: SpooledRecord[] = [];
    let bytes = 0;
    while (records.length < maxRecords && bytes < maxBytes) {
      const size = this.sizes.get(this.cursor.segment)!;
      if (this.cursor.offset >= size) {
        if (this.cursor.segment >= this.tail) break;
        this.cursor = { segment: this.nextSegment(this.cursor.segment), offset: 0 };
        continue;
      }
      const fd = this.readFdFor(this.cursor.segment);
      const want = Math.min(READ_CHUNK, size - this.cursor.offset);
      let buf = Buffer.allocUnsafe(want);
      readFully(fd, buf, this.cursor.offset);
      let pos = 0;
      while (pos + HEADER <= buf.length && records.length < maxRecords && bytes < maxBytes) {
        const kl = buf.readUInt32BE(pos);
        const sl = buf.readUInt32BE(pos + 4);
        const vl = buf.readUInt32BE(pos + 8);
        const len = HEADER + kl + sl + vl;
        if (pos + len > buf.length) {
          if (pos > 0) break;
          // One record larger than the chunk: read exactly that record.
          buf = Buffer.allocUnsafe(len);
          readFully(fd, buf, this.cursor.offset);
        }
        const b = pos + HEADER;
        records.push({
          key: buf.toString('utf8', b, b + kl),
          source: buf.toString('utf8', b + kl, b + kl + sl),
          value: buf.toString('utf8', b + kl + sl, b + len - HEADER),
        });
        pos += len;
        bytes += len;
      }
      this.cursor = { segment: this.cursor.segment, offset: this.cursor.offset + pos };
    }
    return { records, end: { ...this.cursor } };
  }

  /** Kafka acknowledged everything before `pos`: move head there, persist it, delete consumed segments. */
  ack(pos: SpoolPosition): void {
    if (!before(this.head, pos)) return;
    this.head = { ...pos };
    if (before(this.cursor, this.head)) this.cursor = { ...this.head };
    for (const s of [...this.sizes.keys()]) {
      if (s < this.head.segment) {
        if (this.readFd?.segment === s) {
          closeSync(this.readFd.fd);
          this.readFd = null;
        }
        rmSync(join(this.dir, segmentName(s)), { force: true });
        this.sizes.delete(s);
      }
    }
    this.writeHead();
    this.recount();
  }

  /** The batch in flight failed: send again from the first unacknowledged record. */
  rewind(): void {
    this.cursor = { ...this.head };
  }

  /** Marks records already handed out (the batch in flight when the spool took over) as sent. */
  seek(pos: SpoolPosition): void {
    this.cursor = { ...pos };
  }

  end(): SpoolPosition {
    return { segment: this.tail, offset: this.sizes.get(this.tail)! };
  }

  sync(): void {
    if (!this.unsynced) return;
    fsyncSync(this.tailFd);
    this.unsynced = false;
  }

  close(): void {
    this.sync();
    closeSync(this.tailFd);
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = null;
  }

  private roll(): void {
    this.sync();
    closeSync(this.tailFd);
    this.tail += 1;
    this.tailFd = openSync(join(this.dir, segmentName(this.tail)), 'a+');
    this.sizes.set(this.tail, 0);
  }

  private nextSegment(s: number): number {
    let n = s + 1;
    while (!this.sizes.has(n) && n < this.tail) n++;
    return n;
  }

  private readFdFor(segment: number): number {
    if (this.readFd?.segment === segment) return this.readFd.fd;
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = { segment, fd: openSync(join(this.dir, segmentName(segment)), 'r') };
    return this.readFd.fd;
  }

  private recount(): void {
    let total = 0;
    for (const [s, size] of this.sizes) {
      if (s > this.head.segment) total += size;
      else if (s === this.head.segment) total += size - this.head.offset;
    }
    this.total = Math.max(0, total);
  }

  private readHead(first: number): SpoolPosition {
    try {
      const h = JSON.parse(readFileSync(join(this.dir, 'head.json'), 'utf8')) as SpoolPosition;
      if (Number.isInteger(h.segment) && Number.isInteger(h.offset) && this.sizes.has(h.segment) && h.offset <= this.sizes.get(h.segment)!) return h;
    } catch {
      // No head yet: everything in the segments is unacknowledged.
    }
    return { segment: first, offset: 0 };
  }

  private writeHead(): void {
    const tmp = join(this.dir, 'head.json.tmp');
    writeFileSync(tmp, JSON.stringify(this.head));
    renameSync(tmp, join(this.dir, 'head.json'));
  }

  /** Cuts a record left half-written by a crash at the end of the last segment. */
  private repairTail(): void {
    const size = this.sizes.get(this.tail)!;
    let pos = 0;
    const header = Buffer.alloc(HEADER);
    while (pos + HEADER <= size) {
      readFully(this.tailFd, header, pos);
      const len = HEADER + header.readUInt32BE(0) + header.readUInt32BE(4) + header.readUInt32BE(8);
      if (pos + len > size) break;
      pos += len;
    }
    if (pos < size) {
      ftruncateSync(this.tailFd, pos);
      this.sizes.set(this.tail, pos);
    }
  }
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new Error(`spool segment ended early at byte ${position + off}`);
    off += n;
  }
}
