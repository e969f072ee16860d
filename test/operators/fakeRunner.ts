/**
 * What the task runner does, in memory, for operator tests: a context built
 * from hand-made inputs, XComs in a Map, log lines in an array.
 */
import type { BaseOperator } from '../../core/baseOperator.ts';
import type { DAG } from '../../core/dag.ts';
import { buildTaskContext, type TaskContext, type TaskContextInput, type XComAccessors } from '../../core/taskContext.ts';
import { renderTemplateFields } from '../../core/templating.ts';

export const LOGICAL_DATE = new Date('2024-01-02T03:04:05Z');
export const RUN_ID = 'manual__2024-01-02T03:04:05+00:00';

/** XComs of one run, keyed by dag, task and key. */
export class MemoryXCom {
  readonly values = new Map<string, unknown>();

  set(dagId: string, taskId: string, key: string, value: unknown): void {
    this.values.set(`${dagId}/${taskId}/${key}`, value);
  }

  get(dagId: string, taskId: string, key = 'return_value'): unknown {
    return this.values.get(`${dagId}/${taskId}/${key}`);
  }

  /** The TaskContextInput accessors for one task instance. */
  accessorsFor(task: BaseOperator): XComAccessors {
    return {
      // Unmapped tasks only: every value is at map index -1.
      pull: async ({ dagId, taskIds, key, mapIndexes }) =>
        taskIds
          .map((taskId) => ({ taskId, mapIndex: -1, value: this.get(dagId, taskId, key) }))
          .filter((x) => x.value !== undefined && (mapIndexes?.includes(-1) ?? true)),
      push: async (key, value) => this.set(task.dag.dagId, task.taskId, key, value),
    };
  }
}

export interface FakeRun {
  context: TaskContext;
  /** Everything written to the task log. */
  lines: string[];
  xcom: MemoryXCom;
}

export function contextFor(
  task: BaseOperator,
  overrides: Partial<TaskContextInput> & { conf?: Record<string, unknown>; xcomStore?: MemoryXCom } = {},
): FakeRun {
  const { conf = {}, xcomStore = new MemoryXCom(), ...input } = overrides;
  const lines: string[] = [];
  const context = buildTaskContext({
    dag: task.dag,
    task,
    dagRun: {
      runId: RUN_ID,
      runType: 'manual',
      conf,
      logicalDate: LOGICAL_DATE,
      dataIntervalStart: new Date('2024-01-01T03:04:05Z'),
      dataIntervalEnd: LOGICAL_DATE,
    },
    tryNumber: 1,
    xcom: xcomStore.accessorsFor(task),
    log: (line) => lines.push(line),
    ...input,
  });
  return { context, lines, xcom: xcomStore };
}

/** Renders, executes, and stores a returned value as the 'return_value' XCom, like the runner. */
export async function runTask(run: FakeRun): Promise<unknown> {
  const rendered = await renderTemplateFields(run.context.task, run.context);
  const result = await run.context.task.execute(run.context, rendered);
  if (result !== undefined) await run.context.ti.xcomPush('return_value', result);
  return result;
}

/**
 * Runs every task of `dag` in topological order, skipping what tasksToSkip()
 * names (no trigger-rule evaluation: enough for the example DAGs).
 */
export async function runDag(dag: DAG, conf: Record<string, unknown> = {}): Promise<{ xcom: MemoryXCom; skipped: Set<string>; lines: Map<string, string[]> }> {
  const xcom = new MemoryXCom();
  const skipped = new Set<string>();
  const lines = new Map<string, string[]>();
  for (const id of dag.topologicalOrder()) {
    if (skipped.has(id)) continue;
    const run = contextFor(dag.getTask(id), { conf, xcomStore: xcom });
    lines.set(id, run.lines);
    const result = await runTask(run);
    for (const s of run.context.task.tasksToSkip(result) ?? []) skipped.add(s);
  }
  return { xcom, skipped, lines };
}
