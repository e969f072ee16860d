/**
 * A daily ETL: extract raw files, clean orders and customers in parallel,
 * join them, then load the result.
 *
 *   extract -> [clean_orders, clean_customers] -> join -> load
 */
import { BashOperator, DAG } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_etl',
  description: 'Extract, clean, join and load daily orders',
  schedule: '@daily',
  startDate: new Date('2024-01-01T00:00:00Z'),
  catchup: false,
  tags: ['example', 'etl'],
  defaultArgs: {
    owner: 'data-eng',
    retries: 2,
    retryDelay: { minutes: 1 },
    executionTimeout: { minutes: 30 },
  },
  doc: "Copies the day's orders and customers into `/tmp/airflow-ts-etl/{{ ds }}` and joins them.",
});

const workdir = '/tmp/airflow-ts-etl/{{ ds }}';

const extract = new BashOperator({
  dag,
  taskId: 'extract',
  bashCommand: `mkdir -p ${workdir} && printf 'order_id,customer_id,amount\\n1,10,9.50\\n2,11,20.00\\n' > ${workdir}/orders.csv && printf 'customer_id,name\\n10,Ada\\n11,Grace\\n' > ${workdir}/customers.csv`,
});

const cleanOrders = new BashOperator({
  dag,
  taskId: 'clean_orders',
  bashCommand: `f=${workdir}/orders.csv; (head -n 1 $f; tail -n +2 $f | grep -v '^$' | sort -u) > ${workdir}/orders.clean.csv`,
});

const cleanCustomers = new BashOperator({
  dag,
  taskId: 'clean_customers',
  bashCommand: `f=${workdir}/customers.csv; (head -n 1 $f; tail -n +2 $f | grep -v '^$' | sort -u) > ${workdir}/customers.clean.csv`,
});

const join = new BashOperator({
  dag,
  taskId: 'join',
  bashCommand: `join -t, -1 2 -2 1 <(tail -n +2 ${workdir}/orders.clean.csv | sort -t, -k2) <(tail -n +2 ${workdir}/customers.clean.csv | sort -t, -k1) > ${workdir}/joined.csv`,
});

const load = new BashOperator({
  dag,
  taskId: 'load',
  bashCommand: `wc -l < ${workdir}/joined.csv`,
  retries: 0, // loading twice would duplicate rows
});

extract.then([cleanOrders, cleanCustomers]);
join.setUpstream([cleanOrders, cleanCustomers]);
join.then(load);

export default dag;
