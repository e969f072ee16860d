import type { Request } from 'express';
import type { Knex } from 'knex';
import { activeDagTags, countDagsByPaused, dagListRows, setPaused } from '../../../db/models/dag.ts';
import { dagRunSummaries } from '../../../db/models/dagRun.ts';
import { listImportErrors } from '../../../db/models/importError.ts';
import { requireUiPermission, type UiPages } from '../router.ts';
import { can, dagPath, pageNumber, pager, problemOf, queryText, queryTexts, renderError } from './listShared.ts';

/** Airflow's page size for the DAGs list. */
export const DAG_LIST_PAGE_SIZE = 25;
/** The "recent tasks" counters cover the task instances of this many latest runs per DAG. */
export const RECENT_RUNS = 5;

/** Task states in the order the counters show them (Airflow's order, 'none' for not yet scheduled). */
const TASK_STATE_ORDER = [
  'success',
  'running',
  'failed',
  'upstream_failed',
  'skipped',
  'up_for_retry',
  'up_for_reschedule',
  'queued',
  'scheduled',
  'deferred',
  'restarting',
  'removed',
  'none',
];

type Status = 'all' | 'active' | 'paused';

interface ListFilters {
  search: string;
  tags: string[];
  status: Status;
  page: number;
}

function filtersOf(req: Request): ListFilters {
  const status = queryText(req.query.status);
  return {
    search: queryText(req.query.search),
    tags: queryTexts(req.query.tags, 100),
    status: status === 'active' || status === 'paused' ? status : 'all',
    page: pageNumber(req.query.page),
  };
}

/** The list's URL with some filters changed (tags repeat as Airflow's tags=a&tags=b). */
function listHref(filters: ListFilters, changes: Partial<ListFilters> = {}): string {
  const f = { ...filters, ...changes };
  const q = new URLSearchParams();
  if (f.search) q.set('search', f.search);
  for (const tag of f.tags) q.append('tags', tag);
  if (f.status !== 'all') q.set('status', f.status);
  if (f.page > 1) q.set('page', String(f.page));
  const s = q.toString();
  return s ? `/?${s}` : '/';
}

interface RunSummary {
  run_id: string;
  state: string;
  logical_date: Date;
  start_date: Date | null;
}

/** The latest run of each DAG and its task-state counts over the last RECENT_RUNS runs. */
async function runSummaries(knex: Knex, dagIds: string[]) {
  const lastRun = new Map<string, RunSummary>();
  const taskCounts = new Map<string, { state: string; count: number }[]>();
  if (dagIds.length === 0) return { lastRun, taskCounts };
  const { latest, taskCounts: counted } = await dagRunSummaries(knex, dagIds, RECENT_RUNS);
  for (const row of latest) lastRun.set(row.dag_id, row);
  for (const row of counted) {
    const list = taskCounts.get(row.dag_id) ?? [];
    list.push({ state: row.state, count: row.count });
    taskCounts.set(row.dag_id, list);
  }
  const rank = (s: string) => TASK_STATE_ORDER.indexOf(s) + 1 || TASK_STATE_ORDER.length + 1;
  for (const list of taskCounts.values()) list.sort((a, b) => rank(a.state) - rank(b.state));
  return { lastRun, taskCounts };
}

/** `is_paused` from a form ('true'/'false') or a JSON body (boolean). */
function pausedFrom(body: unknown): boolean | null {
  const value = (body as { is_paused?: unknown } | undefined)?.is_paused;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return null;
}

/**
 * The DAGs page (`/`): every active DAG with its pause toggle, owner, tags,
 * schedule, last and next run and recent task states; filters by name, tag
 * and paused state; Airflow's 25 per page; import errors as a banner.
 * `POST /dags/:dag_id/paused` pauses or unpauses through setPaused (the
 * API's and CLI's rule): JSON for app.js's fetch, a redirect for the plain form.
 */
export const dagListPages: UiPages = (router, { knex, logger }) => {
  router.get('/', async (req, res) => {
    const filters = filtersOf(req);
    const base = { tags: filters.tags, onlyActive: true, pattern: filters.search || undefined };
    const counts: Record<Status, number> = await countDagsByPaused(knex, base);
    const paused = filters.status === 'all' ? undefined : filters.status === 'paused';
    const page = pager(filters.page, counts[filters.status], DAG_LIST_PAGE_SIZE);
    filters.page = page.page;
    const dags = await dagListRows(knex, { ...base, paused }, DAG_LIST_PAGE_SIZE, (page.page - 1) * DAG_LIST_PAGE_SIZE);
    const { lastRun, taskCounts } = await runSummaries(
      knex,
      dags.map((d: { dag_id: string }) => d.dag_id),
    );
    const allTags = await activeDagTags(knex);
    const importErrors = await listImportErrors(knex);
    const returnTo = new URL(req.originalUrl, 'http://x').search.slice(1);
    res.render('dags', {
      title: 'DAGs',
      dags,
      lastRun,
      taskCounts,
      counts,
      page,
      filters,
      allTags,
      importErrors,
      returnTo,
      recentRuns: RECENT_RUNS,
      canEdit: can(req, 'editDags'),
      href: (changes: Partial<ListFilters>) => listHref(filters, changes),
      dagPath,
    });
  });

  router.post('/dags/:dag_id/paused', requireUiPermission('editDags'), async (req, res) => {
    const wantsJson = req.is('application/json') === 'application/json' || req.accepts(['html', 'json']) === 'json';
    const dagId = req.params.dag_id as string;
    const paused = pausedFrom(req.body);
    try {
      if (paused === null) {
        if (wantsJson) res.status(400).json({ error: 'is_paused must be true or false' });
        else renderError(res, 400, 'is_paused must be true or false');
        return;
      }
      await setPaused(knex, dagId, paused); // the CLI's and REST API's rule (and its scheduler wake-up); unknown DAG: 404
      if (wantsJson) {
        res.json({ dag_id: dagId, is_paused: paused });
        return;
      }
      // Back to the list as it was (only a query string of ours is carried: no open redirect).
      const back = new URLSearchParams(typeof req.body?.return_to === 'string' ? req.body.return_to : '').toString();
      res.redirect(303, back ? `/?${back}` : '/');
    } catch (error) {
      const { status, message } = problemOf(error, logger, req);
      if (wantsJson) res.status(status).json({ error: message });
      else renderError(res, status, message);
    }
  });
};
