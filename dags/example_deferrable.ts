/**
 * Deferrable sensors: wait without holding a worker slot, in the triggerer.
 *
 *   settle (TimeDeltaSensor, deferrable) -> wait_for_ready (FileSensor, deferrable) -> report
 *
 * `settle` waits 5 seconds after the run's data interval ends, `wait_for_ready` for
 *   mkdir -p /tmp/airflow-ts-landing/deferrable/<ds> && touch /tmp/airflow-ts-landing/deferrable/<ds>/ready
 * While they wait both are `deferred`: no worker slot, no pool slot; `airflow triggerer` (part of
 * `airflow standalone`) holds their triggers and a worker resumes each when its trigger fires. The
 * task-instance page shows the trigger and what it waits for.
 */
import { BashOperator, DAG, FileSensor, TimeDeltaSensor } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_deferrable',
  description: 'Deferrable sensors: wait in the triggerer, not in a worker',
  schedule: '@daily',
  startDate: new Date('2024-01-01T00:00:00Z'),
  catchup: false,
  tags: ['example', 'sensors', 'deferrable'],
  doc: 'Waits 5 s after its data interval, then for `/tmp/airflow-ts-landing/deferrable/{{ ds }}/ready`, both in the triggerer.',
});

const settle = new TimeDeltaSensor({ dag, taskId: 'settle', delta: { seconds: 5 }, deferrable: true });

const waitForReady = new FileSensor({
  dag,
  taskId: 'wait_for_ready',
  filepath: '/tmp/airflow-ts-landing/deferrable/{{ ds }}/ready',
  pokeInterval: { seconds: 5 },
  timeout: { hours: 6 },
  deferrable: true,
});

const report = new BashOperator({ dag, taskId: 'report', bashCommand: 'echo "ready for {{ ds }}"' });

settle.then(waitForReady).then(report);

export default dag;
