import type { Request, Response } from 'express';
import hljs from 'highlight.js/lib/core';
import typescript from 'highlight.js/lib/languages/typescript';
import { DagHasRunningTasksError, DagNotFoundError } from '../../../core/errors.ts';
import { timetableOf } from '../../../core/nextDagRun.ts';
import type { SerializedDag } from '../../../core/serialize.ts';
import { findDagRun } from '../../../db/apiQueries.ts';
import type { DagRunRow } from '../../../db/rows.ts';
import { clearTaskInstances } from '../../../services/clearTaskInstances.ts';
import { deleteDagMetadata } from '../../../services/deleteDag.ts';
import { setDagRunState } from '../../../services/setDagRunState.ts';
import type { ApiContext } from '../../api/defineRoute.ts';
import {
  canEdit,
  flag,
  links,
  loadDag,
  notFoundPage,
  outcomeMessage,
  page,
  redirectAfter,
  renderConfirm,
  renderTimed,
  type DagRowFull,
} from '../dagPageSupport.ts';
import { runDurationChart, taskDurationChart } from '../durationChart.ts';
import { layoutGraph, type GraphLayout } from '../graphSvg.ts';
import { gridJson, isActiveRun, latestRuns, loadGrid, parseNumRuns, runDuration, taskInstancesOfRuns } from '../gridModel.ts';
import { requireUiPermission, type UiPages } from '../router.ts';

hljs.registerLanguage('typescript', typescript);

/**
 * The DAG page: tabs grid, graph, runs, code, details and durations at
 * /dags/{dag_id}/{tab} (readable by every role), the JSON the grid and graph
 * poll while a run is active, and the run and DAG actions (User or higher;
 * each asks for confirmation, and every rule is a services/ function).
 */
