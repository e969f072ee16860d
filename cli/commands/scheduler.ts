import type { CommandModule } from 'yargs';
import { createDagFileProcessor } from '../../scheduler/dagProcessing/createDagFileProcessor.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { untilStopSignal } from '../untilStopSignal.ts';

export const schedulerCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'scheduler',
  describe: 'Run the scheduler: watch the dags folder and keep the database in step with it',
  handler: (args) =>
    withRuntime(args, async (runtime) => {
      const { knex } = await runtime.db();
      const processor = createDagFileProcessor(runtime.config, knex, runtime.logger);
      const stopped = untilStopSignal();
      await processor.start();
      runtime.logger.info(`scheduler started; watching ${runtime.config.core.dagsFolder}`, { component: 'scheduler' });
      const signal = await stopped;
      runtime.logger.info(`received ${signal}; stopping`, { component: 'scheduler' });
      await processor.stop();
    }),
};
