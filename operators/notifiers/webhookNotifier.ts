/**
 * WebhookNotifier: posts a Slack-compatible message, `{"text": ...}`, to an incoming webhook through an `http`
 * connection (Airflow's SlackWebhookNotifier). The connection's host is the webhook's base URL; a password
 * without a login is the webhook's token, the last part of its path (as Airflow's Slack webhook connection
 * keeps it), so it is stored encrypted and masked in every log line (ADR 0008). `template` is rendered with the
 * callback's context: `{{ dag_run.dag_id }}`, `{{ ti.task_id }}`, `{{ reason }}`, `{{ exception }}`...
 */
import { AirflowFailException } from '../../core/errors.ts';
import { BaseNotifier } from '../../core/notifier.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { httpConnection, httpRequest, urlFor } from '../http/httpHook.ts';

export interface WebhookNotifierOptions {
  /** An `http` connection: host (the webhook's base URL), and the token as password, or login/password for basic auth. */
  connId: string;
  /** Templated: the message text. */
  template: string;
  /** Templated: a path after the host (and before the token). */
  endpoint?: string;
  /** Give up after this long; default 30 s. */
  timeoutMs?: number;
}

export class WebhookNotifier extends BaseNotifier {
  static override readonly templateFields: readonly string[] = ['template', 'endpoint'];

  readonly connId: string;
  readonly template: string;
  readonly endpoint: string;
  readonly timeoutMs: number;

  constructor(options: WebhookNotifierOptions) {
    super();
    const o = options ?? ({} as WebhookNotifierOptions);
    if (typeof o.connId !== 'string' || o.connId === '') throw new AirflowFailException(`WebhookNotifier needs connId, the id of an http connection`);
    if (typeof o.template !== 'string') throw new AirflowFailException(`WebhookNotifier needs template, the message text (a template)`);
    this.connId = o.connId;
    this.template = o.template;
    this.endpoint = o.endpoint ?? '';
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  async notify(context: TaskContext, rendered: Record<string, unknown>): Promise<void> {
    const connection = httpConnection(context, this.connId, 'WebhookNotifier');
    const token = connection.password && !connection.login ? connection.password : null;
    const endpoint = token ? urlFor(String(rendered.endpoint), token) : String(rendered.endpoint);
    const response = await httpRequest(context, connection, {
      method: 'POST',
      endpoint,
      data: { text: String(rendered.template) },
      headers: { 'Content-Type': 'application/json' },
      timeoutMs: this.timeoutMs,
    });
    context.log.info(`Webhook notification sent through connection '${this.connId}': ${response.status}`);
  }
}
