import type { CommandModule } from 'yargs';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { rotateFernetKey } from '../../db/rotateFernetKey.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

/** Airflow's `airflow rotate-fernet-key`. */
export const rotateFernetKeyCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'rotate-fernet-key',
  describe:
    'Re-encrypt every connection password and extra and every variable with the first key of core.fernet_key (and encrypt rows stored before encryption). ' +
    'To rotate: set core.fernet_key to "new,old", run this, then drop the old key',
  handler: (args) =>
    withRuntime(args, async ({ db, config, logger }) => {
      const { knex } = await db();
      const done = await rotateFernetKey(knex, fernetFor(config, logger));
      console.log(`Re-encrypted ${done.variables} variable(s) and ${done.connections} connection(s) with the first Fernet key.`);
    }),
};
