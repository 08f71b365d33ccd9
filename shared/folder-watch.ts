import { readdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';

/**
 * What tells one version of a file from another without reading it (modification time, size, inode),
 * or null when the file is gone. A rescan compares stamps to read again only the files that changed.
 */
export function fileStamp(file: string): string | null {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return null;
  }
}

/** One stamp for the files directly in `dir`: any change, addition or removal changes it ('' without the folder). */
export function filesStamp(dir: string): string {
  try {
    return readdirSync(dir)
      .sort()
      .map((f) => `${f}=${fileStamp(join(dir, f))}`)
      .join('|');
  } catch {
    return '';
  }
}

export interface FolderWatch {
  close(): void;
}

/**
 * Calls `onSettled` once the file-system events anywhere under `dir` have stopped for `debounceMs`: an
 * editor's save (write, rename, chmod) or a copied folder is one call, made after the last of them.
 * Throws what `fs.watch` throws (a platform that cannot watch a folder recursively).
 */
export function watchFolder(dir: string, debounceMs: number, onSettled: () => void): FolderWatch {
  let timer: NodeJS.Timeout | null = null;
  const watcher = watch(dir, { recursive: true }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onSettled();
    }, debounceMs);
  });
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
