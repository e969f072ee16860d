import { findDagRun } from '../../../../db/models/dagRun.ts';
import { loadDag, page, renderTimed } from '../../dagPageSupport.ts';
import { gridJson, gridRunOf, loadGrid, parseNumRuns } from '../../gridModel.ts';
import type { UiPages } from '../../router.ts';
import { expandedGroups, expandHref, groupsOf, toggledExpand } from '../../taskGroups.ts';
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
      const groups = groupsOf(loaded.dag);
      const expanded = expandedGroups(loaded.dag, groups, req.query.expand);
      const grid = await loadGrid(knex, loaded.dag, numRuns, ctx.now(), { groups, expanded });
      const selectedRunId = loaded.locals.selectedRunId as string | null;
      // Plain links open and close a group's rows, keeping the runs shown and the run selected.
      const keep = { num_runs: loaded.locals.numRunsGiven ? numRuns : null, run_id: selectedRunId };
      const path = `/dags/${encodeURIComponent(loaded.dag.dagId)}/grid`;
      const toggleHref = Object.fromEntries(groups.map((g) => [g.groupId, expandHref(path, keep, toggledExpand(expanded, g.groupId))]));
      const expandParam = groups.length > 0 ? [...expanded].sort().join(',') : null;
      let selected = grid.runs.find((r) => r.runId === selectedRunId) ?? null;
      if (!selected && selectedRunId) {
        const run = await findDagRun(knex, loaded.dag.dagId, selectedRunId);
        if (run) selected = gridRunOf(run, ctx.now());
      }
      const counts: Record<string, number> = {};
      for (const r of grid.runs) counts[r.state] = (counts[r.state] ?? 0) + 1;
      const view = req.query.fragment === '1' ? 'dag/_grid' : 'dag/grid';
      renderTimed(res, next, view, { ...loaded.locals, grid, selected, counts, expandParam, toggleHref }, started);
    }),
  );

  router.get(
    '/dags/:dagId/grid.json',
    page(async (req, res) => {
      const found = await loadDag(knex, req.params.dagId as string);
      if (!found) return void res.status(404).json({ error: 'DAG not found' });
      const groups = groupsOf(found.dag);
      const view = { groups, expanded: expandedGroups(found.dag, groups, req.query.expand) };
      const grid = await loadGrid(knex, found.dag, parseNumRuns(req.query.num_runs), ctx.now(), view);
      res.setHeader('Cache-Control', 'no-store');
      res.json(gridJson(grid));
    }),
  );
};