export const dagPages: UiPages = (router, ctx) => {
  const { knex, config } = ctx;
  const editDags = requireUiPermission('editDags');

  /** Loads the DAG or answers 404; the locals every tab's header needs. */
  async function dagOr404(req: Request, res: Response, tab: string): Promise<{ row: DagRowFull; dag: SerializedDag; locals: Record<string, unknown> } | null> {
    const dagId = String(req.params.dagId);
    const found = await loadDag(knex, dagId);
    if (!found) {
      notFoundPage(res, `DAG '${dagId}' not found (not parsed yet, or deleted).`);
      return null;
    }
    const numRuns = parseNumRuns(req.query.num_runs);
    const runId = typeof req.query.run_id === 'string' && req.query.run_id ? req.query.run_id : null;
    return {
      ...found,
      locals: {
        title: `${dagId} · ${tab}`,
        styles: ['/static/dag.css'],
        scripts: ['/static/dag.js'],
        dagRow: found.row,
        dag: found.dag,
        dagId,
        tab,
        links,
        numRuns,
        numRunsGiven: typeof req.query.num_runs === 'string',
        selectedRunId: runId,
        canEdit: canEdit(req),
        message: outcomeMessage(req.query),
        currentUrl: req.originalUrl,
      },
    };
  }

  router.get('/dags/:dagId', (req, res) => res.redirect(links.tab(req.params.dagId, 'grid')));

  // ------------------------------------------------------------------ grid

  router.get(
    '/dags/:dagId/grid',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(req, res, 'Grid');
      if (!loaded) return;
      const numRuns = loaded.locals.numRuns as number;
      const grid = await loadGrid(knex, loaded.dag, numRuns, ctx.now());
      const selectedRunId = loaded.locals.selectedRunId as string | null;
      let selected = grid.runs.find((r) => r.runId === selectedRunId) ?? null;
      if (!selected && selectedRunId) {
        const run = await findDagRun(knex, loaded.dag.dagId, selectedRunId);
        if (run)
          selected = {
            runId: run.run_id,
            state: run.state,
            runType: run.run_type,
            logicalDate: run.logical_date,
            dataIntervalStart: run.data_interval_start,
            dataIntervalEnd: run.data_interval_end,
            startDate: run.start_date,
            endDate: run.end_date,
            duration: runDuration(run, ctx.now()),
            conf: run.conf,
          };
      }
      const counts: Record<string, number> = {};
      for (const r of grid.runs) counts[r.state] = (counts[r.state] ?? 0) + 1;
      const view = req.query.fragment === '1' ? 'dag/_grid' : 'dag/grid';
      renderTimed(res, next, view, { ...loaded.locals, grid, selected, counts }, started);
    }),
  );

  router.get(
    '/dags/:dagId/grid.json',
    page(async (req, res) => {
      const found = await loadDag(knex, req.params.dagId as string);
      if (!found) return void res.status(404).json({ error: 'DAG not found' });
      const grid = await loadGrid(knex, found.dag, parseNumRuns(req.query.num_runs), ctx.now());
      res.setHeader('Cache-Control', 'no-store');
      res.json(gridJson(grid));
    }),
  );

  // ------------------------------------------------------------------ graph

  /** Layouts by DAG structure: dagre takes milliseconds per hundred tasks, and the structure rarely changes. */
  const layouts = new Map<string, GraphLayout>();
  function layoutOf(dag: SerializedDag): GraphLayout {
    const key = `${dag.dagId}\u0000${JSON.stringify(dag.tasks.map((t) => [t.taskId, t.operator, t.downstreamTaskIds]))}`;
    let layout = layouts.get(key);
    if (!layout) {
      layout = layoutGraph(dag);
      if (layouts.size >= 200) layouts.delete(layouts.keys().next().value!);
      layouts.set(key, layout);
    }
    return layout;
  }

  async function graphStates(dagId: string, runId: string | null): Promise<{ run: DagRunRow | null; states: Record<string, string> }> {
    const run = runId
      ? await findDagRun(knex, dagId, runId)
      : ((await knex<DagRunRow>('dag_run').where('dag_id', dagId).orderBy('logical_date', 'desc').first()) ?? null);
    if (!run) return { run: null, states: {} };
    const tis = await taskInstancesOfRuns(knex, dagId, [run.run_id]);
    return { run, states: Object.fromEntries(tis.map((ti) => [ti.task_id, ti.state ?? 'none'])) };
  }

  router.get(
    '/dags/:dagId/graph',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(req, res, 'Graph');
      if (!loaded) return;
      const { run, states } = await graphStates(loaded.dag.dagId, loaded.locals.selectedRunId as string | null);
      const recent = await latestRuns(knex, loaded.dag.dagId, 25);
      const choices = recent.reverse();
      if (run && !choices.some((r) => r.run_id === run.run_id)) choices.push(run);
      const layout = layoutOf(loaded.dag);
      renderTimed(res, next, 'dag/graph', { ...loaded.locals, layout, run, states, choices, active: run ? isActiveRun(run.state) : false }, started);
    }),
  );

  router.get(
    '/dags/:dagId/graph.json',
    page(async (req, res) => {
      const dagId = req.params.dagId as string;
      if (!(await knex('dag').where('dag_id', dagId).first('dag_id'))) return void res.status(404).json({ error: 'DAG not found' });
      const { run, states } = await graphStates(dagId, typeof req.query.run_id === 'string' ? req.query.run_id : null);
      res.setHeader('Cache-Control', 'no-store');
      res.json({ run: run ? { run_id: run.run_id, state: run.state } : null, active: run ? isActiveRun(run.state) : false, states });
    }),
  );

  // ------------------------------------------------------------------ runs

  const RUNS_PER_PAGE = 50;

  router.get(
    '/dags/:dagId/runs',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(req, res, 'Runs');
      if (!loaded) return;
      const offset = typeof req.query.offset === 'string' && /^\d{1,7}$/.test(req.query.offset) ? Number(req.query.offset) : 0;
      const [counted] = await knex('dag_run').where('dag_id', loaded.dag.dagId).count({ n: '*' });
      const runs: DagRunRow[] = await knex<DagRunRow>('dag_run')
        .where('dag_id', loaded.dag.dagId)
        .orderBy('logical_date', 'desc')
        .limit(RUNS_PER_PAGE)
        .offset(offset);
      const now = ctx.now();
      renderTimed(
        res,
        next,
        'dag/runs',
        { ...loaded.locals, runs: runs.map((r) => ({ ...r, duration: runDuration(r, now) })), total: Number(counted?.n ?? 0), offset, perPage: RUNS_PER_PAGE },
        started,
      );
    }),
  );

  router.get('/dags/:dagId/runs/:runId', (req, res) => res.redirect(`${links.tab(req.params.dagId, 'grid')}?run_id=${encodeURIComponent(req.params.runId)}`));

  /** Clear a whole run (every task instance goes back to none; the run is queued again). */
  router.post(
    '/dags/:dagId/runs/:runId/clear',
    editDags,
    page(async (req, res, next) => {
      const { dagId, runId } = req.params as { dagId: string; runId: string };
      const found = await loadDag(knex, dagId);
      const run = found && (await findDagRun(knex, dagId, runId));
      if (!found || !run) return notFoundPage(res, `DAG '${dagId}' has no run '${runId}'.`);
      const body = req.body as Record<string, unknown>;
      const request = { dag: found.dag, runIds: [run.run_id], taskIds: found.dag.tasks.map((t) => t.taskId), now: ctx.now() };
      if (!flag(body.confirmed)) {
        const tis = await clearTaskInstances(knex, { ...request, dryRun: true });
        return renderConfirm(res, next, {
          title: 'Clear run',
          message: `Clear run ${run.run_id}: its ${tis.length} task instance(s) go back to none and the run is queued to run again.`,
          action: `${links.run(dagId, runId)}/clear`,
          fields: { return_to: String(body.return_to ?? '') },
          items: tis.sort((a, b) => a.task_id.localeCompare(b.task_id)).map((ti) => ({ label: ti.task_id, state: ti.state })),
          cancelHref: `${links.tab(dagId, 'runs')}`,
        });
      }
      const cleared = await clearTaskInstances(knex, request);
      redirectAfter(res, body, dagId, links.tab(dagId, 'runs'), 'run_cleared', cleared.filter((ti) => ti.state !== null).length);
    }),
  );

  /** Mark a run success or failed (services/setDagRunState.ts decides what happens to its task instances). */
  router.post(
    '/dags/:dagId/runs/:runId/mark',
    editDags,
    page(async (req, res, next) => {
      const { dagId, runId } = req.params as { dagId: string; runId: string };
      const body = req.body as Record<string, unknown>;
      const state = body.state === 'success' || body.state === 'failed' ? body.state : null;
      if (!state) return void res.status(400).render('error', { title: 'Bad request', message: 'state must be success or failed.' });
      const found = await loadDag(knex, dagId);
      const run = found && (await findDagRun(knex, dagId, runId));
      if (!found || !run) return notFoundPage(res, `DAG '${dagId}' has no run '${runId}'.`);
      if (!flag(body.confirmed)) {
        return renderConfirm(res, next, {
          title: `Mark run ${state}`,
          message:
            state === 'success'
              ? `Mark run ${run.run_id} success: its unfinished task instances are set to success.`
              : `Mark run ${run.run_id} failed: its running task instances are set to failed and the other unfinished ones to skipped.`,
          action: `${links.run(dagId, runId)}/mark`,
          fields: { state, return_to: String(body.return_to ?? '') },
          cancelHref: links.tab(dagId, 'runs'),
          danger: state === 'failed',
        });
      }
      const result = await setDagRunState(knex, { dagId, runId, state, dag: found.dag, now: ctx.now() });
      if (!result) return notFoundPage(res, `DAG '${dagId}' has no run '${runId}'.`);
      const changed = run.state === state ? 'run_unchanged' : `run_${state}`;
      redirectAfter(res, body, dagId, links.tab(dagId, 'runs'), changed, result.changed.length);
    }),
  );

  // ------------------------------------------------------------------ code

  router.get(
    '/dags/:dagId/code',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(req, res, 'Code');
      if (!loaded) return;
      const code: { source_code: string; last_updated: Date } | undefined = await knex('dag_code')
        .where('fileloc', loaded.row.fileloc)
        .first('source_code', 'last_updated');
      // highlight.js escapes every character of the source it does not wrap in its own <span class="hljs-…"> tags.
      const highlighted = code ? hljs.highlight(code.source_code, { language: 'typescript', ignoreIllegals: true }).value : null;
      const lineCount = code ? code.source_code.replace(/\n$/, '').split('\n').length : 0;
      renderTimed(res, next, 'dag/code', { ...loaded.locals, code, highlighted, lineCount }, started);
    }),
  );

  // ------------------------------------------------------------------ details

  router.get(
    '/dags/:dagId/details',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(req, res, 'Details');
      if (!loaded) return;
      renderTimed(res, next, 'dag/details', { ...loaded.locals, details: detailsOf(loaded.row, loaded.dag, ctx) }, started);
    }),
  );

  /** Delete the DAG's metadata; the typed DAG id is the explicit confirmation. */
  router.post(
    '/dags/:dagId/delete',
    editDags,
    page(async (req, res, next) => {
      const dagId = req.params.dagId as string;
      const body = req.body as Record<string, unknown>;
      if (!(await knex('dag').where('dag_id', dagId).first('dag_id'))) return notFoundPage(res, `DAG '${dagId}' not found.`);
      if (body.confirm_dag_id !== dagId) {
        return renderConfirm(res, next, {
          title: 'Delete DAG',
          message: `Delete every run, task instance, XCom and audit entry of DAG ${dagId}. The DAG file stays: the scheduler parses it again and the DAG comes back without history.`,
          action: `${links.dag(dagId)}/delete`,
          fields: {},
          cancelHref: links.tab(dagId, 'details'),
          danger: true,
          typeToConfirm: { name: 'confirm_dag_id', value: dagId, label: 'Type the DAG id to confirm' },
          error: body.confirm_dag_id !== undefined ? 'The DAG id typed does not match.' : null,
        });
      }
      try {
        await deleteDagMetadata(knex, dagId);
      } catch (error) {
        if (error instanceof DagHasRunningTasksError) return redirectAfter(res, {}, dagId, links.tab(dagId, 'details'), 'dag_running');
        if (error instanceof DagNotFoundError) return notFoundPage(res, error.message);
        throw error;
      }
      res.redirect(303, `/?deleted=${encodeURIComponent(dagId)}`);
    }),
  );

  // ------------------------------------------------------------------ durations

  router.get(
    '/dags/:dagId/durations',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(req, res, 'Durations');
      if (!loaded) return;
      const grid = await loadGrid(knex, loaded.dag, loaded.locals.numRuns as number, ctx.now());
      renderTimed(res, next, 'dag/durations', { ...loaded.locals, grid, runChart: runDurationChart(grid), taskChart: taskDurationChart(grid) }, started);
    }),
  );
};

