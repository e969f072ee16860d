import type { Argv } from 'yargs';
import { createUser, deleteUser, listUsers, type Role, ROLES, setUserRole } from '../../db/models/user.ts';
import { outputOption, printRows } from '../output.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

/** `airflow users create|list|delete|add-role`, with Airflow's flag names. */
export function userCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs
    .command(
      'create',
      'Create a user of the web UI and REST API',
      (y) =>
        y
          .option('username', { alias: 'u', type: 'string', demandOption: true })
          .option('password', { alias: 'p', type: 'string', describe: 'Default: read from stdin' })
          .option('role', { alias: 'r', choices: ROLES, demandOption: true })
          .option('email', { alias: 'e', type: 'string' })
          .option('firstname', { alias: 'f', type: 'string' })
          .option('lastname', { alias: 'l', type: 'string' }),
      (args) =>
        withRuntime(args, async ({ db }) => {
          const password = args.password ?? (await readStdin()).trim();
          const user = await createUser((await db()).knex, {
            username: args.username,
            password,
            role: args.role as Role,
            email: args.email,
            firstName: args.firstname,
            lastName: args.lastname,
          });
          console.log(`User ${user.username} created with role ${user.role}`);
        }),
    )
    .command(
      'list',
      'List users',
      (y) => y.option('output', outputOption),
      (args) =>
        withRuntime(args, async ({ db }) => {
          const users = await listUsers((await db()).knex);
          printRows(users, args.output);
        }),
    )
    .command(
      'delete',
      'Delete a user',
      (y) => y.option('username', { alias: 'u', type: 'string', demandOption: true }),
      (args) =>
        withRuntime(args, async ({ db }) => {
          if (!(await deleteUser((await db()).knex, args.username))) throw new Error(`No user '${args.username}'`);
          console.log(`User ${args.username} deleted`);
        }),
    )
    .command(
      'add-role',
      "Set a user's role (one role per user here, so it replaces the current one); ends the user's sessions",
      (y) => y.option('username', { alias: 'u', type: 'string', demandOption: true }).option('role', { alias: 'r', choices: ROLES, demandOption: true }),
      (args) =>
        withRuntime(args, async ({ db }) => {
          const user = await setUserRole((await db()).knex, args.username, args.role as Role);
          console.log(`User ${user.username} now has the role ${user.role}`);
        }),
    )
    .demandCommand(1, 'Choose a users command: create, list, delete or add-role');
}

function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  });
}
