import type { CommandModule } from 'yargs';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { startSchedulerDaemon } from '../schedulerDaemon.ts';
import { untilStopSignal } from '../untilStopSignal.ts';

export const schedulerCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'scheduler',
  describe: 'Run the scheduler: parse the dags folder, create dag runs and run their tasks with the configured executor',
  handler: (args) =>
    withRuntime(args, async (runtime) => {
      const stopped = untilStopSignal(60_000);
      const stop = await startSchedulerDaemon(runtime, await runtime.db());
      const signal = await stopped;
      runtime.logger.info(`received ${signal}; stopping (running tasks may finish)`, { component: 'scheduler' });
      await stop();
    }),
};
