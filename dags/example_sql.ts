/**
 * SQL: create a table, write the day's totals into it, wait until they are there, then read them back.
 *
 *   create_table -> write_totals -> wait_for_totals (SqlSensor) -> read_totals
 *
 * Needs a `postgres` connection `postgres_default` (host, port, login, password, schema = the database).
 * read_totals's rows (arrays of column values) become its XCom.
 */
import { DAG, SQLExecuteQueryOperator, SqlSensor } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_sql',
  description: 'Run SQL on Postgres and wait for a row',
  schedule: null,
  tags: ['example', 'sql'],
});

const createTable = new SQLExecuteQueryOperator({
  dag,
  taskId: 'create_table',
  sql: 'CREATE TABLE IF NOT EXISTS example_daily_totals (day date PRIMARY KEY, orders int NOT NULL, amount numeric NOT NULL)',
});

const writeTotals = new SQLExecuteQueryOperator({
  dag,
  taskId: 'write_totals',
  // Both statements in one transaction (autocommit is false): a rerun replaces the day's row.
  sql: [
    'DELETE FROM example_daily_totals WHERE day = $1::date',
    'INSERT INTO example_daily_totals (day, orders, amount) SELECT $1::date, n, n * 9.5 FROM generate_series(3, 3) n',
  ],
  parameters: ['{{ ds }}'],
});

const waitForTotals = new SqlSensor({
  dag,
  taskId: 'wait_for_totals',
  sql: 'SELECT orders FROM example_daily_totals WHERE day = $1::date',
  parameters: ['{{ ds }}'],
  success: (orders) => Number(orders) > 0,
  pokeInterval: { seconds: 5 },
  timeout: { minutes: 30 },
  mode: 'reschedule',
});

const readTotals = new SQLExecuteQueryOperator({
  dag,
  taskId: 'read_totals',
  sql: "SELECT to_char(day, 'YYYY-MM-DD'), orders, amount::float FROM example_daily_totals WHERE day = '{{ ds }}'",
});

createTable.then(writeTotals).then(waitForTotals).then(readTotals);

export default dag;
