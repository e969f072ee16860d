/**
 * The DAG-state triggers (Airflow's airflow.triggers.external_task): WorkflowTrigger waits for another DAG's
 * tasks (or whole runs) at some logical dates to reach allowed, failed or skipped states (deferrable
 * ExternalTaskSensor); DagStateTrigger waits for runs to reach one of some states (TriggerDagRunOperator's
 * deferrable wait). Both only read states, through the triggerer's `context.dagRuns`, every poll interval.
 */
import type { DagRunClient } from '../../core/dagRunClient.ts';
import { BaseTrigger, registerTrigger, TriggerEvent, type TriggerContext } from '../../core/trigger.ts';
import { sleep } from './temporalTrigger.ts';

type WorkflowKwargs = {
  externalDagId: string;
  /** null: whole runs. */
  externalTaskIds: string[] | null;
  /** ISO dates. */
  logicalDates: string[];
  allowedStates: string[];
  failedStates: string[];
  skippedStates: string[];
  pokeIntervalMs: number;
};

export class WorkflowTrigger extends BaseTrigger<WorkflowKwargs> {
  static override readonly classpath = 'airflow.triggers.external_task.WorkflowTrigger';

  /** The event: `{ status: 'success' | 'failed' | 'skipped', message }`. */
  async run(context: TriggerContext): Promise<TriggerEvent> {
    const k = this.kwargs;
    const dates = k.logicalDates.map((d) => new Date(d));
    for (;;) {
      const units = await stateUnits(context.dagRuns, k.externalDagId, k.externalTaskIds, dates);
      const failed = units.filter((u) => u.states.some((s) => k.failedStates.includes(String(s))));
      if (failed.length)
        return new TriggerEvent({ status: 'failed', message: `${failed.map((u) => u.name).join(', ')} in a failed state (${k.failedStates.join(', ')})` });
      const all = (states: string[]) => units.every((u) => u.states.length > 0 && u.states.every((s) => states.includes(String(s))));
      if (k.skippedStates.length && all(k.skippedStates))
        return new TriggerEvent({ status: 'skipped', message: `in a skipped state (${k.skippedStates.join(', ')})` });
      if (all(k.allowedStates)) return new TriggerEvent({ status: 'success', message: `in an allowed state (${k.allowedStates.join(', ')})` });
      await sleep(k.pokeIntervalMs, context.signal);
    }
  }
}

export class DagStateTrigger extends BaseTrigger<{ dagId: string; runIds: string[]; states: string[]; pollIntervalMs: number }> {
  static override readonly classpath = 'airflow.triggers.external_task.DagStateTrigger';

  /** The event: `{ dagId, states: { runId: state } }` once every run is in one of `states`. */
  async run(context: TriggerContext): Promise<TriggerEvent> {
    const { dagId, runIds, states, pollIntervalMs } = this.kwargs;
    for (;;) {
      const found = await Promise.all(runIds.map(async (runId) => [runId, await context.dagRuns.runState(dagId, runId)] as const));
      if (found.every(([, state]) => state !== null && states.includes(state)))
        return new TriggerEvent({ dagId, states: Object.fromEntries(found) as Record<string, string> });
      await sleep(pollIntervalMs, context.signal);
    }
  }
}

/** What must reach a state: each task at each date (all its instances), or each run. Missing ones have no states. */
export async function stateUnits(
  client: Pick<DagRunClient, 'runStatesAt' | 'taskStatesAt'>,
  dagId: string,
  taskIds: string[] | null,
  dates: Date[],
): Promise<{ name: string; states: (string | null)[] }[]> {
  if (taskIds === null) {
    const runs = await client.runStatesAt(dagId, dates);
    return dates.map((d) => ({ name: d.toISOString(), states: runs.filter((r) => r.logicalDate.getTime() === d.getTime()).map((r) => r.state) }));
  }
  const rows = await client.taskStatesAt(dagId, taskIds, dates);
  return dates.flatMap((d) =>
    taskIds.map((taskId) => ({
      name: `${taskId} at ${d.toISOString()}`,
      states: rows.filter((r) => r.taskId === taskId && r.logicalDate.getTime() === d.getTime()).map((r) => r.state),
    })),
  );
}

registerTrigger(WorkflowTrigger);
registerTrigger(DagStateTrigger);
