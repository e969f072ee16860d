import { rootTaskGroup, type SerializedDag, type SerializedTaskGroup } from '../core/serialize.ts';

/**
 * A DAG as an indented tree from its roots, the way `airflow dags show` prints
 * it: a task reached by two paths is printed under both.
 */
export function dagAsTree(dag: SerializedDag): string {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const lines: string[] = [];
  const visit = (taskId: string, depth: number) => {
    const task = byId.get(taskId)!;
    lines.push(`${'    '.repeat(depth)}<Task(${task.operator}): ${task.taskId}>`);
    for (const child of task.downstreamTaskIds) visit(child, depth + 1);
  };
  for (const task of dag.tasks.filter((t) => t.upstreamTaskIds.length === 0)) visit(task.taskId, 0);
  return `${lines.join('\n')}\n`;
}

/**
 * The DAG's task groups as an indented tree, for `airflow tasks list --tree`: each group
 * (with its tooltip) above its tasks and nested groups, a group placed where its first task
 * comes in the DAG's topological order. A DAG without groups prints its tasks in that order.
 * Mapped tasks and groups are marked as Airflow prints them: `<Mapped(Op): id>`, `<MappedTaskGroup: id>`.
 */
export function taskGroupTree(dag: SerializedDag): string {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const order = new Map(dag.tasks.map((t, i) => [t.taskId, i]));
  const firstTask = (group: SerializedTaskGroup): number => Math.min(...group.taskIds.map((id) => order.get(id) ?? Infinity), ...group.groups.map(firstTask));
  const lines: string[] = [];
  const visit = (group: SerializedTaskGroup, depth: number) => {
    const items = [
      ...group.taskIds.map((id) => ({ at: order.get(id) ?? Infinity, task: id })),
      ...group.groups.map((g) => ({ at: firstTask(g), group: g })),
    ].sort((a, b) => a.at - b.at);
    for (const item of items) {
      const indent = '    '.repeat(depth);
      if ('task' in item) {
        const task = byId.get(item.task);
        lines.push(`${indent}<${task?.expandInput ? 'Mapped' : 'Task'}(${task?.operator ?? '?'}): ${item.task}>`);
      } else {
        lines.push(
          `${indent}<${item.group.expandInput ? 'MappedTaskGroup' : 'TaskGroup'}: ${item.group.groupId}>${item.group.tooltip ? ` ${item.group.tooltip.replace(/\s*\n\s*/g, ' ')}` : ''}`,
        );
        visit(item.group, depth + 1);
      }
    }
  };
  visit(rootTaskGroup(dag), 0);
  return `${lines.join('\n')}\n`;
}

/** A DAG in Graphviz DOT, for `airflow dags show --dot | dot -Tsvg`. */
export function dagAsDot(dag: SerializedDag): string {
  const quote = (s: string) => JSON.stringify(s);
  const lines = [
    `digraph ${quote(dag.dagId)} {`,
    '  graph [rankdir=LR, labelloc=t, label=' + quote(dag.dagId) + '];',
    '  node [shape=rect, style="rounded,filled", fillcolor="#f0f0f0", fontname="Helvetica"];',
  ];
  for (const task of dag.tasks) lines.push(`  ${quote(task.taskId)} [tooltip=${quote(task.operator)}];`);
  for (const task of dag.tasks) for (const child of task.downstreamTaskIds) lines.push(`  ${quote(task.taskId)} -> ${quote(child)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
