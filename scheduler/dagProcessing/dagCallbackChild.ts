import { pathToFileURL } from 'node:url';
import { resolveConfig } from '../../config/resolveConfig.ts';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { isDag, type DAG } from '../../core/dag.ts';
import { exitWhenParentDies, refuseSignalsToParent } from '../../core/parentGuard.ts';
import { maskOnRead, secretsMasker } from '../../core/secretsMasker.ts';
import { buildTaskContext } from '../../core/taskContext.ts';
import { openDatabase } from '../../db/database.ts';
import { loadStoredConfigObjects, openConfigObjects, storedSecrets } from '../../db/metastoreBackend.ts';
import { dagRunInfo, getDagRun } from '../../db/models/dagRun.ts';
import { getSerializedDagCached } from '../../db/models/serializedDag.ts';
import { lastEndedTaskInstance } from '../../db/models/taskInstanceListing.ts';
import { xcomsOfTasks } from '../../db/models/xcom.ts';
import { dagCallbackLogPath, TaskLog } from '../../logging/fileTaskHandler.ts';
import { createLogger } from '../../logging/winstonLogger.ts';

/**
 * A DAG-callback process (started by DagCallbackRunner through bin/run-ts.js, one per finished run): imports
 * the DAG file, builds the context of the run's last task instance (the last failed one for a failure, as
 * Airflow's DagRun.get_last_ti), adds `reason`, and runs the DAG's onSuccessCallback or onFailureCallback.
 * Its lines go to the run's dag_callbacks.log, through the secrets masker. A callback that throws is logged;
 * the run's state is already recorded and stays as it is. Exit code 0 unless the process itself failed.
 */
export interface DagCallbackRequest {
  dagId: string;
  runId: string;
  state: 'success' | 'failed';
  reason: string;
}

refuseSignalsToParent(); // a DAG file must not be able to stop the scheduler (ADR 0012)
exitWhenParentDies();

const request = JSON.parse(process.argv.at(-1) ?? '{}') as DagCallbackRequest; // bin/run-ts.js passes it last
const config = await resolveConfig();
const logger = createLogger(config.logging.level, { component: 'dag-callback', dagId: request.dagId, runId: request.runId });
const db = await openDatabase(config, logger, { poolMax: 2 });
const log = new TaskLog(dagCallbackLogPath(config.logging.baseLogFolder, request));
try {
  await runDagCallback(request);
} catch (error) {
  // Bookkeeping failed (the file, the database): logged where the callback's lines go, and the process fails.
  log.error(`Could not run the ${request.state} callback: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  log.close();
  await db.close().catch(() => {});
}

async function runDagCallback({ dagId, runId, state, reason }: DagCallbackRequest): Promise<void> {
  const { knex } = db;
  const [run, serialized] = await Promise.all([getDagRun(knex, dagId, runId), getSerializedDagCached(knex, dagId)]);
  if (!run || !serialized) throw new Error(`DAG '${dagId}' or its run '${runId}' no longer exists`);
  const dag = await importDag(serialized.fileloc, dagId);
  const callback = state === 'success' ? dag.onSuccessCallback : dag.onFailureCallback;
  if (!callback) return log.info(`DAG '${dagId}' has no ${state} callback any more`);
  const ti =
    (state === 'failed' ? await lastEndedTaskInstance(knex, dagId, runId, ['failed']) : undefined) ?? (await lastEndedTaskInstance(knex, dagId, runId));
  const task = ti && dag.hasTask(ti.task_id) ? dag.getTask(ti.task_id) : dag.tasks[0];
  if (!task) return log.error(`DAG '${dagId}' has no task to build the callback's context from`);
  const fernet = () => fernetFor(config, logger);
  const stored = await loadStoredConfigObjects(knex);
  for (const { value, name } of storedSecrets(stored, fernet)) secretsMasker.add(value, name);
  const { variables, connections } = openConfigObjects(stored, fernet, maskOnRead(secretsMasker));
  const context = buildTaskContext({
    dag,
    task,
    dagRun: dagRunInfo(run),
    tryNumber: ti?.try_number ?? 0,
    mapIndex: ti?.map_index ?? -1,
    xcom: {
      pull: ({ taskIds, key, mapIndexes }) => xcomsOfTasks(knex, run.id, taskIds, key, mapIndexes),
      push: () => Promise.reject(new Error('a DAG-level callback cannot push XComs')),
    },
    variables,
    connections,
    log: (line) => log.raw(line),
  });
  context.reason = reason;
  log.info(`Running the ${state} callback of DAG '${dagId}' for run '${runId}' (reason: ${reason}) in DAG callback process ${process.pid}`);
  try {
    await callback(context);
    log.info(`The ${state} callback finished`);
  } catch (error) {
    // As a task's callbacks: reported, never fatal; the run keeps its state.
    log.error(`The ${state} callback failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function importDag(fileloc: string, dagId: string): Promise<DAG> {
  // @ts-expect-error -- plain JS module without types: one copy of airflow-ts for CommonJS DAG files too.
  await (await import('../../bin/resolve-airflow-ts.js')).shareAirflowTs();
  const mod = (await import(pathToFileURL(fileloc).href)) as Record<string, unknown>;
  const dag = Object.values(mod).find((value): value is DAG => isDag(value) && value.dagId === dagId);
  if (!dag) throw new Error(`${fileloc} no longer exports DAG '${dagId}'`);
  return dag;
}
