/**
 * Email: send the day's report.
 *
 * Needs an `smtp` connection `smtp_default`: host, port, login, password, and extra
 * {"from_email": "airflow@example.com"}; add "disable_ssl": true for a server without SMTPS (port 587 or 25).
 */
import { DAG, EmailOperator } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_email',
  description: "Email the day's report",
  schedule: null,
  tags: ['example', 'email'],
  params: { to: 'ops@example.com' },
});

new EmailOperator({
  dag,
  taskId: 'send_report',
  to: '{{ params.to }}',
  subject: 'Daily report for {{ ds }}',
  htmlContent: '<h3>Report for {{ ds }}</h3><p>Run {{ run_id }} finished.</p>',
});

export default dag;
