/**
 * Task groups: related tasks sit in named, nested groups, which the UI can
 * fold into one box each. A group's id prefixes the ids of its tasks
 * ('transform.clean.dedupe'), its defaultArgs apply to its tasks, and linking
 * a group links its first tasks (roots) or its last ones (leaves).
 *
 *   start -> extract[ orders, customers ] -> transform[ clean[ dedupe -> validate ] -> join ] -> load
 */
import { DAG, EmptyOperator, getCurrentContext, task, TaskGroup } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_task_groups',
  description: 'Extract, clean and join orders in nested task groups',
  schedule: null, // manual runs only
  tags: ['example'],
  defaultArgs: { owner: 'data-eng', retries: 0 },
});

interface Order {
  id: number;
  customer: string;
  amount: number;
}

const start = new EmptyOperator({ dag, taskId: 'start' });

// Sources are flaky: every task of this group retries twice unless it says otherwise.
const extract = new TaskGroup({ dag, groupId: 'extract', tooltip: 'Pull orders and customers', defaultArgs: { retries: 2, retryDelay: { seconds: 5 } } });

const orders = task({ dag, taskGroup: extract }, function orders(): Order[] {
  return [
    { id: 1, customer: 'a', amount: 9.5 },
    { id: 1, customer: 'a', amount: 9.5 }, // delivered twice by the source
    { id: 2, customer: 'b', amount: 20 },
  ];
})();

const customers = task({ dag, taskGroup: extract }, function customers(): Record<string, string> {
  return { a: 'Ada', b: 'Grace' };
})();

const transform = new TaskGroup({ dag, groupId: 'transform', tooltip: 'Clean, then join' });
const clean = new TaskGroup({ dag, parentGroup: transform, groupId: 'clean' });

const dedupe = task({ dag, taskGroup: clean }, function dedupe(rows: Order[]): Order[] {
  return rows.filter((row, i) => rows.findIndex((r) => r.id === row.id) === i);
})(orders);

const validate = task({ dag, taskGroup: clean }, function validate(rows: Order[]): Order[] {
  const bad = rows.filter((r) => !(r.amount > 0));
  if (bad.length > 0) throw new Error(`orders without a positive amount: ${bad.map((r) => r.id).join(', ')}`);
  return rows;
})(dedupe);

const join = task({ dag, taskGroup: transform }, function join(rows: Order[], names: Record<string, string>) {
  return rows.map((r) => ({ ...r, customer: names[r.customer] ?? 'unknown' }));
})(validate, customers);

task({ dag }, function load(rows: { customer: string; amount: number }[]) {
  getCurrentContext().log.info(`Loaded ${rows.length} orders: ${rows.map((r) => `${r.customer} ${r.amount}`).join(', ')}`);
  return rows.length;
})(join);

// Group to group: start runs before every root of extract, whose leaves all run before transform's root.
start.then(extract).then(transform);

export default dag;
