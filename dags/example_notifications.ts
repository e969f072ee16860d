/**
 * Notifications: DAG-level callbacks with Airflow 2.6-style notifiers, and email alerts on tasks.
 *
 *   extract -> load
 *
 * When a run ends, the DAG processor (never the scheduler) posts to a chat webhook: create an `http`
 * connection `chat_webhook` whose host is the webhook's base URL (e.g. https://hooks.slack.com/services) and
 * whose password is its token; the token stays encrypted and is masked in every log. A failed run also mails
 * on-call through the `smtp_default` connection, and a task that fails for good mails its `email`.
 */
import { BashOperator, DAG, SmtpNotifier, WebhookNotifier } from 'airflow-ts';

const chat = (template: string) => new WebhookNotifier({ connId: 'chat_webhook', template });

const dag = new DAG({
  dagId: 'example_notifications',
  description: 'Tells a chat channel how each run ended',
  tags: ['example', 'notifications'],
  defaultArgs: { email: 'oncall@example.com', emailOnRetry: false, retries: 1, retryDelay: { seconds: 30 } },
  onSuccessCallback: chat(':white_check_mark: {{ dag_run.dag_id }} run {{ dag_run.run_id }} succeeded'),
  onFailureCallback: [
    chat(':red_circle: {{ dag_run.dag_id }} run {{ dag_run.run_id }} failed at {{ ti.task_id }} ({{ reason }})'),
    new SmtpNotifier({ to: 'oncall@example.com', subject: '{{ dag_run.dag_id }} failed' }),
  ],
});

new BashOperator({ dag, taskId: 'extract', bashCommand: 'echo 42' }).then(
  new BashOperator({ dag, taskId: 'load', bashCommand: `echo "loaded {{ ti.xcom_pull(task_ids='extract') }} rows"` }),
);

export default dag;
