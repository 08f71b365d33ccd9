import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../console/auth/password.ts';
import { readUsers } from '../../console/auth/users-file.ts';
import { canhgac } from '../../test/support/cli.ts';

describe('canhgac users', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'canhgac-users-cli-')), 'users.json');
  const pw = 'a long enough passphrase';

  it('adds, lists, changes the password of and removes users in a 0600 file of scrypt hashes', async () => {
    expect(canhgac(['users', 'add', 'lan', '--role', 'responder', '--file', file], `${pw}\n`)).toMatchObject({ status: 0, stdout: 'added lan (responder)\n' });
    expect(canhgac(['users', 'add', 'minh', '--role', 'admin', '--file', file], `${pw}\n`).status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(pw);
    const [lan] = readUsers(file);
    expect(lan!.hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword(pw, lan!.hash)).toBe(true);
    expect(canhgac(['users', 'list', '--file', file]).stdout).toMatch(/^lan\tresponder\t.*\nminh\tadmin\t/);

    expect(canhgac(['users', 'passwd', 'lan', '--file', file], 'another long passphrase\n').status).toBe(0);
    const changed = readUsers(file).find((u) => u.username === 'lan')!;
    expect(await verifyPassword(pw, changed.hash)).toBe(false);
    expect(await verifyPassword('another long passphrase', changed.hash)).toBe(true);

    expect(canhgac(['users', 'remove', 'lan', '--file', file]).status).toBe(0);
    expect(readUsers(file).map((u) => u.username)).toEqual(['minh']);
  });

  it('refuses bad usage (2) and impossible requests (1) with one line on stderr', () => {
    const bad = (args: string[], input = `${pw}\n`) => canhgac(['users', ...args], input);
    expect(bad(['add', 'x', '--role', 'boss', '--file', file])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--role must be/) });
    expect(bad(['add', 'Bad Name', '--role', 'viewer', '--file', file])).toMatchObject({ status: 2, stderr: expect.stringMatching(/user name 'Bad Name'/) });
    expect(bad(['add', 'x', '--role', 'viewer'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--file/) });
    expect(bad(['fly', '--file', file]).status).toBe(2);
    expect(bad(['add', 'short', '--role', 'viewer', '--file', file], 'short\n')).toMatchObject({ status: 1, stderr: expect.stringMatching(/at least 12/) });
    expect(bad(['add', 'minh', '--role', 'viewer', '--file', file])).toMatchObject({ status: 1, stderr: expect.stringMatching(/already exists/) });
    expect(bad(['remove', 'ghost', '--file', file])).toMatchObject({ status: 1, stderr: expect.stringMatching(/no user ghost/) });
    const broken = join(mkdtempSync(join(tmpdir(), 'canhgac-users-cli-')), 'users.json');
    writeFileSync(broken, '{"version":1,"users":[{"username":"a"}]}');
    expect(bad(['list', '--file', broken])).toMatchObject({ status: 1, stderr: expect.stringMatching(/users\.0\.role/) });
  });
});
