import type { SerializedDag } from '../core/serialize.ts';

/**
 * A DAG as an indented tree from its roots, the way `airflow tasks list --tree`
 * prints it: a task reached by two paths is printed under both.
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
