import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../../shared/log.ts';
import type { FileSourceConfig } from '../config.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { envelopePrefix, envelopeValue, lineText, type CommitTarget, type OutRecord, type RecordSink } from '../record.ts';
import { identityOf, type CheckpointStore, type FileCheckpoint } from './checkpoints.ts';
import { expandGlob, globMatches } from './glob.ts';

/** Bytes hashed to tell a file from another that got the same inode, or from its own rewritten self. */
const HEAD_BYTES = 256;
const CHUNK = 64 * 1024;

export interface FileTailContext {
  host: string;
  unit?: string;
  drill?: string;
  lineLimit: number;
  pollMs: number;
  rotateWaitMs: number;
  sink: RecordSink;
  checkpoints: CheckpointStore;
  metrics: CollectorMetrics;
  log: Logger;
}

function hashHead(fd: number, len: number): string | null {
  if (len === 0) return '';
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, got);
    if (n === 0) return null;
    got += n;
  }
  return createHash('sha256').update(buf).digest('hex');
}

function fileKey(host: string, path: string, st: { dev: number; ino: number }, generation: number): string {
  const h = createHash('sha256').update(`${path}\0${st.dev}\0${st.ino}\0${generation}`).digest('base64url').slice(0, 16);
  return `${host}:${h}`;
}

/** One open file: where reading is, what is durable, and the line being assembled. */
class TrackedFile {
  readPos: number;
  /** Offset of the first byte of the line being assembled (= end of the last complete line). */
  lineStart: number;
  partial: Buffer[] = [];
  partialLen = 0;
  /** The line being assembled passed the limit: its first lineLimit bytes are kept, the rest skipped until the newline. */
  skipping = false;
  committed: number;
  headLen = 0;
  headHash = '';
  orphanSince: number | null = null;
  lastGrowth = Date.now();
  closed = false;
  prefix: string;
  /** For the copy left by copytruncate: the file it was copied from, which waits until the copy is read. */
  copyOf: TrackedFile | null = null;
  /** The copy being read first, so that the file's lines stay in order. */
  waitingFor: TrackedFile | null = null;

  constructor(
    private readonly tail: FileTailSource,
    readonly id: string,
    public path: string,
    readonly fd: number,
    readonly st: { dev: number; ino: number },
    public key: string,
    public generation: number,
    start: number,
  ) {
    this.readPos = start;
    this.lineStart = start;
    this.committed = start;
    this.prefix = tail.prefixFor(path);
  }

  /**
   * Where acknowledgements of this generation's lines land. A truncation starts a new generation
   * with a new target, so that late acknowledgements of lines from before it cannot move the new
   * generation's checkpoint.
   */
  target: CommitTarget = this.newTarget();

  newTarget(): CommitTarget {
    const target: CommitTarget = {
      commit: (end: number) => {
        if (this.target !== target || end <= this.committed) return;
        this.committed = end;
        this.tail.saveCheckpoint(this);
      },
    };
    return target;
  }

  checkpoint(): FileCheckpoint {
    return {
      key: this.key,
      path: this.path,
      dev: this.st.dev,
      ino: this.st.ino,
      headLen: this.headLen,
      headHash: this.headHash,
      offset: this.committed,
      generation: this.generation,
      updated: new Date().toISOString(),
    };
  }
}

/**
 * Tails the files matching a source's globs. Files are tracked by identity, not by name: after a
 * rename-and-create rotation the old file is read to its end while the new one starts at 0; a
 * copytruncate is seen as the file shrinking or its first bytes changing, and the lines not yet
 * read are taken from the copy (same first bytes, next to it) before the file restarts at 0.
 * Checkpoints advance only when the sink says a line is durable (Kafka ack or spool).
 */
