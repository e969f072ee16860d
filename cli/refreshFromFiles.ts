import { createDagFileProcessor } from '../scheduler/dagProcessing/createDagFileProcessor.ts';
import type { Runtime } from './runtime.ts';

/**
 * Brings the database up to date with the dags folder before a command that
 * reads DAGs, as Airflow's CLI does by filling a DagBag, but through the
 * parser processes: the CLI never imports DAG files to list them.
 */
export async function refreshFromFiles(runtime: Runtime): Promise<void> {
  const { knex } = await runtime.db();
  const processor = createDagFileProcessor(runtime.config, knex, runtime.logger);
  try {
    await processor.processAll();
  } finally {
    await processor.stop();
  }
}
