import { dagRunsPage, findDagRun } from '../../../../db/models/dagRun.ts';
import { clearTaskInstances } from '../../../../services/clearTaskInstances.ts';
import { setDagRunState } from '../../../../services/setDagRunState.ts';
import { flag, links, loadDag, notFoundPage, page, redirectAfter, renderConfirm, renderTimed } from '../../dagPageSupport.ts';
import { runDuration } from '../../gridModel.ts';
import { requireUiPermission, type UiPages } from '../../router.ts';
import { dagOr404 } from './dagHeader.ts';

const RUNS_PER_PAGE = 50;

/** The runs tab (every run, newest first, paged) and the run actions: clear and mark (User or higher, each confirmed first). */
export const runsTab: UiPages = (router, ctx) => {
  const { knex } = ctx;
  const editDags = requireUiPermission('editDags');

  router.get(
    '/dags/:dagId/runs',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(knex, req, res, 'Runs');
      if (!loaded) return;
      const offset = typeof req.query.offset === 'string' && /^\d{1,7}$/.test(req.query.offset) ? Number(req.query.offset) : 0;
      const { runs, total } = await dagRunsPage(knex, loaded.dag.dagId, RUNS_PER_PAGE, offset);
      const now = ctx.now();
      renderTimed(
        res,
        next,
        'dag/runs',
        { ...loaded.locals, runs: runs.map((r) => ({ ...r, duration: runDuration(r, now) })), total, offset, perPage: RUNS_PER_PAGE },
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
};
