import type { CommandModule } from 'yargs';
import { Triggerer } from '../../triggerer/triggererJob.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { untilStopSignal } from '../untilStopSignal.ts';

interface TriggererArgs extends GlobalArgs {
  capacity?: number;
}

export const triggererCommand: CommandModule<GlobalArgs, TriggererArgs> = {
  command: 'triggerer',
  describe: 'Run the triggerer: hold the waits of deferred tasks and resume each task when its trigger fires',
  builder: (y) => y.option('capacity', { type: 'number', describe: 'Triggers run at once (default: triggerer.defaultCapacity)' }),
  handler: (args) =>
    withRuntime(args, async (runtime) => {
      const stopped = untilStopSignal(30_000);
      const database = await runtime.db();
      const triggerer = new Triggerer({
        knex: database.knex,
        config: runtime.config,
        logger: runtime.logger.child({ component: 'triggerer' }),
        capacity: args.capacity,
      });
      await triggerer.start();
      const signal = await stopped;
      runtime.logger.info(`received ${signal}; stopping (triggers are handed back)`, { component: 'triggerer' });
      await triggerer.stop();
    }),
};
