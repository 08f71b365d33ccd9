import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

export const Role = z.enum(['viewer', 'responder', 'admin']);
export type Role = z.infer<typeof Role>;

const ROLE_RANK: Record<Role, number> = { viewer: 0, responder: 1, admin: 2 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

export const Username = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, . _ - (at most 64)');

export const UserSchema = z
  .object({
    username: Username,
    role: Role,
    hash: z.string().startsWith('scrypt$'),
    created_at: z.iso.datetime({ offset: true }),
  })
  .strict();
export type User = z.infer<typeof UserSchema>;

/**
 * A user's credential version: it changes with the password (a fresh salt every time) and with a
 * removal and re-add under the same name (a new creation time), which is what ends the old sessions.
 */
export function credentialOf(user: User): string {
  return createHash('sha256').update(`${user.created_at}\n${user.hash}`).digest('base64url').slice(0, 22);
}

const UsersFileSchema = z.object({ version: z.literal(1), users: z.array(UserSchema) }).strict();

export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/** Reads the users file; a missing file is an empty one (the first `users add` creates it). */
export function readUsers(file: string): User[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsersFileError(`${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsersFileError(`${file}: not JSON: ${(err as Error).message}`);
  }
  const parsed = UsersFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsersFileError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.users;
}

/** Replaces the file in one rename, readable by its owner only: a crash never leaves half a file. */
export function writeUsers(file: string, users: User[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, users }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The users as the file says now: re-read when it changes, so that `users remove` takes effect at once. */
export class UsersDirectory {
  private cached: { mtimeMs: number; size: number; users: Map<string, User> } | null = null;
  constructor(readonly file: string) {}

  get(username: string): User | undefined {
    return this.current().get(username);
  }

  /** Every user, by name: responders pick an assignee from these. */
  list(): User[] {
    return [...this.current().values()].sort((a, b) => a.username.localeCompare(b.username));
  }

  private current(): Map<string, User> {
    let stat: { mtimeMs: number; size: number };
    try {
      stat = statSync(this.file);
    } catch {
      stat = { mtimeMs: 0, size: 0 };
    }
    if (!this.cached || this.cached.mtimeMs !== stat.mtimeMs || this.cached.size !== stat.size) {
      this.cached = { ...stat, users: new Map(readUsers(this.file).map((u) => [u.username, u])) };
    }
    return this.cached.users;
  }
}
