import { page, renderTimed } from '../../dagPageSupport.ts';
import { runDurationChart, taskDurationChart } from '../../durationChart.ts';
import { loadGrid } from '../../gridModel.ts';
import type { UiPages } from '../../router.ts';
import { dagOr404 } from './dagHeader.ts';

/** The durations tab: run and task durations of the latest runs, as charts. */
export const durationsTab: UiPages = (router, ctx) => {
  const { knex } = ctx;

  router.get(
    '/dags/:dagId/durations',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(knex, req, res, 'Durations');
      if (!loaded) return;
      const grid = await loadGrid(knex, loaded.dag, loaded.locals.numRuns as number, ctx.now());
      renderTimed(res, next, 'dag/durations', { ...loaded.locals, grid, runChart: runDurationChart(grid), taskChart: taskDurationChart(grid) }, started);
    }),
  );
};
