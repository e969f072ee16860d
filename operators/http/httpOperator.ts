/**
 * HttpOperator: calls an HTTP endpoint through an `http` connection (Airflow's HttpOperator, formerly
 * SimpleHttpOperator). `endpoint`, `data` and `headers` are templates. A status of 400 or more fails the try
 * (so the task's `retries` retry a 5xx, as Airflow's); `responseCheck` returning false fails it too. The return
 * value (the 'return_value' XCom) is `responseFilter(response)`, or the response text.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../../core/baseOperator.ts';
import { durationMs } from '../../core/definitionChecks.ts';
import type { Duration } from '../../core/duration.ts';
import { AirflowError } from '../../core/errors.ts';
import { runWithContext, type TaskContext } from '../../core/taskContext.ts';
import { DEFAULT_HTTP_CONN_ID, DEFAULT_MAX_RESPONSE_BYTES, httpConnection, httpRequest, type HttpResponse } from './httpHook.ts';

export type ResponseCheck = (response: HttpResponse, context: TaskContext) => boolean | Promise<boolean>;
export type ResponseFilter = (response: HttpResponse, context: TaskContext) => unknown;

/** Airflow's extra_options that make sense here. */
export interface HttpExtraOptions {
  /** false: a status of 400 or more does not fail the request (responseCheck decides). Default true. */
  checkResponse?: boolean;
  /** Give up on the request after this long; default 60 s. */
  timeout?: Duration;
  /** A longer response body fails the request (it is not read further); default 10 MiB. */
  maxResponseBytes?: number;
}

export interface HttpOperatorOptions extends BaseOperatorOptions {
  /** Appended to the connection's base URL. Templated. */
  endpoint?: string;
  /** Default 'POST' (as Airflow's). */
  method?: string;
  /** GET/HEAD: query parameters; other methods: the body (a string as it is, an object as JSON). Templated. */
  data?: unknown;
  /** Request headers, over the connection's extra. Templated. */
  headers?: Record<string, string>;
  /** False fails the task with the response status and URL in the message. */
  responseCheck?: ResponseCheck;
  /** What the task returns (its XCom) instead of the response text, e.g. (r) => r.json(). */
  responseFilter?: ResponseFilter;
  extraOptions?: HttpExtraOptions;
  /** An `http` connection; default 'http_default'. */
  httpConnId?: string;
  /** Log the response body (Airflow's log_response). */
  logResponse?: boolean;
}

export class HttpOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['endpoint', 'data', 'headers'];

  readonly endpoint: string;
  readonly method: string;
  readonly data: unknown;
  readonly headers: Record<string, string>;
  readonly responseCheck: ResponseCheck | null;
  readonly responseFilter: ResponseFilter | null;
  readonly checkResponse: boolean;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly httpConnId: string;
  readonly logResponse: boolean;

  constructor(options: HttpOperatorOptions) {
    const fields = checkHttpOptions(options, 'POST');
    super(options);
    this.endpoint = fields.endpoint;
    this.method = fields.method;
    this.data = options.data ?? null;
    this.headers = fields.headers;
    this.responseCheck = fields.responseCheck;
    this.responseFilter = options.responseFilter ?? null;
    this.checkResponse = fields.checkResponse;
    this.timeoutMs = fields.timeoutMs;
    this.maxResponseBytes = fields.maxResponseBytes;
    this.httpConnId = fields.httpConnId;
    this.logResponse = options.logResponse ?? false;
  }

  serializeFields(): Record<string, unknown> {
    return {
      endpoint: this.endpoint,
      method: this.method,
      data: this.data,
      headers: this.headers,
      httpConnId: this.httpConnId,
      responseCheck: this.responseCheck?.name || (this.responseCheck ? '<anonymous>' : null),
      responseFilter: this.responseFilter?.name || (this.responseFilter ? '<anonymous>' : null),
    };
  }

  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    context.log.info('Calling HTTP method');
    const connection = httpConnection(context, this.httpConnId, `HttpOperator '${this.taskId}'`);
    const response = await httpRequest(context, connection, {
      method: this.method,
      endpoint: String(rendered.endpoint ?? ''),
      data: rendered.data,
      headers: rendered.headers as Record<string, string>,
      checkResponse: this.checkResponse,
      timeoutMs: this.timeoutMs,
      maxResponseBytes: this.maxResponseBytes,
    });
    if (this.logResponse) context.log.info(response.text);
    if (this.responseCheck && !(await runWithContext(context, () => this.responseCheck!(response, context)))) {
      throw new AirflowError(`Response check returned False: ${this.method} ${response.url} answered ${response.status}`);
    }
    if (this.responseFilter) return runWithContext(context, () => this.responseFilter!(response, context));
    return response.text;
  }
}

/** Option checks shared with HttpSensor; before super(), so a bad option leaves no half-made task in the DAG. */
export function checkHttpOptions(options: HttpOperatorOptions, defaultMethod: string) {
  const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
  const {
    endpoint = '',
    method = defaultMethod,
    headers = {},
    responseCheck,
    responseFilter,
    extraOptions = {},
    httpConnId = DEFAULT_HTTP_CONN_ID,
  } = options ?? {};
  if (typeof endpoint !== 'string') fail(`endpoint must be a string, got ${JSON.stringify(endpoint)}`);
  if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)) fail(`method must be an HTTP method like 'GET' or 'POST', got ${JSON.stringify(method)}`);
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) fail('headers must be an object of string values');
  for (const [key, value] of Object.entries(headers)) if (typeof value !== 'string') fail(`headers.${key} must be a string, got ${JSON.stringify(value)}`);
  if (responseCheck !== undefined && typeof responseCheck !== 'function') fail('responseCheck must be a function (response, context) => boolean');
  if (responseFilter !== undefined && typeof responseFilter !== 'function') fail('responseFilter must be a function (response, context) => value');
  if (typeof httpConnId !== 'string' || httpConnId === '') fail(`httpConnId must be a connection id, got ${JSON.stringify(httpConnId)}`);
  const checkResponse = extraOptions.checkResponse ?? true;
  const maxResponseBytes = extraOptions.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1)
    fail(`extraOptions.maxResponseBytes must be a positive integer, got ${JSON.stringify(maxResponseBytes)}`);
  if (typeof checkResponse !== 'boolean') fail(`extraOptions.checkResponse must be true or false, got ${JSON.stringify(checkResponse)}`);
  return {
    endpoint,
    method: method.toUpperCase(),
    headers: { ...headers },
    responseCheck: responseCheck ?? null,
    checkResponse,
    timeoutMs: durationMs(extraOptions.timeout ?? 60_000, 'extraOptions.timeout', fail),
    maxResponseBytes,
    httpConnId,
  };
}
