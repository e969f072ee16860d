import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import {
  AirflowError,
  DagDefinitionError,
  DagNotFoundError,
  DagRunAlreadyExistsError,
  FernetKeyError,
  IllegalStateTransitionError,
  InvalidConfError,
  UndecryptableSecretError,
  UserAlreadyExistsError,
  XComTooLargeError,
} from '../../core/errors.ts';
import { isDatabaseUnavailable } from '../../db/pgErrors.ts';
import type { Logger } from '../../core/logger.ts';
import { dataExceptionMessage } from '../../db/pgErrors.ts';

/**
 * Errors as Airflow's REST API returns them: RFC 7807 problem JSON
 * `{ type, title, status, detail }`. Domain errors are mapped to statuses in
 * one place (here); route handlers just throw.
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
  if (error instanceof DagNotFoundError) return notFound(error.message);
  if (error instanceof DagRunAlreadyExistsError || error instanceof UserAlreadyExistsError) return conflict(error.message);
  if (error instanceof IllegalStateTransitionError) return conflict(error.message);
  if (error instanceof InvalidConfError || error instanceof DagDefinitionError || error instanceof XComTooLargeError) return badRequest(error.message);
  // A Fernet key that is malformed or lacks the one a secret was stored with: the server's configuration, not the request.
  if (error instanceof FernetKeyError || error instanceof UndecryptableSecretError) return new ApiProblem(500, 'Internal Server Error', error.message);
  const http = error as { status?: number; type?: string; message?: string };
  // express.json(): malformed JSON and bodies over the limit.
  if (http.type === 'entity.parse.failed') return badRequest(`The request body is not valid JSON: ${http.message}`);
  if (http.type === 'entity.too.large') return new ApiProblem(413, 'Payload Too Large', 'The request body is larger than the 1 MiB limit');
  // Postgres data exceptions (SQLSTATE class 22: a NUL byte, a value too long, a number out of range)
  // come from what the client sent. Their message holds the SQL (knex prefixes it): never sent.
  const invalid = dataExceptionMessage(error);
  if (invalid) return badRequest(invalid);
  // Express's own client errors, e.g. a path with malformed percent-encoding.
  if (error instanceof URIError || (typeof http.status === 'number' && http.status >= 400 && http.status < 500)) return badRequest(`Malformed request: ${http.message ?? 'bad URI'}`);
  if (error instanceof AirflowError) return badRequest(error.message);
  // It comes back by itself (ADR 0009): a client should try again, not report a bug.
  if (isDatabaseUnavailable(error)) return new ApiProblem(503, 'Service Unavailable', 'The metadata database is unavailable; try again in a few seconds');
  return new ApiProblem(500, 'Internal Server Error', 'An unexpected error occurred; it has been logged');
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const problem = toProblem(error);
    if (problem.status === 503) {
      logger.warn(`${req.method} ${req.originalUrl}: the database is unavailable (${error instanceof Error ? error.message : String(error)})`);
      res.set('Retry-After', '5');
    } else if (problem.status >= 500) logger.error(`${req.method} ${req.originalUrl} failed`, { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    res
      .status(problem.status)
      .type('application/problem+json')
      .json({ type: `${TYPE_BASE}${TYPE_NAMES[problem.status] ?? 'Unknown'}`, title: problem.title, status: problem.status, detail: problem.detail });
  };
}