/** The details tab's rows: the DAG's settings, with the configuration's defaults where the DAG sets none. */
function detailsOf(row: DagRowFull, dag: SerializedDag, ctx: ApiContext) {
  let timetable = '—';
  try {
    const t = timetableOf(dag);
    timetable = `${t.constructor.name} (${t.summary})`;
  } catch {
    // A schedule this version cannot read: shown as the raw schedule only.
  }
  const ms = (value: number | null) => (value === null ? null : value / 1000);
  return {
    schedule: row.timetable_summary ?? (dag.schedule === null ? 'None' : JSON.stringify(dag.schedule)),
    timetable,
    timezone: dag.timezone,
    nextRun: row.next_dagrun,
    nextInterval: [row.next_dagrun_data_interval_start, row.next_dagrun_data_interval_end] as const,
    nextCreateAfter: row.next_dagrun_create_after,
    fileloc: row.fileloc,
    owners: dag.owners,
    tags: dag.tags,
    description: dag.description,
    doc: dag.doc,
    maxActiveRuns: dag.maxActiveRuns ?? ctx.config.core.maxActiveRunsPerDag,
    maxActiveRunsDefault: dag.maxActiveRuns === null,
    maxActiveTasks: dag.maxActiveTasks ?? ctx.config.core.maxActiveTasksPerDag,
    maxActiveTasksDefault: dag.maxActiveTasks === null,
    catchup: dag.catchup ?? ctx.config.scheduler.catchupByDefault,
    catchupDefault: dag.catchup === null,
    startDate: dag.startDate,
    endDate: dag.endDate,
    dagrunTimeout: ms(dag.dagrunTimeoutMs),
    paused: row.is_paused,
    active: row.is_active,
    lastParsed: row.last_parsed_time,
    params: Object.entries(dag.params).map(([name, p]) => ({
      name,
      value: p.default === undefined ? null : JSON.stringify(p.default, null, 2),
      required: p.default === undefined,
      description: p.description ?? null,
      schema: JSON.stringify(p.schema),
    })),
    tasks: dag.tasks,
  };
}
