import type { Request } from 'express';
import { fernetFor } from '../../../core/crypto/fernetKey.ts';
import { isFinished, type TiState } from '../../../core/state.ts';
import { loadSecretsMasker } from '../../../db/metastoreBackend.ts';
import { findDagRun } from '../../../db/models/dagRun.ts';
import { renderedFieldsOf } from '../../../db/models/renderedTaskInstanceFields.ts';
import { nextPokeDate } from '../../../db/models/taskReschedule.ts';
import { deferralsOf } from '../../../db/models/trigger.ts';
import { mappedTaskInstancesPage } from '../../../db/models/mappedTaskInstances.ts';
import { findTaskInstance, taskInstanceExists } from '../../../db/models/taskInstanceListing.ts';
import { xcomsOfTaskInstance } from '../../../db/models/xcom.ts';
import { decodeLogToken, encodeLogToken, readTryLog } from '../../../logging/taskLogReader.ts';
import { clearTaskInstances } from '../../../services/clearTaskInstances.ts';
import { markTaskInstances } from '../../../services/markTaskInstances.ts';
import { operatorExtraLinks } from '../../operatorExtraLinks.ts';
import { canEdit, flag, links, loadDag, notFoundPage, outcomeMessage, page, redirectAfter, renderConfirm, renderTimed } from '../dagPageSupport.ts';
import { requireUiPermission, type UiPages } from '../router.ts';
import { pageNumber, pager } from './listShared.ts';

/**
 * The task instance page, /dags/{dag_id}/runs/{run_id}/tasks/{task_id} (map
 * index -1, or ?map_index=N for one instance of a mapped task; for an expanded
 * mapped task without it, the list of its mapped instances): the instance's state and timing, its task's template fields as
 * rendered by its last try (or as written, before it ran), its XComs, and
 * the log of each try, followed live while the task is queued or running
 * (static/dag.js polls log.json with a continuation token). Clear and mark
 * actions for User or higher, through services/: on one mapped instance's page
 * they act on that instance, on a mapped task's list on all its instances.
 */

const MAP_INDEX = -1;

/** States in which the latest try's log may still grow: the page keeps following it. */
const FOLLOW_STATES: ReadonlySet<TiState> = new Set<TiState>(['queued', 'running', 'scheduled', 'restarting', 'deferred', 'up_for_reschedule']);

export function followsLog(state: TiState): boolean {
  return FOLLOW_STATES.has(state);
}

function tiKey(req: Request, mapIndex = MAP_INDEX) {
  const { dagId, runId, taskId } = req.params as { dagId: string; runId: string; taskId: string };
  return { dagId, runId, taskId, mapIndex };
}

/** ?map_index=N: -1 (the default) or a mapped instance's index; null for anything else. */
export function parseMapIndex(value: unknown): number | null {
  if (value === undefined) return MAP_INDEX;
  return typeof value === 'string' && /^(-1|\d{1,6})$/.test(value) ? Number(value) : null;
}

/** Mapped instances per page of the list (a task may have up to core.maxMapLength). */
export const MAPPED_PAGE_SIZE = 100;

/** A task instance page's address: ?map_index=N for one mapped instance. */
function tiHref(key: { dagId: string; runId: string; taskId: string; mapIndex: number }): string {
  return `${links.ti(key.dagId, key.runId, key.taskId)}${key.mapIndex >= 0 ? `?map_index=${key.mapIndex}` : ''}`;
}

/** `task [2]` for a mapped instance, the task id otherwise. */
function tiLabel(ti: { task_id: string; map_index: number }): string {
  return ti.map_index >= 0 ? `${ti.task_id} [${ti.map_index}]` : ti.task_id;
}

function parseTry(value: unknown, latest: number): number {
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : latest;
  return Math.min(Math.max(n, 1), Math.max(latest, 1));
}

/** A template field's value as shown: strings as they are, anything else as indented JSON. */
function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? String(value));
}

