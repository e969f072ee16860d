import type { Knex } from 'knex';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { TiState } from '../core/state.ts';
import { dagRunsByIds } from '../db/models/dagRun.ts';
import { taskStatesOfRuns } from '../db/models/taskInstanceListing.ts';
import type { DagRunRow } from '../db/rows.ts';
import type { Executor } from '../executors/base.ts';
import { Scheduler } from './scheduler.ts';

export interface BackfillProgress {
  runs: Pick<DagRunRow, 'run_id' | 'state'>[];
  taskStates: { run_id: string; task_id: string; state: TiState }[];
}

/**
 * Airflow's BackfillJob: runs the given dag runs of one DAG to completion with
 * a scheduler loop of their own (`dags backfill`, and `dags test` with an
 * in-process executor), independent of any scheduler daemon: both may claim
 * the same task instances, and SKIP LOCKED claims make sure only one does.
 * Calls `onProgress` whenever states change.
 */
export async function runBackfillJob(options: {
  knex: Knex;
  config: ResolvedConfig;
  executor: Executor;
  logger: Logger;
  dagId: string;
  runIds: string[];
  ignorePause?: boolean;
  onProgress?: (progress: BackfillProgress) => void;
  pollMs?: number;
}): Promise<DagRunRow[]> {
  const { knex, dagId, runIds } = options;
  const scheduler = new Scheduler({
    knex,
    config: options.config,
    executor: options.executor,
    logger: options.logger,
    only: { dagIds: [dagId], runIdsIgnoringPause: options.ignorePause ? runIds : [] },
  });
  await scheduler.start();
  let last = '';
  try {
    for (;;) {
      const runs = await dagRunsByIds(knex, dagId, runIds);
      const taskStates = await taskStatesOfRuns(knex, dagId, runIds);
      const snapshot = JSON.stringify([runs.map((r) => r.state), taskStates]);
      if (snapshot !== last) {
        last = snapshot;
        options.onProgress?.({ runs, taskStates });
      }
      if (runs.every((r) => r.state === 'success' || r.state === 'failed')) return runs;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
    }
  } finally {
    await scheduler.stop();
  }
}
