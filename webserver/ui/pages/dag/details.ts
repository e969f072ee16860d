import { DagHasRunningTasksError, DagNotFoundError } from '../../../../core/errors.ts';
import { timetableOf } from '../../../../core/nextDagRun.ts';
import type { SerializedDag } from '../../../../core/serialize.ts';
import { dagExists } from '../../../../db/models/dag.ts';
import { deleteDagMetadata } from '../../../../services/deleteDag.ts';
import type { ApiContext } from '../../../api/defineRoute.ts';
import { links, notFoundPage, page, redirectAfter, renderConfirm, renderTimed, type DagRowFull } from '../../dagPageSupport.ts';
import { requireUiPermission, type UiPages } from '../../router.ts';
import { dagOr404 } from './dagHeader.ts';

/** The details tab (the DAG's settings) and the delete-DAG action (User or higher; the typed DAG id confirms it). */
export const detailsTab: UiPages = (router, ctx) => {
  const { knex } = ctx;
  const editDags = requireUiPermission('editDags');

  router.get(
    '/dags/:dagId/details',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(knex, req, res, 'Details');
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
      if (!(await dagExists(knex, dagId))) return notFoundPage(res, `DAG '${dagId}' not found.`);
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
