import type { Knex } from 'knex';
import type { SerializedDag } from '../../../../core/serialize.ts';
import type { TiState } from '../../../../core/state.ts';
import { dagExists } from '../../../../db/models/dag.ts';
import { findDagRun, latestDagRun } from '../../../../db/models/dagRun.ts';
import { taskInstanceCellsOfRuns } from '../../../../db/models/taskInstanceListing.ts';
import type { DagRunRow } from '../../../../db/rows.ts';
import { page, renderTimed } from '../../dagPageSupport.ts';
import { layoutGraph, stateCounts, type GraphLayout } from '../../graphSvg.ts';
import { isActiveRun, latestRuns, worstState } from '../../gridModel.ts';
import type { UiPages } from '../../router.ts';
import { expandedGroups, expandHref, groupsOf, toggledExpand } from '../../taskGroups.ts';
import { dagOr404 } from './dagHeader.ts';

/** The graph tab (tasks laid out by dagre, coloured by one run's states) and the JSON it polls while that run is active. */
export const graphTab: UiPages = (router, ctx) => {
  const { knex } = ctx;

  /** Layouts by DAG structure: dagre takes milliseconds per hundred tasks, and the structure rarely changes. */
  const layouts = new Map<string, GraphLayout>();
  function layoutOf(dag: SerializedDag, expanded: ReadonlySet<string>): GraphLayout {
    const shape = [dag.tasks.map((t) => [t.taskId, t.operator, t.downstreamTaskIds, Boolean(t.expandInput)]), dag.taskGroup ?? null, [...expanded].sort()];
    const key = `${dag.dagId}\u0000${JSON.stringify(shape)}`;
    let layout = layouts.get(key);
    if (!layout) {
      layout = layoutGraph(dag, groupsOf(dag), expanded);
      if (layouts.size >= 200) layouts.delete(layouts.keys().next().value!);
      layouts.set(key, layout);
    }
    return layout;
  }

  router.get(
    '/dags/:dagId/graph',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(knex, req, res, 'Graph');
      if (!loaded) return;
      const { run, states, mapped } = await graphStates(knex, loaded.dag.dagId, loaded.locals.selectedRunId as string | null);
      const recent = await latestRuns(knex, loaded.dag.dagId, 25);
      const choices = recent.reverse();
      if (run && !choices.some((r) => r.run_id === run.run_id)) choices.push(run);
      const groups = groupsOf(loaded.dag);
      const expanded = expandedGroups(loaded.dag, groups, req.query.expand);
      const layout = layoutOf(loaded.dag, expanded);
      // Plain links open and close groups, so the page works without JavaScript.
      const path = `/dags/${encodeURIComponent(loaded.dag.dagId)}/graph`;
      const toggleHref = Object.fromEntries(groups.map((g) => [g.groupId, expandHref(path, { run_id: run?.run_id }, toggledExpand(expanded, g.groupId))]));
      const counts = Object.fromEntries(layout.groups.filter((g) => g.collapsed).map((g) => [g.groupId, run ? stateCounts(g.taskIds, states) : []]));
      const expandParam = groups.length > 0 ? [...expanded].sort().join(',') : null;
      renderTimed(
        res,
        next,
        'dag/graph',
        { ...loaded.locals, layout, run, states, mapped, choices, active: run ? isActiveRun(run.state) : false, toggleHref, counts, expandParam },
        started,
      );
    }),
  );

  router.get(
    '/dags/:dagId/graph.json',
    page(async (req, res) => {
      const dagId = req.params.dagId as string;
      if (!(await dagExists(knex, dagId))) return void res.status(404).json({ error: 'DAG not found' });
      const { run, states, mapped } = await graphStates(knex, dagId, typeof req.query.run_id === 'string' ? req.query.run_id : null);
      res.setHeader('Cache-Control', 'no-store');
      res.json({ run: run ? { run_id: run.run_id, state: run.state } : null, active: run ? isActiveRun(run.state) : false, states, mapped });
    }),
  );
};

interface GraphStates {
  run: DagRunRow | null;
  /** Task id → state (a mapped task's worst). */
  states: Record<string, string>;
  /** Expanded mapped task id → how many instances it has in the run. */
  mapped: Record<string, number>;
}

/** The run shown (the one asked for, else the latest), its task instances' states by task id, and its mapped tasks' instance counts. */
async function graphStates(knex: Knex, dagId: string, runId: string | null): Promise<GraphStates> {
  const run = runId ? await findDagRun(knex, dagId, runId) : ((await latestDagRun(knex, dagId)) ?? null);
  if (!run) return { run: null, states: {}, mapped: {} };
  const tis = await taskInstanceCellsOfRuns(knex, dagId, [run.run_id]);
  // A mapped task's instances come one row per state: its node takes the most urgent, as its grid square does.
  const byTask = new Map<string, [TiState, ...TiState[]]>();
  const mapped: Record<string, number> = {};
  for (const ti of tis) {
    const states = byTask.get(ti.task_id);
    if (states) states.push(ti.state);
    else byTask.set(ti.task_id, [ti.state]);
    if (ti.mapped) mapped[ti.task_id] = (mapped[ti.task_id] ?? 0) + ti.count;
  }
  return { run, states: Object.fromEntries([...byTask].map(([taskId, states]) => [taskId, worstState(states) ?? 'none'])), mapped };
}
