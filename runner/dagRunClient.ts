import type { Knex } from 'knex';
import type { DagRunClient } from '../core/dagRunClient.ts';
import { findDagRun, findDagRunAt } from '../db/models/dagRun.ts';
import { dagRunStateReader } from '../db/models/dagRunStates.ts';
import { getSerializedDag, getSerializedDagCached } from '../db/models/serializedDag.ts';
import { clearTaskInstances } from '../services/clearTaskInstances.ts';
import { triggerDagRun } from '../services/triggerDagRun.ts';

/**
 * The context's `dagRuns` (core/dagRunClient.ts) for a task in this worker: triggering and resetting go
 * through the same services as the CLI, REST and UI (services/triggerDagRun.ts, clearTaskInstances.ts),
 * so a run an operator creates is checked, locked and woken for like any other.
 */
export function dagRunClient(knex: Knex, now: () => Date): DagRunClient {
  return {
    ...dagRunStateReader(knex),
    async trigger(request) {
      const run = await triggerDagRun(knex, { ...request, now: now() });
      return { runId: run.run_id, logicalDate: run.logical_date };
    },
    async reset(dagId, runId, logicalDate) {
      const run = (await findDagRun(knex, dagId, runId)) ?? (await findDagRunAt(knex, dagId, logicalDate));
      if (!run) throw new Error(`DAG '${dagId}' has no run '${runId}' nor one at ${logicalDate.toISOString()} to reset`);
      const dag = await getSerializedDag(knex, dagId);
      await clearTaskInstances(knex, { dag, runIds: [run.run_id], taskIds: dag.tasks.map((t) => t.taskId), now: now() });
      return { runId: run.run_id, logicalDate: run.logical_date };
    },
    async tasksOf(dagId) {
      const dag = await getSerializedDagCached(knex, dagId);
      return dag ? dag.tasks.map((t) => ({ taskId: t.taskId, ...(t.taskGroupId ? { taskGroupId: t.taskGroupId } : {}) })) : null;
    },
  };
}