export class FileTailSource {
  private readonly files = new Map<string, TrackedFile>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private pumping = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly config: FileSourceConfig,
    private readonly ctx: FileTailContext,
  ) {}

  start(): void {
    // Files from the checkpoints first: a rotated file's rest is read before its successor.
    this.resumeCheckpointed();
    this.scan(true);
    this.unsubscribe = this.ctx.sink.onReady(() => void this.safePump());
    const tick = () => {
      if (this.stopped) return;
      try {
        this.scan(false);
      } catch (err) {
        this.ctx.log.error({ err: (err as Error).message, source: this.config.name }, 'file scan failed');
      }
      void this.safePump().then(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.ctx.pollMs);
      });
    };
    void this.safePump().then(() => {
      if (!this.stopped) this.timer = setTimeout(tick, this.ctx.pollMs);
    });
  }

  /** A failure (the spool's disk full, say) is logged and retried at the next poll, never thrown at the process. */
  private safePump(): Promise<void> {
    return this.pump().catch((err: Error) => this.ctx.log.error({ source: this.config.name, err: err.message }, 'reading files failed'));
  }

  /** Stops reading; what was read stays with the sink, checkpoints are the caller's to save. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    for (const t of this.files.values()) this.close(t, false);
  }

  /** Files being read, for tests and status. */
  tracked(): { path: string; readPos: number; committed: number; orphan: boolean }[] {
    return [...this.files.values()].map((t) => ({ path: t.path, readPos: t.readPos, committed: t.committed, orphan: t.orphanSince !== null }));
  }

  prefixFor(path: string): string {
    return envelopePrefix({ host: this.ctx.host, source: path, format: this.config.format, unit: this.ctx.unit, drill: this.ctx.drill });
  }

  saveCheckpoint(t: TrackedFile): void {
    if (t.closed && t.committed >= t.lineStart) this.ctx.checkpoints.delete(t.id);
    else this.ctx.checkpoints.set(t.id, t.checkpoint());
  }

  private scan(first: boolean): void {
    const seen = new Set<string>();
    const now = Date.now();
    for (const pattern of this.config.paths) {
      for (const path of expandGlob(pattern)) {
        if (this.config.exclude.some((x) => globMatches(x, path))) continue;
        const st = statSync(path, { throwIfNoEntry: false });
        if (!st?.isFile()) continue;
        const id = identityOf(st.dev, st.ino);
        if (seen.has(id)) continue;
        seen.add(id);
        const t = this.files.get(id);
        if (t) {
          if (t.path !== path) {
            t.path = path;
            t.prefix = this.prefixFor(path);
          }
          t.orphanSince = null;
        } else this.open(path, st, first);
      }
    }
    for (const t of [...this.files.values()]) {
      if (!seen.has(t.id) && t.orphanSince === null) t.orphanSince = now;
      this.check(t, now);
    }
  }

  private open(path: string, st: Stats, first: boolean): void {
    const id = identityOf(st.dev, st.ino);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      this.ctx.log.warn({ path, err: (err as Error).message }, 'cannot open file');
      return;
    }
    const cp = this.ctx.checkpoints.get(id);
    if (cp) {
      const t = this.track(new TrackedFile(this, id, path, fd, st, cp.key, cp.generation, cp.offset), cp);
      // Truncated (copytruncate) or rewritten while the collector was down.
      if (st.size < cp.offset || !headMatches(fd, cp)) this.truncated(t);
      return;
    }
    // Start at the end only of files never seen before; a successor of a checkpointed file is read whole.
    const known = this.ctx.checkpoints.all().some(([, c]) => c.path === path);
    const start = first && this.config.startAt === 'end' && !known ? st.size : 0;
    const t = this.track(new TrackedFile(this, id, path, fd, st, fileKey(this.ctx.host, path, st, 0), 0, start));
    this.saveCheckpoint(t);
  }

  private track(t: TrackedFile, cp?: FileCheckpoint): TrackedFile {
    if (cp) {
      t.headLen = cp.headLen;
      t.headHash = cp.headHash;
    }
    this.files.set(t.id, t);
    this.ctx.log.info({ source: this.config.name, path: t.path, offset: t.readPos }, 'tailing file');
    return t;
  }

  /**
   * After a restart: every checkpointed file still there, by identity, even if it was renamed away
   * from the globs meanwhile (the scan that follows takes back those still matched).
   */
  private resumeCheckpointed(): void {
    for (const [id, cp] of this.ctx.checkpoints.all()) {
      const found = findByIdentity(cp.path, cp.dev, cp.ino);
      if (!found) {
        this.ctx.checkpoints.delete(id);
        continue;
      }
      let fd: number;
      try {
        fd = openSync(found.path, 'r');
      } catch (err) {
        this.ctx.log.warn({ path: found.path, err: (err as Error).message }, 'cannot open file');
        continue;
      }
      const t = this.track(new TrackedFile(this, id, found.path, fd, found.st, cp.key, cp.generation, cp.offset), cp);
      t.orphanSince = Date.now();
      // Truncated (copytruncate) or rewritten while the collector was down: the rest comes from the copy, if any.
      if (found.st.size < cp.offset || !headMatches(fd, cp)) this.truncated(t);
    }
  }

  /** Truncation, head hashing, and closing files that left their path and went quiet. */
  private check(t: TrackedFile, now: number): void {
    if (t.closed) return;
    let size: number;
    try {
      size = fstatSync(t.fd).size;
    } catch {
      return;
    }
    if (size < t.readPos || (t.headLen > 0 && hashHead(t.fd, t.headLen) !== t.headHash)) {
      this.truncated(t);
      return;
    }
    if (t.headLen < HEAD_BYTES && size > t.headLen) {
      t.headLen = Math.min(HEAD_BYTES, size);
      t.headHash = hashHead(t.fd, t.headLen) ?? '';
      this.saveCheckpoint(t);
    }
    if (t.orphanSince !== null && t.readPos >= size && now - t.lastGrowth >= this.ctx.rotateWaitMs && now - t.orphanSince >= this.ctx.rotateWaitMs) {
      this.close(t, true);
    }
  }

  private truncated(t: TrackedFile): void {
    const copy = this.findCopy(t);
    if (copy) {
      const fd = openSync(copy.path, 'r');
      const c = this.track(new TrackedFile(this, identityOf(copy.st.dev, copy.st.ino), copy.path, fd, copy.st, t.key, t.generation, t.lineStart));
      c.headLen = t.headLen;
      c.headHash = t.headHash;
      c.orphanSince = Date.now();
      c.copyOf = t;
      t.waitingFor = c;
      this.saveCheckpoint(c);
      this.ctx.log.info({ path: t.path, copy: copy.path, from: t.lineStart }, 'file truncated: reading the rest from its copy');
    } else if (t.readPos > 0) {
      this.ctx.log.warn({ path: t.path, at: t.readPos }, 'file truncated and no copy found: lines written since the last read may be missing');
    }
    t.generation += 1;
    t.target = t.newTarget();
    t.key = fileKey(this.ctx.host, t.path, t.st, t.generation);
    t.readPos = t.lineStart = t.committed = 0;
    t.partial = [];
    t.partialLen = 0;
    t.skipping = false;
    t.headLen = 0;
    t.headHash = '';
    t.lastGrowth = Date.now();
    this.saveCheckpoint(t);
  }

  /** The copy copytruncate left next to the file: a name starting with its name, the same first bytes, at least as long as what was read. */
  private findCopy(t: TrackedFile): { path: string; st: Stats } | null {
    if (t.headLen === 0) return null;
    const dir = dirname(t.path);
    const base = basename(t.path);
    let best: { path: string; st: Stats } | null = null;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return null;
    }
    for (const name of names) {
      if (name === base || !name.startsWith(base)) continue;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st?.isFile() || st.size < t.lineStart || this.files.has(identityOf(st.dev, st.ino))) continue;
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        continue;
      }
      const same = hashHead(fd, t.headLen) === t.headHash;
      closeSync(fd);
      if (same && (!best || st.mtimeMs > best.st.mtimeMs)) best = { path, st };
    }
    return best;
  }

  private close(t: TrackedFile, done: boolean): void {
    if (t.closed) return;
    t.closed = true;
    try {
      closeSync(t.fd);
    } catch {
      // Already closed with the process's other descriptors.
    }
    if (done) {
      this.files.delete(t.id);
      this.saveCheckpoint(t);
      this.ctx.log.info({ path: t.path }, 'finished rotated file');
    }
  }

  /** Reads every file round-robin, one chunk at a time, while the sink has room. */
  private async pump(): Promise<void> {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      let progress = true;
      while (progress && !this.stopped) {
        progress = false;
        for (const t of this.files.values()) {
          if (this.stopped || !this.ctx.sink.ready()) return;
          if (t.closed || (t.waitingFor && !t.waitingFor.closed)) continue;
          if (this.readChunk(t)) progress = true;
          else if (t.copyOf) this.finishCopy(t);
        }
        if (progress) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A copy does not grow: at its end, a last line without newline is still a line, and the original goes on. */
  private finishCopy(t: TrackedFile): void {
    if (t.partialLen > 0) {
      const end = t.readPos;
      const received = new Date().toISOString();
      const { text, invalidUtf8 } = lineText(Buffer.concat(t.partial, t.partialLen), t.skipping);
      this.ctx.metrics.read(this.config.name, 1, received);
      this.ctx.sink.offer(
        [
          {
            key: this.ctx.host,
            source: this.config.name,
            value: envelopeValue(t.prefix, `${t.key}:${t.lineStart}`, received, text, t.skipping, undefined, invalidUtf8),
            done: { file: t.target, end },
          },
        ],
        true,
      );
      t.lineStart = end;
      t.partial = [];
      t.partialLen = 0;
    }
    this.close(t, true);
  }

  private readChunk(t: TrackedFile): boolean {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n: number;
    try {
      n = readSync(t.fd, buf, 0, CHUNK, t.readPos);
    } catch (err) {
      this.ctx.log.warn({ path: t.path, err: (err as Error).message }, 'read failed');
      return false;
    }
    if (n === 0) return false;
    t.lastGrowth = Date.now();
    const limit = this.ctx.lineLimit;
    const received = new Date().toISOString();
    const records: OutRecord[] = [];
    let truncatedLines = 0;
    let start = 0;
    const emit = (bytes: Buffer, truncated: boolean, end: number) => {
      const { text: raw, invalidUtf8 } = lineText(bytes, truncated);
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (text.length > 0) {
        records.push({
          key: this.ctx.host,
          source: this.config.name,
          value: envelopeValue(t.prefix, `${t.key}:${t.lineStart}`, received, text, truncated, undefined, invalidUtf8),
          done: { file: t.target, end },
        });
        if (truncated) truncatedLines++;
      }
      t.lineStart = end;
      t.partial = [];
      t.partialLen = 0;
      t.skipping = false;
    };
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1 || nl >= n) break;
      const end = t.readPos + nl + 1;
      if (t.skipping) emit(Buffer.concat(t.partial, t.partialLen), true, end);
      else if (t.partialLen > 0) {
        const whole = Buffer.concat([...t.partial, buf.subarray(start, nl)]);
        emit(whole.subarray(0, Math.min(limit, whole.length)), whole.length > limit, end);
      } else if (nl - start > limit) emit(buf.subarray(start, start + limit), true, end);
      else emit(buf.subarray(start, nl), false, end);
      start = nl + 1;
    }
    if (start < n && !t.skipping) {
      const room = limit - t.partialLen;
      const rest = n - start;
      t.partial.push(Buffer.from(buf.subarray(start, start + Math.min(rest, room))));
      t.partialLen += Math.min(rest, room);
      if (rest > room) t.skipping = true;
    }
    t.readPos += n;
    if (records.length) {
      this.ctx.metrics.read(this.config.name, records.length, received);
      if (truncatedLines) this.ctx.metrics.truncated(this.config.name, truncatedLines);
      this.ctx.sink.offer(records, true);
    }
    return true;
  }
}

function headMatches(fd: number, cp: FileCheckpoint): boolean {
  return hashHead(fd, cp.headLen) === cp.headHash;
}

/** The file at `path` if it still has that identity, else the one with it in the same directory (rotated). */
function findByIdentity(path: string, dev: number, ino: number): { path: string; st: Stats } | null {
  const at = statSync(path, { throwIfNoEntry: false });
  if (at?.isFile() && at.dev === dev && at.ino === ino) return { path, st: at };
  const dir = dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isFile() && st.dev === dev && st.ino === ino) return { path: p, st };
  }
  return null;
}
