/**
 * TriggerDagRunOperator: one DAG starts another and waits for it (Airflow's example_trigger_controller_dag
 * and example_trigger_target_dag).
 *
 *   example_trigger_controller: trigger_target (waits) -> report
 *   example_trigger_target:     greet (prints the conf it was triggered with)
 *
 * The controller's task-instance page links to the run it triggered ("Triggered DAG"); the run id is also
 * its `trigger_run_id` XCom.
 */
import { BashOperator, DAG, TriggerDagRunOperator } from 'airflow-ts';

export const controller = new DAG({
  dagId: 'example_trigger_controller',
  description: 'Triggers example_trigger_target with a conf and waits for it',
  tags: ['example', 'trigger'],
});

const triggerTarget = new TriggerDagRunOperator({
  dag: controller,
  taskId: 'trigger_target',
  triggerDagId: 'example_trigger_target',
  conf: { message: 'Hello from {{ dag_run.run_id }}' },
  waitForCompletion: true,
  pokeInterval: { seconds: 1 },
});

const report = new BashOperator({
  dag: controller,
  taskId: 'report',
  bashCommand: `echo "target run {{ ti.xcom_pull(task_ids='trigger_target', key='trigger_run_id') }} succeeded"`,
});

triggerTarget.then(report);

export const target = new DAG({
  dagId: 'example_trigger_target',
  description: 'Prints the message of the run that triggered it',
  tags: ['example', 'trigger'],
});

new BashOperator({ dag: target, taskId: 'greet', bashCommand: 'echo "{{ dag_run.conf.message }}"' });
