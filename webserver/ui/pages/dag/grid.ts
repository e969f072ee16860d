import { findDagRun } from '../../../../db/models/dagRun.ts';
import { loadDag, page, renderTimed } from '../../dagPageSupport.ts';
import { gridJson, gridRunOf, loadGrid, parseNumRuns } from '../../gridModel.ts';
import type { UiPages } from '../../router.ts';
import { dagOr404 } from './dagHeader.ts';

/** The grid tab (runs × tasks) and the JSON it polls while a run is active. */
export const gridTab: UiPages = (router, ctx) => {
  const { knex } = ctx;

  router.get(
    '/dags/:dagId/grid',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(knex, req, res, 'Grid');
      if (!loaded) return;
      const numRuns = loaded.locals.numRuns as number;
      const grid = await loadGrid(knex, loaded.dag, numRuns, ctx.now());
      const selectedRunId = loaded.locals.selectedRunId as string | null;
      let selected = grid.runs.find((r) => r.runId === selectedRunId) ?? null;
      if (!selected && selectedRunId) {
        const run = await findDagRun(knex, loaded.dag.dagId, selectedRunId);
        if (run) selected = gridRunOf(run, ctx.now());
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
};
