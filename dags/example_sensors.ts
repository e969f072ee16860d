/**
 * Sensors: wait for the day's orders file to land, then load it.
 *
 *   [after_cutoff (DateTimeSensor), disk_has_room (FunctionSensor)]
 *     -> wait_for_orders (FileSensor, reschedule mode) -> orders_readable (BashSensor) -> load_orders
 *
 * Drop a CSV into /tmp/airflow-ts-landing/orders/<ds>/, e.g.
 *   mkdir -p /tmp/airflow-ts-landing/orders/2025-01-01 && printf 'id,amount\n1,9.5\n' > /tmp/airflow-ts-landing/orders/2025-01-01/part-1.csv
 * Between its pokes the sensor is up_for_reschedule and holds no worker slot; the task-instance page shows its
 * next poke time. With an `fs` connection `landing` whose extra is {"path": "/tmp/airflow-ts-landing"}, write
 * `fsConnId: 'landing', filepath: 'orders/{{ ds }}/*.csv'` instead.
 */
import { statfsSync } from 'node:fs';
import { BashOperator, BashSensor, DAG, DateTimeSensor, FileSensor, FunctionSensor } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_sensors',
  description: "Wait for the day's orders file, then load it",
  schedule: '@daily',
  startDate: new Date('2024-01-01T00:00:00Z'),
  catchup: false,
  tags: ['example', 'sensors'],
  doc: 'Waits (without holding a worker slot) for `/tmp/airflow-ts-landing/orders/{{ ds }}/*.csv`, then counts its rows.',
});

const landing = '/tmp/airflow-ts-landing/orders/{{ ds }}';

// Orders for a day are complete once that day's interval has ended.
const afterCutoff = new DateTimeSensor({
  dag,
  taskId: 'after_cutoff',
  targetTime: '{{ data_interval_end }}',
  mode: 'reschedule',
  pokeInterval: { minutes: 5 },
});

// Airflow's PythonSensor: a function that says when the condition holds (here: 100 MiB free for the load).
const diskHasRoom = new FunctionSensor({
  dag,
  taskId: 'disk_has_room',
  mode: 'reschedule',
  pokeInterval: { minutes: 1 },
  timeout: { hours: 1 },
  fn: () => {
    const { bavail, bsize } = statfsSync('/tmp');
    return bavail * bsize > 100 * 1024 * 1024;
  },
});

const waitForOrders = new FileSensor({
  dag,
  taskId: 'wait_for_orders',
  filepath: `${landing}/*.csv`,
  mode: 'reschedule',
  pokeInterval: { seconds: 10 },
  timeout: { hours: 6 },
});

// A shell test as the condition: exit code 0 means done.
const ordersReadable = new BashSensor({
  dag,
  taskId: 'orders_readable',
  bashCommand: `test -r ${landing}`,
  pokeInterval: { seconds: 5 },
  timeout: { minutes: 1 },
});

const loadOrders = new BashOperator({
  dag,
  taskId: 'load_orders',
  // The last line (the row count) becomes the task's return_value XCom.
  bashCommand: `cat ${landing}/*.csv | tail -n +2 | wc -l | tr -d ' '`,
});

afterCutoff.then(waitForOrders);
diskHasRoom.then(waitForOrders);
waitForOrders.then(ordersReadable).then(loadOrders);

export default dag;
