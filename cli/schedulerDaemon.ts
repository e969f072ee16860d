import type { Database } from '../db/database.ts';
import { createExecutor } from '../executors/createExecutor.ts';
import { createDagCallbackRunner, createDagFileProcessor } from '../scheduler/dagProcessing/createDagFileProcessor.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { Runtime } from './runtime.ts';

/**
 * The scheduler as a daemon: DAG-file processing plus the scheduling loop
 * with the configured executor. A changed DAG wakes the loop at once.
 * Returns a function that drains and stops both.
 */
export async function startSchedulerDaemon(runtime: Runtime, database: Database): Promise<() => Promise<void>> {
  const { config, logger } = runtime;
  const processor = createDagFileProcessor(config, database.knex, logger);
  // Task processes attach to the embedded server themselves, so they follow it if a restart moves it.
  const executor = createExecutor(config, database.embedded ? null : database.url, logger);
  const callbacks = createDagCallbackRunner(config, database.knex, database.embedded ? null : database.url, logger);
  const scheduler = new Scheduler({
    knex: database.knex,
    config,
    executor,
    logger: logger.child({ component: 'scheduler' }),
    listenUrl: () => database.url,
    onDagRunFinished: (run) => callbacks.runFinished(run),
  });
  processor.on('processed', (outcome) => {
    if (outcome.changed.length > 0) scheduler.wake(true);
  });
  await processor.start();
  try {
    await scheduler.start();
  } catch (error) {
    await processor.stop();
    await callbacks.stop();
    throw error;
  }
  logger.info(`scheduler running with the ${executor.name}; dags folder ${config.core.dagsFolder}`, { component: 'scheduler' });
  return async () => {
    await processor.stop();
    await scheduler.stop();
    await callbacks.stop();
  };
}
