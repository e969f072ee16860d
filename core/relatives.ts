import type { SerializedTask } from './serialize.ts';

type Edges = Pick<SerializedTask, 'taskId' | 'upstreamTaskIds' | 'downstreamTaskIds'>;

/**
 * The named tasks and, when asked, every task upstream and/or downstream of
 * them (Airflow's include_upstream / include_downstream), as clear and mark
 * choose their task instances. Each direction is walked from the named tasks
 * on its own, so a task reached one way never stops the walk the other way.
 */
export function relativeTaskIds(tasks: readonly Edges[], taskIds: readonly string[], options: { upstream?: boolean; downstream?: boolean }): Set<string> {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const reach = (direction: 'upstreamTaskIds' | 'downstreamTaskIds') => {
    const seen = new Set<string>();
    const stack = [...taskIds];
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      for (const next of byId.get(id)?.[direction] ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return seen;
  };
  return new Set([...taskIds, ...(options.upstream ? reach('upstreamTaskIds') : []), ...(options.downstream ? reach('downstreamTaskIds') : [])]);
}
