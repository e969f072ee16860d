import type { Request, Response } from 'express';
import type { Permission } from '../../api/auth.ts';
import { allows } from '../../api/auth.ts';
import { logServerError, toProblem } from '../../api/problems.ts';
import type { Logger } from '../../../core/logger.ts';
import { sessionOf } from '../session.ts';

/**
 * Small helpers shared by the DAG list, trigger and admin pages. Business
 * rules stay in services/, db/ and the REST API's schemas; these only adapt
 * HTML forms and query strings to them.
 */

/** Whether the logged-in user's role allows `permission` (for showing or disabling controls; the routes check again). */
export function can(req: Request, permission: Permission): boolean {
  const role = sessionOf(req).role;
  return role !== undefined && allows(role, permission);
}

/** Who changed something and when, for the audit log (as the REST API records it). */
export function auditOf(req: Request, now: () => Date): { owner: string | null; at: Date } {
  return { owner: sessionOf(req).username ?? null, at: now() };
}

/** A query-string value as one trimmed string ('' when absent or repeated oddly). */
export function queryText(value: unknown, max = 250): string {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.trim().slice(0, max) : '';
}

/** A query-string value that may repeat (tags=a&tags=b) as a list of distinct non-empty strings. */
export function queryTexts(value: unknown, max = 250): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return [
    ...new Set(
      list
        .filter((v): v is string => typeof v === 'string')
        .map((v) => v.trim().slice(0, max))
        .filter(Boolean),
    ),
  ];
}

/** A 1-based page number from the query string. */
export function pageNumber(value: unknown): number {
  const n = Number(queryText(value));
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}

export interface Pager {
  page: number;
  pages: number;
  total: number;
  pageSize: number;
  /** 1-based positions of the first and last row shown. */
  first: number;
  last: number;
}

/** Page bookkeeping; a page past the end shows the last one. */
export function pager(requested: number, total: number, pageSize: number): Pager {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(requested, pages);
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  return { page, pages, total, pageSize, first, last: Math.min(total, page * pageSize) };
}

/** An error as status and message, mapped as the REST API maps it (404 unknown DAG, 409 duplicate run, 400 bad input; a 500 shows its logged error id). */
export function problemOf(error: unknown, logger: Logger, req: Request): { status: number; message: string } {
  const problem = toProblem(error);
  if (problem.status >= 500) return { status: problem.status, message: `${problem.detail} (error id ${logServerError(logger, req, error)})` };
  return { status: problem.status, message: problem.detail };
}

/** Renders the error page for an error (status from the REST API's mapping). */
export function renderProblem(res: Response, req: Request, logger: Logger, error: unknown): void {
  const { status, message } = problemOf(error, logger, req);
  renderError(res, status, message);
}

/** The error page with a status. */
export function renderError(res: Response, status: number, message: string): void {
  res.status(status).render('error', { title: status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Cannot do this', message });
}

/** `/dags/<id>/...` with the id encoded. */
export function dagPath(dagId: string, rest = ''): string {
  return `/dags/${encodeURIComponent(dagId)}${rest}`;
}
