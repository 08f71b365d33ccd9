import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../console/auth/password.ts';
import { readUsers, writeUsers } from '../../console/auth/users-file.ts';
import { MIN_PASSWORD } from '../commands/users.ts';

export const FIRST_ADMIN = 'admin';

/** Refuses a CANHGAC_ADMIN_PASSWORD that `canhgac users` would refuse too. */
export function checkAdminPassword(envPassword: string | undefined): void {
  if (envPassword !== undefined && envPassword.length < MIN_PASSWORD) throw new Error(`CANHGAC_ADMIN_PASSWORD needs at least ${MIN_PASSWORD} characters`);
}

/** What the first run did about the console's users; `password` is set only when it was generated here. */
export type AdminSetup = { created: false } | { created: true; username: string; password: string | null };

/**
 * The first run creates one admin in the users file, with CANHGAC_ADMIN_PASSWORD or a random password
 * that the caller prints once (only its scrypt hash is stored). A users file with anyone in it is left alone.
 */
export async function ensureFirstAdmin(usersFile: string, envPassword: string | undefined): Promise<AdminSetup> {
  checkAdminPassword(envPassword);
  if (readUsers(usersFile).length) return { created: false };
  const password = envPassword ?? randomBytes(12).toString('base64url');
  writeUsers(usersFile, [{ username: FIRST_ADMIN, role: 'admin', hash: await hashPassword(password), created_at: new Date().toISOString() }]);
  return { created: true, username: FIRST_ADMIN, password: envPassword === undefined ? password : null };
}
