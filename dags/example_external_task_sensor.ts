/**
 * ExternalTaskSensor: a DAG that waits for a task of another DAG at the same logical date (Airflow's
 * example_external_task_marker_dag, without the marker).
 *
 *   example_external_publisher: publish
 *   example_external_consumer:  wait_for_publish (ExternalTaskSensor, reschedule mode) -> consume
 *
 * Both run daily; the consumer's sensor frees its worker slot between pokes and fails at once if
 * `publish` fails (failedStates).
 */
import { BashOperator, DAG, ExternalTaskSensor } from 'airflow-ts';

const daily = { schedule: '@daily', startDate: new Date('2024-01-01T00:00:00Z'), catchup: false, tags: ['example', 'sensors'] };

export const publisher = new DAG({ dagId: 'example_external_publisher', description: "Publishes the day's report", ...daily });
new BashOperator({ dag: publisher, taskId: 'publish', bashCommand: 'echo "report for {{ ds }}"' });

export const consumer = new DAG({ dagId: 'example_external_consumer', description: "Waits for the publisher's report of the same day", ...daily });
const waitForPublish = new ExternalTaskSensor({
  dag: consumer,
  taskId: 'wait_for_publish',
  externalDagId: 'example_external_publisher',
  externalTaskId: 'publish',
  failedStates: ['failed', 'upstream_failed'],
  checkExistence: true,
  mode: 'reschedule',
  pokeInterval: { seconds: 1 },
  timeout: { hours: 2 },
});
const consume = new BashOperator({
  dag: consumer,
  taskId: 'consume',
  bashCommand: `echo "consumed {{ ti.xcom_pull(dag_id='example_external_publisher', task_ids='publish') }}"`,
});
waitForPublish.then(consume);
