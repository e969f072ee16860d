import type { SerializedTask } from './serialize.ts';

/**
 * Effective priority per task with Airflow's default weight rule
 * ("downstream"): a task's own priorityWeight plus those of every task
 * downstream of it, so the start of a long chain is queued before leaves.
 */
export function effectivePriorityWeights(tasks: readonly SerializedTask[]): Map<string, number> {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const result = new Map<string, number>();
  for (const task of tasks) {
    const seen = new Set<string>([task.taskId]);
    const stack = [...task.downstreamTaskIds];
    let total = task.priorityWeight;
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const downstream = byId.get(id);
      if (!downstream) continue;
      total += downstream.priorityWeight;
      stack.push(...downstream.downstreamTaskIds);
    }
    result.set(task.taskId, total);
  }
  return result;
}
