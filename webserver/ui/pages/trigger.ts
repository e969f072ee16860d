import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import type { SerializedParam } from '../../../core/param.ts';
import { dagFlags } from '../../../db/models/dag.ts';
import { getSerializedDag } from '../../../db/models/serializedDag.ts';
import { triggerDagRun } from '../../../services/triggerDagRun.ts';
import type { ApiContext } from '../../api/defineRoute.ts';
import { badRequest } from '../../api/problems.ts';
import { triggerBody } from '../../api/schemas/dagRuns.ts';
import { requireUiPermission, type UiPages } from '../router.ts';
import { dagPath, problemOf, renderError, renderProblem } from './listShared.ts';

/** One param as the trigger form describes it. */
export interface ParamDescription {
  name: string;
  title: string | null;
  description: string | null;
  /** 'string', 'integer | null', or 'any'. */
  type: string;
  required: boolean;
  /** The default as JSON text ('' when there is none). */
  defaultJson: string;
  /** Human-readable schema constraints: 'one of "a", "b"', '≥ 1', 'length ≤ 20', 'matches ^x$'. */
  constraints: string[];
}

const json = (value: unknown) => JSON.stringify(value) ?? String(value);

/** Describes a DAG param from its serialized form `{ default, schema, description }`. */
export function describeParam(name: string, param: SerializedParam): ParamDescription {
  const schema = param.schema ?? {};
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const constraints: string[] = [];
  if (Array.isArray(schema.enum)) constraints.push(`one of ${schema.enum.map(json).join(', ')}`);
  const { minimum, maximum, minLength, maxLength, pattern } = schema as Record<string, unknown>;
  if (minimum !== undefined && maximum !== undefined) constraints.push(`${json(minimum)} to ${json(maximum)}`);
  else if (minimum !== undefined) constraints.push(`≥ ${json(minimum)}`);
  else if (maximum !== undefined) constraints.push(`≤ ${json(maximum)}`);
  if (minLength !== undefined && maxLength !== undefined) constraints.push(`length ${json(minLength)} to ${json(maxLength)}`);
  else if (minLength !== undefined) constraints.push(`length ≥ ${json(minLength)}`);
  else if (maxLength !== undefined) constraints.push(`length ≤ ${json(maxLength)}`);
  if (typeof pattern === 'string') constraints.push(`matches ${pattern}`);
  return {
    name,
    title: typeof schema.title === 'string' ? schema.title : null,
    description: param.description ?? null,
    type: types.length ? types.map(String).join(' | ') : 'any',
    required: !('default' in param),
    defaultJson: 'default' in param ? JSON.stringify(param.default) : '',
    constraints,
  };
}

/** Params by name (jsonb does not keep the order they were declared in). */
function sortedParams(params: Record<string, SerializedParam> | undefined): [string, SerializedParam][] {
  return Object.entries(params ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The conf the form starts with: every param's default. */
function defaultConf(params: Record<string, SerializedParam>): string {
  const conf = Object.fromEntries(
    sortedParams(params)
      .filter(([, p]) => 'default' in p)
      .map(([name, p]) => [name, p.default]),
  );
  return JSON.stringify(conf, null, 2);
}

/** A form field as a string ('' when absent). */
const field = (body: unknown, name: string): string => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** The conf text as a JSON object, or a 400 saying why not. */
function parseConf(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let conf: unknown;
  try {
    conf = JSON.parse(text);
  } catch (error) {
    throw badRequest(`conf is not valid JSON: ${(error as Error).message}`);
  }
  if (conf === null || typeof conf !== 'object' || Array.isArray(conf)) throw badRequest('conf must be a JSON object, like {"name": "value"}');
  return conf as Record<string, unknown>;
}

async function renderForm(
  res: Response,
  knex: Knex,
  dagId: string,
  form: { conf?: string; logicalDate?: string; runId?: string; error?: string | null; status?: number },
): Promise<void> {
  const dag = await getSerializedDag(knex, dagId); // DagNotFoundError: 404
  const row = await dagFlags(knex, dagId);
  const params = sortedParams(dag.params).map(([name, p]) => describeParam(name, p));
  res.status(form.status ?? 200).render('trigger', {
    title: `Trigger ${dagId}`,
    dag,
    isPaused: row?.is_paused ?? false,
    isActive: row?.is_active ?? true,
    params,
    required: params.filter((p) => p.required).map((p) => p.name),
    confText: form.conf ?? defaultConf(dag.params ?? {}),
    logicalDate: form.logicalDate ?? '',
    runId: form.runId ?? '',
    error: form.error ?? null,
    dagPath,
  });
}

/**
 * The trigger form (`/dags/:dag_id/trigger`, User role or higher): conf as a
 * JSON editor pre-filled from the params' defaults, each param described,
 * an optional logical date and run id. The POST goes through the REST API's
 * request schema and services/triggerDagRun.ts (conf checked against the
 * params); a bad request re-renders the form with the error and the text
 * entered (400; 409 for a duplicate run), success redirects to the grid.
 */
export const triggerPages: UiPages = (router, ctx: ApiContext) => {
  const { knex, logger, now } = ctx;

  router.get('/dags/:dag_id/trigger', requireUiPermission('editDags'), async (req: Request, res: Response) => {
    try {
      await renderForm(res, knex, req.params.dag_id as string, {});
    } catch (error) {
      renderProblem(res, req, logger, error);
    }
  });

  router.post('/dags/:dag_id/trigger', requireUiPermission('editDags'), async (req: Request, res: Response) => {
    const dagId = req.params.dag_id as string;
    const entered = { conf: field(req.body, 'conf'), logicalDate: field(req.body, 'logical_date').trim(), runId: field(req.body, 'run_id').trim() };
    try {
      const body = triggerBody.parse({
        conf: parseConf(entered.conf),
        dag_run_id: entered.runId || undefined,
        logical_date: entered.logicalDate || undefined,
      });
      const run = await triggerDagRun(knex, {
        dagId,
        runId: body.dag_run_id ?? undefined,
        logicalDate: body.logical_date ?? undefined,
        conf: body.conf ?? {},
        now: now(),
      });
      res.redirect(303, `${dagPath(dagId, '/grid')}?run_id=${encodeURIComponent(run.run_id)}`);
    } catch (error) {
      const { status, message } = problemOf(error, logger, req);
      if (status === 404 || status >= 500) {
        renderError(res, status, message);
        return;
      }
      try {
        await renderForm(res, knex, dagId, { ...entered, error: message, status });
      } catch (inner) {
        renderProblem(res, req, logger, inner);
      }
    }
  });
};
