import type { NextFunction, Request, Response } from 'express';
import type { Knex } from 'knex';
import type { SerializedDag } from '../../core/serialize.ts';
import { type DagRow, getDagWithSerialized } from '../../db/models/dag.ts';
import { allows } from '../api/auth.ts';
import { sessionOf } from './session.ts';

/**
 * What the DAG page (dag.ts) and the task instance page (taskInstance.ts)
 * share: loading a DAG, links, the outcome message after an action, the
 * confirmation page, and rendering with a Server-Timing header.
 */

export type DagRowFull = DagRow & {
  description: string | null;
  schedule: SerializedDag['schedule'];
  timezone: string;
  max_active_runs: number | null;
  max_active_tasks: number | null;
  next_dagrun_data_interval_start: Date | null;
  next_dagrun_data_interval_end: Date | null;
  next_dagrun_create_after: Date | null;
};

/** The DAG row and its serialized form, or null when either is missing (not parsed yet, or deleted). */
export async function loadDag(knex: Knex, dagId: string): Promise<{ row: DagRowFull; dag: SerializedDag } | null> {
  const found = await getDagWithSerialized(knex, dagId);
  return found ? { row: found.row as DagRowFull, dag: found.dag } : null;
}

const enc = encodeURIComponent;

/** URLs of the DAG pages (every id percent-encoded). */
export const links = {
  dag: (dagId: string) => `/dags/${enc(dagId)}`,
  tab: (dagId: string, tab: string) => `/dags/${enc(dagId)}/${tab}`,
  run: (dagId: string, runId: string) => `/dags/${enc(dagId)}/runs/${enc(runId)}`,
  ti: (dagId: string, runId: string, taskId: string) => `/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}`,
};

export function canEdit(req: Request): boolean {
  const role = sessionOf(req).role;
  return Boolean(role && allows(role, 'editDags'));
}

/**
 * Outcomes shown after an action's redirect. The query carries only a code and
 * a count (never free text), so a crafted link cannot put words on the page.
 */
const OUTCOMES: Record<string, (n: number) => string> = {
  run_cleared: (n) => `Cleared ${n} task instance(s); the run is queued to run again.`,
  run_success: (n) => `Marked the run success (${n} task instance(s) changed).`,
  run_failed: (n) => `Marked the run failed (${n} task instance(s) changed).`,
  run_unchanged: () => 'The run already had that state; nothing changed.',
  ti_cleared: (n) => `Cleared ${n} task instance(s); the scheduler will run them again.`,
  ti_success: (n) => `Marked ${n} task instance(s) success.`,
  ti_failed: (n) => `Marked ${n} task instance(s) failed.`,
  ti_unchanged: () => 'No task instance could be changed (already in that state, or not allowed from its current state).',
  dag_running: () => 'The DAG has running task instances; wait for them or mark them first, then delete it.',
};

export function outcomeMessage(query: Request['query']): string | null {
  const code = typeof query.done === 'string' ? query.done : '';
  const format = Object.hasOwn(OUTCOMES, code) ? OUTCOMES[code] : undefined;
  if (!format) return null;
  const n = typeof query.count === 'string' && /^\d{1,7}$/.test(query.count) ? Number(query.count) : 0;
  return format(n);
}

/**
 * Where to go after an action: the form's return_to when it is one of this
 * DAG's pages (no open redirect), else `fallback`; with the outcome code added.
 */
export function redirectAfter(res: Response, body: Record<string, unknown>, dagId: string, fallback: string, done: string, count = 0): void {
  const given = typeof body.return_to === 'string' ? body.return_to : '';
  const prefix = `${links.dag(dagId)}/`;
  const target = given.startsWith(prefix) && !given.includes('\\') && !/[\r\n]/.test(given) ? given : fallback;
  const url = new URL(target, 'http://x');
  url.searchParams.set('done', done);
  url.searchParams.set('count', String(count));
  res.redirect(303, `${url.pathname}${url.search}${url.hash}`);
}

/** A form's checkbox or hidden flag. */
export function flag(value: unknown): boolean {
  return value === '1' || value === 'on' || value === 'true';
}

export interface ConfirmPage {
  title: string;
  /** What will happen, one sentence. */
  message: string;
  /** Where the confirmed form posts (the same action). */
  action: string;
  /** Fields to post again (besides _csrf and confirmed=1). */
  fields: Record<string, string>;
  /** Task instances (or other things) the action touches, when known. */
  items?: { label: string; state?: string | null }[];
  cancelHref: string;
  danger?: boolean;
  /** Ask to type this text (e.g. the DAG id) before the button works. */
  typeToConfirm?: { name: string; value: string; label: string };
  error?: string | null;
}

/** The confirmation step for a browser without JavaScript (and for the type-the-id delete). */
export function renderConfirm(res: Response, next: NextFunction, page: ConfirmPage): void {
  renderTimed(
    res,
    next,
    'dag/confirm',
    { ...page, items: page.items ?? [], danger: page.danger ?? false, typeToConfirm: page.typeToConfirm ?? null, error: page.error ?? null },
    process.hrtime.bigint(),
  );
}

/** Renders a view, adding `Server-Timing: app;dur=<ms>` measured from `started` (queries, model and template). */
export function renderTimed(res: Response, next: NextFunction, view: string, locals: Record<string, unknown>, started: bigint): void {
  res.render(view, locals, (error: Error | null, html: string) => {
    if (error) return next(error);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    res.setHeader('Server-Timing', `app;dur=${ms.toFixed(1)}`);
    res.send(html);
  });
}

export function notFoundPage(res: Response, message: string): void {
  res.status(404).render('error', { title: 'Not found', message });
}

/** Express handler wrapper: a rejected promise goes to `next` (express 5 does this too; kept explicit for the callbacks). */
export function page(handler: (req: Request, res: Response, next: NextFunction) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res, next).catch(next);
  };
}
