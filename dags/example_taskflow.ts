/**
 * TaskFlow: plain functions become tasks, and their return values flow into
 * the next task's arguments (the edges follow from that). A branch then
 * picks one of two reports, and a join runs after whichever ran.
 *
 *   extract -> transform -> load -> choose_report -> [big_day | quiet_day] -> done
 */
import { BashOperator, BranchOperator, DAG, EmptyOperator, getCurrentContext, task } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_taskflow',
  description: 'Extract, transform and load orders with TaskFlow, then branch on the total',
  schedule: null, // manual runs only
  tags: ['example'],
  params: { bigDayThreshold: 25 },
  doc: 'Trigger with a config like `{"bigDayThreshold": 100}` to take the other branch.',
});

interface Order {
  id: number;
  amount: number;
}

const extract = task({ dag }, function extract(): Order[] {
  return [
    { id: 1, amount: 9.5 },
    { id: 2, amount: 20 },
  ];
});

const transform = task({ dag }, function transform(orders: Order[]) {
  return { count: orders.length, total: orders.reduce((sum, o) => sum + o.amount, 0) };
});

const load = task({ dag }, function load(summary: { count: number; total: number }) {
  getCurrentContext().log.info(`Loaded ${summary.count} orders worth ${summary.total}`);
  return summary.total;
});

const chooseReport = new BranchOperator({
  dag,
  taskId: 'choose_report',
  fn: async (ctx) => (((await ctx.ti.xcomPull({ taskIds: 'load' })) as number) > Number(ctx.params.bigDayThreshold) ? 'big_day' : 'quiet_day'),
});

// Templates can pull XComs too, as in Airflow.
const bigDay = new BashOperator({ dag, taskId: 'big_day', bashCommand: `echo "Big day: {{ ti.xcom_pull(task_ids='load') }} in orders"` });
const quietDay = new BashOperator({ dag, taskId: 'quiet_day', bashCommand: `echo "Quiet day: {{ ti.xcom_pull(task_ids='load') }} in orders"` });

// The skipped branch must not skip the join, hence its trigger rule.
const done = new EmptyOperator({ dag, taskId: 'done', triggerRule: 'none_failed_min_one_success' });

load(transform(extract())).then(chooseReport).then([bigDay, quietDay]);
done.setUpstream([bigDay, quietDay]);

export default dag;
