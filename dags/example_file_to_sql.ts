/**
 * Wait for a file, load it with SQL, then tell someone.
 *
 *   wait_for_file (FileSensor) -> parse_orders -> create_table -> load_orders (SQLExecuteQueryOperator)
 *     -> notify (EmailOperator)
 *
 * Connections: `landing` (fs, extra {"path": "/tmp/airflow-ts-landing"}), `postgres_default` and `smtp_default`.
 * Drop a CSV into the landing folder, e.g.
 *   printf 'id,amount\n1,9.5\n2,20\n' > /tmp/airflow-ts-landing/orders-2025-01-01.csv
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DAG, EmailOperator, FileSensor, getCurrentContext, SQLExecuteQueryOperator, task } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_file_to_sql',
  description: 'FileSensor, then SQL, then an email',
  schedule: null,
  tags: ['example', 'sensors', 'sql', 'email'],
  params: { to: 'ops@example.com' },
});

const waitForFile = new FileSensor({
  dag,
  taskId: 'wait_for_file',
  fsConnId: 'landing',
  filepath: 'orders-{{ ds }}.csv',
  mode: 'reschedule',
  pokeInterval: { seconds: 10 },
  timeout: { hours: 6 },
});

// The CSV as JSON rows, for the SQL below (small files: an XCom holds at most core.xcomMaxSize).
const parseOrders = task({ dag, taskId: 'parse_orders' }, function parseOrders() {
  const context = getCurrentContext();
  const base = String(context.conn.get('landing')?.extra.path ?? '/');
  const [header, ...lines] = readFileSync(path.join(base, `orders-${context.ds}.csv`), 'utf8')
    .trim()
    .split('\n');
  const columns = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i], value])));
})();

const createTable = new SQLExecuteQueryOperator({
  dag,
  taskId: 'create_table',
  sql: 'CREATE TABLE IF NOT EXISTS example_orders (day date, id int, amount numeric, PRIMARY KEY (day, id))',
});

const loadOrders = new SQLExecuteQueryOperator({
  dag,
  taskId: 'load_orders',
  // Idempotent: a rerun of the day updates its rows. The ids loaded are the XCom.
  sql: `INSERT INTO example_orders (day, id, amount)
        SELECT $1::date, r.id, r.amount FROM json_to_recordset($2::json) AS r(id int, amount numeric)
        ON CONFLICT (day, id) DO UPDATE SET amount = EXCLUDED.amount
        RETURNING id`,
  parameters: ['{{ ds }}', "{{ ti.xcom_pull(task_ids='parse_orders') | tojson }}"],
});

const notify = new EmailOperator({
  dag,
  taskId: 'notify',
  to: '{{ params.to }}',
  subject: 'Orders for {{ ds }} loaded',
  htmlContent: "<p>Loaded {{ ti.xcom_pull(task_ids='load_orders') | length }} orders for {{ ds }}.</p>",
});

waitForFile.then(parseOrders);
parseOrders.then(createTable);
createTable.then(loadOrders).then(notify);

export default dag;
