import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/** Where reading a file resumes: its identity (device + inode + a hash of its first bytes) and the safe offset. */
export const FileCheckpointSchema = z.object({
  /** Stable part of every envelope id from this file (path, identity and truncation generation, hashed). */
  key: z.string().min(1),
  path: z.string().min(1),
  dev: z.number(),
  ino: z.number(),
  headLen: z.number().int().nonnegative(),
  headHash: z.string(),
  offset: z.number().int().nonnegative(),
  generation: z.number().int().nonnegative(),
  updated: z.string(),
});

export type FileCheckpoint = z.infer<typeof FileCheckpointSchema>;

/** Where reading an event log channel resumes (winlog sources): the last record acknowledged by the sink. */
export const ChannelBookmarkSchema = z.object({
  recordId: z.number().int().nonnegative(),
  /** Counts the times the channel's record ids restarted (a cleared log), so that envelope ids stay unique. */
  generation: z.number().int().nonnegative(),
  updated: z.string(),
});

export type ChannelBookmark = z.infer<typeof ChannelBookmarkSchema>;

const FileSchema = z.object({
  v: z.literal(1),
  files: z.record(z.string(), FileCheckpointSchema),
  channels: z.record(z.string(), ChannelBookmarkSchema).default({}),
});

export function identityOf(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

/**
 * One JSON file, replaced atomically (write + rename). Changes are saved at the latest on the next
 * event-loop turn, and at once by `flush()`, which the sink calls after each acknowledgement.
 */
export class CheckpointStore {
  private readonly entries = new Map<string, FileCheckpoint>();
  private readonly bookmarks = new Map<string, ChannelBookmark>();
  private scheduled = false;

  constructor(
    readonly file: string,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    let parsed;
    try {
      parsed = FileSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) throw new Error(`${file}: not a collector checkpoint file (move it away to start over)`);
    for (const [id, cp] of Object.entries(parsed.data.files)) this.entries.set(id, cp);
    for (const [channel, b] of Object.entries(parsed.data.channels)) this.bookmarks.set(channel, b);
  }

  bookmark(channel: string): ChannelBookmark | undefined {
    return this.bookmarks.get(channel);
  }

  setBookmark(channel: string, b: ChannelBookmark): void {
    this.bookmarks.set(channel, b);
    this.schedule();
  }

  get(id: string): FileCheckpoint | undefined {
    return this.entries.get(id);
  }

  all(): [string, FileCheckpoint][] {
    return [...this.entries];
  }

  set(id: string, cp: FileCheckpoint): void {
    this.entries.set(id, cp);
    this.schedule();
  }

  delete(id: string): void {
    if (this.entries.delete(id)) this.schedule();
  }

  save(): void {
    this.scheduled = false;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ v: 1, files: Object.fromEntries(this.entries), channels: Object.fromEntries(this.bookmarks) }));
    renameSync(tmp, this.file);
  }

  /** Saves now if anything changed since the last save (a failure is reported, not thrown). */
  flush(): void {
    if (!this.scheduled) return;
    try {
      this.save();
    } catch (err) {
      this.onError(err as Error);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A full or read-only disk must not stop the collector; the next save tries again.
    setImmediate(() => this.flush());
  }
}
