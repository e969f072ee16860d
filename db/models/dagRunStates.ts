import type { Knex } from 'knex';
import type { DagRunClient } from '../../core/dagRunClient.ts';
import { findDagRun, runStatesAt } from './dagRun.ts';
import { taskStatesAt } from './taskInstanceListing.ts';

/** The read-only part of a DagRunClient: run and task states, for the task runner's client and the triggerer's DAG-state triggers. */
export type DagRunStateReader = Pick<DagRunClient, 'runState' | 'runStatesAt' | 'taskStatesAt'>;

export function dagRunStateReader(knex: Knex): DagRunStateReader {
  return {
    async runState(dagId, runId) {
      return (await findDagRun(knex, dagId, runId))?.state ?? null;
    },
    async runStatesAt(dagId, logicalDates) {
      return (await runStatesAt(knex, dagId, logicalDates)).map((r) => ({ logicalDate: r.logical_date, state: r.state }));
    },
    async taskStatesAt(dagId, taskIds, logicalDates) {
      const rows = await taskStatesAt(knex, dagId, taskIds, logicalDates);
      return rows.map((r) => ({ logicalDate: r.logical_date, taskId: r.task_id, mapIndex: r.map_index, state: r.state }));
    },
  };
}
