import { createInterface } from 'node:readline';
import { hashPassword } from '../../console/auth/password.ts';
import { readUsers, Role, Username, UsersFileError, writeUsers } from '../../console/auth/users-file.ts';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';

export const MIN_PASSWORD = 12;

/** The password from stdin (one line), so that it never shows in the process list or shell history. */
async function readPassword(): Promise<string> {
  if (process.env.CANHGAC_PASSWORD !== undefined) return process.env.CANHGAC_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

async function newHash(): Promise<string> {
  const password = await readPassword();
  if (password.length < MIN_PASSWORD) throw new CommandError(`the password needs at least ${MIN_PASSWORD} characters`);
  return hashPassword(password);
}

export const command: Command = {
  name: 'users',
  summary: 'console users: add, passwd, remove, list (the users file, scrypt hashes)',
  usage: `Usage: canhgac users add NAME --role viewer|responder|admin --file FILE
       canhgac users passwd NAME --file FILE
       canhgac users remove NAME --file FILE
       canhgac users list --file FILE

The password is read from stdin (one line) or CANHGAC_PASSWORD; at least ${MIN_PASSWORD} characters.
Roles: viewer reads, responder also acts on incidents, admin also sees rules and metrics.
A running console sees changes at once: a removed user, or one whose password changed, loses every
session (re-adding the same name does not bring them back); a new role acts on the next request.

  --file FILE   the users file (the console's console.usersFile); created by the first add
  --role ROLE   for add`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { file: { type: 'string' }, role: { type: 'string' } });
    const [sub, name, ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (!values.file) throw new UsageError('missing --file FILE');
    const file = values.file;
    const needName = () => {
      if (!name) throw new UsageError(`missing user name for ${sub}`);
      const ok = Username.safeParse(name);
      if (!ok.success) throw new UsageError(`user name '${name}': ${ok.error.issues[0]!.message}`);
      return name;
    };
    let users;
    try {
      users = readUsers(file);
    } catch (err) {
      if (err instanceof UsersFileError) throw new CommandError(err.message);
      throw err;
    }
    switch (sub) {
      case 'add': {
        const username = needName();
        const role = Role.safeParse(values.role);
        if (!role.success) throw new UsageError('--role must be viewer, responder or admin');
        if (users.some((u) => u.username === username)) throw new CommandError(`${file}: user ${username} already exists (use passwd)`);
        users.push({ username, role: role.data, hash: await newHash(), created_at: new Date().toISOString() });
        writeUsers(file, users);
        process.stdout.write(`added ${username} (${role.data})\n`);
        return 0;
      }
      case 'passwd': {
        const username = needName();
        const user = users.find((u) => u.username === username);
        if (!user) throw new CommandError(`${file}: no user ${username}`);
        user.hash = await newHash();
        writeUsers(file, users);
        process.stdout.write(`password of ${username} changed\n`);
        return 0;
      }
      case 'remove': {
        const username = needName();
        if (!users.some((u) => u.username === username)) throw new CommandError(`${file}: no user ${username}`);
        writeUsers(
          file,
          users.filter((u) => u.username !== username),
        );
        process.stdout.write(`removed ${username}\n`);
        return 0;
      }
      case 'list':
        for (const u of users) process.stdout.write(`${u.username}\t${u.role}\t${u.created_at}\n`);
        return 0;
      case undefined:
        throw new UsageError('missing subcommand: add, passwd, remove or list');
      default:
        throw new UsageError(`unknown subcommand '${sub}': add, passwd, remove or list`);
    }
  },
};
