import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** The lock file of a data folder; its owner's pid and start time are in LOCK_FILE.owner. */
export const LOCK_FILE = 'canhgac.lock';

export class DataFolderLockedError extends Error {
  override name = 'DataFolderLockedError';
}

export interface DataFolderLock {
  file: string;
  release(): void;
}

/**
 * Makes this process the one owner of a data folder until release() or its exit, however it exits:
 * the lock is SQLite's exclusive lock on LOCK_FILE (an fcntl lock the kernel drops with the process), so
 * a kill -9 or a power cut never leaves a stale lock behind, and a second owner is refused at once.
 */
export function lockDataFolder(dir: string): DataFolderLock {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new Error(`the data folder ${dir} cannot be created: ${(err as Error).message}`);
  }
  const file = join(dir, LOCK_FILE);
  const ownerFile = `${file}.owner`;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { timeout: 0 });
    // The first write in exclusive locking mode takes the lock and keeps it until the connection closes.
    db.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); COMMIT');
  } catch (err) {
    db?.close();
    if (/locked|busy/i.test((err as Error).message))
      throw new DataFolderLockedError(
        `the data folder ${dir} is in use by another canhgac${ownerOf(ownerFile)}: its lock ${file} is held; stop that instance or give another --data folder`,
      );
    throw notWritable(dir, err);
  }
  try {
    writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }), { mode: 0o600 });
  } catch (err) {
    db.close();
    throw notWritable(dir, err);
  }
  let held = true;
  return {
    file,
    release() {
      if (!held) return;
      held = false;
      rmSync(ownerFile, { force: true });
      db.close();
    },
  };
}

/** The owner note, a courtesy for the message: the lock alone decides. */
function ownerOf(ownerFile: string): string {
  try {
    const o = JSON.parse(readFileSync(ownerFile, 'utf8')) as { pid: number; host: string; since: string };
    return ` (pid ${o.pid} on ${o.host}, since ${o.since})`;
  } catch {
    return '';
  }
}

function notWritable(dir: string, err: unknown): Error {
  return new Error(
    `the data folder ${dir} is not writable (${(err as Error).message}): canhgac keeps its users, incidents and checkpoints there; give --data a folder this user can write`,
  );
}
