/**
 * HttpSensor: pokes an HTTP endpoint through an `http` connection until it answers as wanted (Airflow's
 * HttpSensor). Done when the response is 2xx-3xx and `responseCheck` (if given) returns true; a status in
 * `responseErrorCodeAllowlist` (default 404) means "not yet"; any other status of 400 or more fails the poke.
 * `endpoint`, `requestParams` and `headers` are templates.
 */
import type { TaskContext } from '../../core/taskContext.ts';
import { taskFail } from '../../core/baseOperator.ts';
import { runWithContext } from '../../core/taskContext.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions } from '../sensors/baseSensorOperator.ts';
import type { Json } from '../../core/trigger.ts';
import { HttpSensorTrigger } from '../triggers/httpTrigger.ts';
import { httpConnection, pokeHttp, type HttpRequest } from './httpHook.ts';
import { checkHttpOptions, type HttpExtraOptions, type ResponseCheck } from './httpOperator.ts';

export interface HttpSensorOptions extends BaseSensorOperatorOptions {
  endpoint: string;
  /** Default 'GET'. */
  method?: string;
  /** Query parameters for GET, the body otherwise (Airflow's request_params). Templated. */
  requestParams?: unknown;
  headers?: Record<string, string>;
  responseCheck?: ResponseCheck;
  /** Statuses that mean "not there yet" instead of an error; default [404]. */
  responseErrorCodeAllowlist?: number[];
  extraOptions?: HttpExtraOptions;
  httpConnId?: string;
}

export class HttpSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['endpoint', 'requestParams', 'headers'];

  readonly endpoint: string;
  readonly method: string;
  readonly requestParams: unknown;
  readonly headers: Record<string, string>;
  readonly responseCheck: ResponseCheck | null;
  readonly responseErrorCodeAllowlist: number[];
  readonly checkResponse: boolean;
  readonly requestTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly httpConnId: string;

  constructor(options: HttpSensorOptions) {
    const fields = checkHttpOptions(options, 'GET');
    const allowlist = options?.responseErrorCodeAllowlist ?? [404];
    if (!Array.isArray(allowlist) || !allowlist.every((code) => Number.isInteger(code) && code >= 100 && code <= 599)) {
      taskFail(options?.dag?.dagId, options?.taskId, `responseErrorCodeAllowlist must be a list of HTTP statuses, got ${JSON.stringify(allowlist)}`);
    }
    super(options);
    this.endpoint = fields.endpoint;
    this.method = fields.method;
    this.requestParams = options.requestParams ?? null;
    this.headers = fields.headers;
    this.responseCheck = fields.responseCheck;
    this.responseErrorCodeAllowlist = [...allowlist];
    this.checkResponse = fields.checkResponse;
    this.requestTimeoutMs = fields.timeoutMs;
    this.maxResponseBytes = fields.maxResponseBytes;
    this.httpConnId = fields.httpConnId;
  }

  override serializeFields(): Record<string, unknown> {
    return {
      ...super.serializeFields(),
      endpoint: this.endpoint,
      method: this.method,
      requestParams: this.requestParams,
      headers: this.headers,
      httpConnId: this.httpConnId,
      responseErrorCodeAllowlist: this.responseErrorCodeAllowlist,
    };
  }

  /**
   * Deferrable: pokes once, then hands the wait to an HttpSensorTrigger polled every pokeInterval. A responseCheck
   * is a function the triggerer cannot run, so with one the sensor pokes in the worker instead (as Airflow's).
   */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    if (!this.deferrable) return super.execute(context, rendered);
    if (this.responseCheck) {
      context.log.warn('deferrable is ignored with a responseCheck (it runs only in a worker): poking instead');
      return super.execute(context, rendered);
    }
    if (await this.poke(context, rendered)) return undefined;
    const request = this.request(rendered);
    return this.defer({
      trigger: new HttpSensorTrigger({
        httpConnId: this.httpConnId,
        endpoint: request.endpoint,
        method: request.method,
        data: (request.data ?? null) as Json,
        headers: request.headers ?? {},
        responseErrorCodeAllowlist: this.responseErrorCodeAllowlist,
        checkResponse: this.checkResponse,
        requestTimeoutMs: this.requestTimeoutMs,
        maxResponseBytes: this.maxResponseBytes,
        pokeIntervalMs: this.pokeIntervalMs,
      }),
      method: 'executeComplete',
      timeout: this.timeoutMs,
    });
  }

  async poke(context: TaskContext, rendered: Record<string, unknown>): Promise<boolean> {
    context.log.info(`Poking: ${rendered.endpoint}`);
    const response = await pokeHttp(
      context,
      httpConnection(context, this.httpConnId, `HttpSensor '${this.taskId}'`),
      this.request(rendered),
      this.responseErrorCodeAllowlist,
    );
    if (!response) return false;
    if (this.responseCheck) return Boolean(await runWithContext(context, () => this.responseCheck!(response, context)));
    return true;
  }

  private request(rendered: Record<string, unknown>): HttpRequest {
    return {
      method: this.method,
      endpoint: String(rendered.endpoint ?? ''),
      data: rendered.requestParams,
      headers: rendered.headers as Record<string, string>,
      checkResponse: this.checkResponse,
      timeoutMs: this.requestTimeoutMs,
      maxResponseBytes: this.maxResponseBytes,
    };
  }
}