export const taskInstancePages: UiPages = (router, ctx) => {
  const { knex, config, logger } = ctx;
  const editDags = requireUiPermission('editDags');

  /**
   * What clear and mark act on: the addressed instance (one map index), or, for an expanded mapped
   * task addressed without one (its list page), all its instances; null when there is none.
   */
  async function actionTarget(key: ReturnType<typeof tiKey>): Promise<{ mapIndex?: number } | null> {
    if (await findTaskInstance(knex, key)) return { mapIndex: key.mapIndex };
    if (key.mapIndex === MAP_INDEX && (await taskInstanceExists(knex, key))) return {};
    return null;
  }

  router.get(
    '/dags/:dagId/runs/:runId/tasks/:taskId',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const mapIndex = parseMapIndex(req.query.map_index);
      if (mapIndex === null) return void res.status(400).render('error', { title: 'Bad request', message: 'map_index must be -1 or a map index (0 or more).' });
      const key = tiKey(req, mapIndex);
      const [found, ti] = await Promise.all([loadDag(knex, key.dagId), findTaskInstance(knex, key)]);
      if (found && !ti && mapIndex === MAP_INDEX) {
        // An expanded mapped task has no map index -1 instance: list its instances, as Airflow's "Mapped tasks" tab.
        const requested = pageNumber(req.query.page);
        let mapped = await mappedTaskInstancesPage(knex, key, MAPPED_PAGE_SIZE, (requested - 1) * MAPPED_PAGE_SIZE);
        if (mapped.total > 0) {
          const shown = pager(requested, mapped.total, MAPPED_PAGE_SIZE);
          // A page past the end shows the last one.
          if (shown.page !== requested) mapped = await mappedTaskInstancesPage(knex, key, MAPPED_PAGE_SIZE, (shown.page - 1) * MAPPED_PAGE_SIZE);
          const run = await findDagRun(knex, key.dagId, key.runId);
          const here = links.ti(key.dagId, key.runId, key.taskId);
          return renderTimed(
            res,
            next,
            'mappedTaskInstances',
            {
              title: `${key.taskId} · ${key.runId}`,
              styles: ['/static/dag.css'],
              scripts: ['/static/dag.js'],
              links,
              dagId: key.dagId,
              runId: key.runId,
              taskId: key.taskId,
              run,
              mapped,
              page: shown,
              pageHref: (n: number) => `${here}?page=${n}`,
              canEdit: canEdit(req),
              message: outcomeMessage(req.query),
            },
            started,
          );
        }
      }
      if (!found || !ti) return notFoundPage(res, `No task instance '${key.taskId}' in run '${key.runId}' of DAG '${key.dagId}'.`);
      const run = await findDagRun(knex, key.dagId, key.runId);
      const task = found.dag.tasks.find((t) => t.taskId === key.taskId) ?? null;
      const xcoms = await xcomsOfTaskInstance(knex, key);
      // XCom values with secrets as *** (ADR 0008); the masker is only loaded when there is something to show.
      const masker = xcoms.length > 0 ? await loadSecretsMasker(knex, fernetFor(config, logger)) : null;
      const latestTry = ti.try_number;
      const tryNumber = parseTry(req.query.try, latestTry);
      let log = { content: '', token: encodeLogToken(0), missing: true };
      if (latestTry > 0) {
        const read = await readTryLog(config, logger, { ...key, tryNumber }, 0);
        if (read) log = { content: read.content, token: encodeLogToken(read.next), missing: read.next === 0 };
      }
      // Rendered values when the runner stored them (Airflow's rendered_task_instance_fields), else the fields as written.
      const rendered = await renderedFieldsOf(knex, key);
      // A reschedule-mode sensor between pokes: when it pokes next (ADR 0019).
      const nextPokeAt = ti.state === 'up_for_reschedule' ? await nextPokeDate(knex, ti.id, ti.try_number) : null;
      // A deferred task: what its trigger waits for and which triggerer holds it (ADR 0020).
      const deferral = ti.state === 'deferred' ? ((await deferralsOf(knex, [ti])).get(ti.id) ?? null) : null;
      const templateFields = task ? task.templateFields.map((name) => ({ name, value: fieldText(rendered ? rendered[name] : task.fields[name]) })) : [];
      renderTimed(
        res,
        next,
        'taskInstance',
        {
          title: `${key.taskId} · ${key.runId}`,
          styles: ['/static/dag.css'],
          scripts: ['/static/dag.js'],
          links,
          dagId: key.dagId,
          runId: key.runId,
          taskId: key.taskId,
          mapIndex,
          ti,
          nextPokeAt,
          deferral,
          extraLinks: operatorExtraLinks(task, xcoms, rendered),
          run,
          task,
          templateFields,
          templateFieldsRendered: rendered !== null,
          xcoms: xcoms.map((x) => ({ key: x.key, value: JSON.stringify(masker!.redact(x.value), null, 2) ?? 'null', timestamp: x.timestamp })),
          tries: Array.from({ length: latestTry }, (_, i) => i + 1),
          tryNumber,
          log,
          following: tryNumber === latestTry && followsLog(ti.state),
          canEdit: canEdit(req),
          message: outcomeMessage(req.query),
          currentUrl: req.originalUrl,
        },
        started,
      );
    }),
  );

  /** The log poll: what was written to the try's log since `token`, and the task instance's state. */
  router.get(
    '/dags/:dagId/runs/:runId/tasks/:taskId/log.json',
    page(async (req, res) => {
      const mapIndex = parseMapIndex(req.query.map_index);
      if (mapIndex === null) return void res.status(400).json({ error: 'map_index must be -1 or a map index (0 or more)' });
      const key = tiKey(req, mapIndex);
      const ti = await findTaskInstance(knex, key);
      if (!ti) return void res.status(404).json({ error: 'Task instance not found' });
      const offset = decodeLogToken(typeof req.query.token === 'string' ? req.query.token : undefined);
      if (offset === null) return void res.status(400).json({ error: 'token is not a continuation token from this endpoint' });
      const tryNumber = parseTry(req.query.try, ti.try_number);
      const read = (ti.try_number > 0 ? await readTryLog(config, logger, { ...key, tryNumber }, offset) : null) ?? { content: '', next: offset };
      res.setHeader('Cache-Control', 'no-store');
      res.json({
        content: read.content,
        continuation_token: encodeLogToken(read.next),
        state: ti.state ?? 'none',
        try_number: ti.try_number,
        finished: isFinished(ti.state) || !(tryNumber === ti.try_number && followsLog(ti.state)),
      });
    }),
  );

  /** Clear the task instance (optionally with everything downstream / upstream of it in this run). */
  router.post(
    '/dags/:dagId/runs/:runId/tasks/:taskId/clear',
    editDags,
    page(async (req, res, next) => {
      const body = req.body as Record<string, unknown>;
      const mapIndex = parseMapIndex(body.map_index);
      // A garbled map index is refused, never read as "no map index" (which means all instances of a mapped task).
      if (mapIndex === null) return void res.status(400).render('error', { title: 'Bad request', message: 'map_index must be -1 or a map index (0 or more).' });
      const key = tiKey(req, mapIndex);
      const [found, target] = await Promise.all([loadDag(knex, key.dagId), actionTarget(key)]);
      if (!found || !target) return notFoundPage(res, `No task instance '${key.taskId}' in run '${key.runId}' of DAG '${key.dagId}'.`);
      const downstream = flag(body.downstream);
      const upstream = flag(body.upstream);
      const request = { dag: found.dag, runIds: [key.runId], taskIds: [key.taskId], ...target, downstream, upstream, now: ctx.now() };
      const here = tiHref(key);
      if (!flag(body.confirmed)) {
        const tis = await clearTaskInstances(knex, { ...request, dryRun: true });
        const fields: Record<string, string> = {};
        if (key.mapIndex >= 0) fields.map_index = String(key.mapIndex);
        if (downstream) fields.downstream = '1';
        if (upstream) fields.upstream = '1';
        return renderConfirm(res, next, {
          title: 'Clear task instance',
          message: `Clear ${tis.length} task instance(s) of run ${key.runId}: they go back to none and the scheduler runs them again.`,
          action: `${links.ti(key.dagId, key.runId, key.taskId)}/clear`,
          fields,
          items: tis.sort((a, b) => a.task_id.localeCompare(b.task_id) || a.map_index - b.map_index).map((t) => ({ label: tiLabel(t), state: t.state })),
          cancelHref: here,
        });
      }
      const cleared = await clearTaskInstances(knex, request);
      redirectAfter(res, {}, key.dagId, here, 'ti_cleared', cleared.filter((ti) => ti.state !== null).length);
    }),
  );

  /** Mark success or failed (optionally with its downstream / upstream tasks in this run). */
  router.post(
    '/dags/:dagId/runs/:runId/tasks/:taskId/mark',
    editDags,
    page(async (req, res, next) => {
      const body = req.body as Record<string, unknown>;
      const mapIndex = parseMapIndex(body.map_index);
      // A garbled map index is refused, never read as "no map index" (which means all instances of a mapped task).
      if (mapIndex === null) return void res.status(400).render('error', { title: 'Bad request', message: 'map_index must be -1 or a map index (0 or more).' });
      const key = tiKey(req, mapIndex);
      const state = body.state === 'success' || body.state === 'failed' ? body.state : null;
      if (!state) return void res.status(400).render('error', { title: 'Bad request', message: 'state must be success or failed.' });
      const found = await loadDag(knex, key.dagId);
      const run = found && (await findDagRun(knex, key.dagId, key.runId));
      const target = run && (await actionTarget(key));
      if (!found || !run || !target) return notFoundPage(res, `No task instance '${key.taskId}' in run '${key.runId}' of DAG '${key.dagId}'.`);
      const downstream = flag(body.downstream);
      const upstream = flag(body.upstream);
      const request = { dag: found.dag, run, taskIds: [key.taskId], ...target, downstream, upstream, state, now: ctx.now() } as const;
      const here = tiHref(key);
      if (!flag(body.confirmed)) {
        const tis = await markTaskInstances(knex, { ...request, dryRun: true });
        const fields: Record<string, string> = { state };
        if (key.mapIndex >= 0) fields.map_index = String(key.mapIndex);
        if (downstream) fields.downstream = '1';
        if (upstream) fields.upstream = '1';
        return renderConfirm(res, next, {
          title: `Mark ${state}`,
          message: tis.length
            ? `Mark ${tis.length} task instance(s) of run ${key.runId} ${state}.`
            : `No task instance can be marked ${state} (already ${state}, or not allowed from its state).`,
          action: `${links.ti(key.dagId, key.runId, key.taskId)}/mark`,
          fields,
          items: tis.map((t) => ({ label: tiLabel(t), state: t.state })),
          cancelHref: here,
          danger: state === 'failed',
        });
      }
      const marked = await markTaskInstances(knex, { ...request, dryRun: false });
      redirectAfter(res, {}, key.dagId, here, marked.length ? `ti_${state}` : 'ti_unchanged', marked.length);
    }),
  );
};
