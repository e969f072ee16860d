import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request } from 'express';
import { ZodError } from 'zod';
import { AirflowError } from '../../core/errors.ts';
import { isDatabaseUnavailable } from '../../db/pgErrors.ts';
import type { Logger } from '../../core/logger.ts';
import { dataExceptionMessage } from '../../db/pgErrors.ts';

/**
 * Errors as Airflow's REST API returns them: RFC 7807 problem JSON
 * `{ type, title, status, detail }`. Each domain error class declares its
 * status (`static status` in core/errors.ts); the rest is mapped here; route
 * handlers just throw. Anything else is a 500 whose error id is logged with
 * the stack and sent in the detail and `instance`, never the stack itself.
 */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const notFound = (detail: string) => new ApiProblem(404, 'Not Found', detail);
export const badRequest = (detail: string) => new ApiProblem(400, 'Bad Request', detail);
export const conflict = (detail: string) => new ApiProblem(409, 'Conflict', detail);
export const forbidden = (detail: string) => new ApiProblem(403, 'Forbidden', detail);
export const unauthenticated = (detail: string) => new ApiProblem(401, 'Unauthorized', detail);
export const tooManyRequests = (detail: string) => new ApiProblem(429, 'Too Many Requests', detail);

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
};

const TYPE_BASE = 'https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#section/Errors/';
const TYPE_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthenticated',
  403: 'PermissionDenied',
  404: 'NotFound',
  409: 'AlreadyExists',
  406: 'NotAcceptable',
  413: 'BadRequest',
  500: 'Unknown',
  503: 'Unknown',
};

export function toProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (error instanceof ZodError) {
    const detail = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    return badRequest(detail);
  }
  // Each class says whose fault it is; its message is written for a person and holds no secret.
  if (error instanceof AirflowError) {
    const { status } = error.constructor as typeof AirflowError;
    return new ApiProblem(status, STATUS_TITLES[status] ?? 'Error', error.message);
  }
  const http = error as { status?: number; type?: string; message?: string };
  // express.json(): malformed JSON and bodies over the limit.
  if (http.type === 'entity.parse.failed') return badRequest(`The request body is not valid JSON: ${http.message}`);
  if (http.type === 'entity.too.large') return new ApiProblem(413, 'Payload Too Large', 'The request body is larger than the 1 MiB limit');
  // Postgres data exceptions (SQLSTATE class 22: a NUL byte, a value too long, a number out of range)
  // come from what the client sent. Their message holds the SQL (knex prefixes it): never sent.
  const invalid = dataExceptionMessage(error);
  if (invalid) return badRequest(invalid);
  // Express's own client errors, e.g. a path with malformed percent-encoding.
  if (error instanceof URIError || (typeof http.status === 'number' && http.status >= 400 && http.status < 500))
    return badRequest(`Malformed request: ${http.message ?? 'bad URI'}`);
  // It comes back by itself (ADR 0009): a client should try again, not report a bug.
  if (isDatabaseUnavailable(error)) return new ApiProblem(503, 'Service Unavailable', 'The metadata database is unavailable; try again in a few seconds');
  return new ApiProblem(500, 'Internal Server Error', 'An unexpected error occurred; it has been logged');
}

/**
 * Logs an error the server answers 500 for, with its stack, under a new id
 * that the response shows so that a user can quote it; returns the id.
 */
export function logServerError(logger: Logger, req: Request, error: unknown): string {
  const errorId = randomUUID();
  logger.error(`${req.method} ${req.originalUrl} failed (error id ${errorId})`, {
    errorId,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return errorId;
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const problem = toProblem(error);
    let detail = problem.detail;
    let instance: string | undefined;
    if (problem.status === 503) {
      logger.warn(`${req.method} ${req.originalUrl}: the database is unavailable (${error instanceof Error ? error.message : String(error)})`);
      res.set('Retry-After', '5');
    } else if (problem.status >= 500) {
      const errorId = logServerError(logger, req, error);
      detail = `${detail} (error id ${errorId})`;
      instance = `urn:uuid:${errorId}`;
    }
    res
      .status(problem.status)
      .type('application/problem+json')
      .json({ type: `${TYPE_BASE}${TYPE_NAMES[problem.status] ?? 'Unknown'}`, title: problem.title, status: problem.status, detail, instance });
  };
}
