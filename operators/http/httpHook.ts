/**
 * One HTTP request through an `http` connection (Airflow's HttpHook), with Node's fetch. The connection maps as
 * Airflow's: `host` (may hold the scheme, "https://api.example.com"), `schema` the scheme when the host has none
 * (default http), `port`, `login` / `password` for basic auth, and every key of `extra` a request header.
 * The URL is the base plus the endpoint, joined by one '/'. Only the method and URL are logged, never headers:
 * the basic-auth header is the password in base64, which the secrets masker is also taught.
 */
import { AirflowError, AirflowFailException } from '../../core/errors.ts';
import { secretsMasker } from '../../core/secretsMasker.ts';
import type { ConnectionInfo, TaskContext } from '../../core/taskContext.ts';

export const DEFAULT_HTTP_CONN_ID = 'http_default';

/** What a responseCheck / responseFilter receives: the response with its body already read. */
export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: Headers;
  /** The body as text (Airflow's response.text). */
  readonly text: string;
  /** The body parsed as JSON; throws a clear error when it is not JSON. */
  json(): unknown;
}

export interface HttpRequest {
  method: string;
  endpoint: string;
  /** GET/HEAD: query parameters; other methods: the body (a string as it is, anything else as JSON). */
  data?: unknown;
  headers?: Record<string, string>;
  /** Whether a status outside 2xx-3xx throws (Airflow's extra_options check_response); default true. */
  checkResponse?: boolean;
  /** Give up on the request after this long; default 60 s. */
  timeoutMs?: number;
  /** A body longer than this fails the request instead of filling the worker's (or the triggerer's) memory; default 10 MiB. */
  maxResponseBytes?: number;
}

/** Thrown for a response outside 2xx-3xx (Airflow's "404:NOT FOUND"-style AirflowException); retryable as Airflow's. */
export class HttpStatusError extends AirflowError {
  constructor(
    readonly status: number,
    readonly response: HttpResponse,
  ) {
    super(`${status}:${response.statusText} from ${response.url}: ${response.text.slice(0, 500)}`);
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1_048_576;

/** The connection `connId` as the task sees it; `http_default` when missing is an error that names what to create. */
export function httpConnection(context: TaskContext, connId: string, operator: string): ConnectionInfo {
  return checkHttpConnection(context.conn.get(connId), connId, operator);
}

/** A connection that must exist (a task reads it from its context, a trigger from the triggerer's). */
export function checkHttpConnection(connection: ConnectionInfo | undefined, connId: string, operator: string): ConnectionInfo {
  if (!connection) {
    throw new AirflowFailException(
      `${operator}: connection '${connId}' does not exist; create an http connection with host (e.g. https://api.example.com), optional login/password and extra headers`,
    );
  }
  return connection;
}

/** Base URL of an http connection (HttpHook.get_conn): scheme from the host or `schema`, then host and port. */
export function baseUrl(connection: ConnectionInfo): string {
  const host = connection.host ?? '';
  if (host === '') return '';
  const withScheme = host.includes('://') ? host : `${connection.schema || 'http'}://${host}`;
  return connection.port ? `${withScheme.replace(/\/+$/, '')}:${connection.port}` : withScheme;
}

/** HttpHook.url_from_endpoint: exactly one '/' between the base and a relative endpoint. */
export function urlFor(base: string, endpoint: string): string {
  if (base !== '' && !base.endsWith('/') && endpoint !== '' && !endpoint.startsWith('/')) return `${base}/${endpoint}`;
  return base + endpoint;
}

/** Where a request runs: a task's context, or a trigger's in the triggerer. */
export interface RequestScope {
  log: { info(message: string): void };
  signal: AbortSignal;
}

/** Sends one request; the caller's signal (the try's, the trigger's) or the timeout cancels it. */
export async function httpRequest(context: RequestScope, connection: ConnectionInfo, request: HttpRequest): Promise<HttpResponse> {
  const method = request.method.toUpperCase();
  let url = urlFor(baseUrl(connection), request.endpoint);
  if (!/^https?:\/\//i.test(url))
    throw new AirflowFailException(`cannot send ${method} to ${JSON.stringify(url)}: the connection's host or the endpoint must give an http(s) URL`);
  const headers = new Headers();
  for (const [key, value] of Object.entries(connection.extra)) headers.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  if (connection.login) {
    const credentials = Buffer.from(`${connection.login}:${connection.password ?? ''}`).toString('base64');
    secretsMasker.add(credentials);
    headers.set('Authorization', `Basic ${credentials}`);
  }
  for (const [key, value] of Object.entries(request.headers ?? {})) headers.set(key, value);
  let body: string | undefined;
  if (request.data !== undefined && request.data !== null) {
    if (method === 'GET' || method === 'HEAD') url = withQuery(url, request.data);
    else if (typeof request.data === 'string') body = request.data;
    else {
      body = JSON.stringify(request.data);
      if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
    }
  }
  context.log.info(`Sending '${method}' to url: ${url}`);
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method, headers, body, signal: AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]) });
    text = await readBody(response, request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, `${method} ${url}`);
  } catch (error) {
    context.signal.throwIfAborted();
    if (error instanceof ResponseTooLargeError) throw error;
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no response within ${timeoutMs / 1000} s` : describe(error);
    throw new AirflowError(`${method} ${url} failed: ${reason}`, { cause: error });
  }
  const result: HttpResponse = {
    url,
    status: response.status,
    statusText: response.statusText,
    ok: response.ok,
    headers: response.headers,
    text,
    json: () => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new AirflowError(`the response of ${method} ${url} is not JSON: ${text.slice(0, 200)}`);
      }
    },
  };
  if ((request.checkResponse ?? true) && response.status >= 400) throw new HttpStatusError(response.status, result);
  return result;
}

/** Thrown when a response body is longer than the request's maxResponseBytes. */
export class ResponseTooLargeError extends AirflowError {}

/** The body as text, read in chunks and given up past `limit` bytes (the rest is never downloaded). */
async function readBody(response: Response, limit: number, what: string): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(
        `the response of ${what} is over ${limit} bytes (maxResponseBytes); ask for less, or raise extraOptions.maxResponseBytes`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function withQuery(url: string, data: unknown): string {
  const parsed = new URL(url);
  if (typeof data === 'string') {
    for (const [key, value] of new URLSearchParams(data)) parsed.searchParams.append(key, value);
  } else if (typeof data === 'object') {
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      for (const item of Array.isArray(value) ? value : [value]) parsed.searchParams.append(key, typeof item === 'string' ? item : JSON.stringify(item));
    }
  }
  return parsed.toString();
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, ...). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** One poke's request: the response, or null when its status is in the allowlist ("not there yet"). */
export async function pokeHttp(
  scope: RequestScope,
  connection: ConnectionInfo,
  request: HttpRequest,
  allowlist: readonly number[],
): Promise<HttpResponse | null> {
  try {
    return await httpRequest(scope, connection, request);
  } catch (error) {
    if (error instanceof HttpStatusError && allowlist.includes(error.status)) {
      scope.log.info(`Got ${error.status}: not there yet`);
      return null;
    }
    throw error;
  }
}
