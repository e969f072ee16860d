/**
 * Renders an operator's template fields with nunjucks, which reads Jinja
 * syntax, so templates written for Airflow work: `{{ ds }}`,
 * `{{ params.x }}`, `{{ var.value.y }}`, `{{ macros.ds_add(ds, 1) }}`,
 * `{{ ti.xcom_pull(task_ids='extract') }}`. String templates only: no
 * template files, no includes.
 */
import nunjucks from 'nunjucks';
import type { BaseOperator } from './baseOperator.ts';
import { TemplateRenderError } from './errors.ts';
import { DATE_FILTERS } from './macros.ts';
import type { TaskContext, XComPullArgs } from './taskContext.ts';
import { isPlainObject } from './xcomArg.ts';

// Jinja habits: True/False/None, dict.items(), list slices. This patches the nunjucks module, which only templates use.
nunjucks.installJinjaCompat();
installPythonStringMethods();

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
for (const [name, filter] of Object.entries(DATE_FILTERS)) env.addFilter(name, filter);
// Jinja's tojson, which nunjucks calls dump.
env.addFilter('tojson', (value: unknown, indent?: number) => JSON.stringify(value, null, indent));

// XCom pulls are async but rendering is not, so fields are rendered in passes:
// a pull not fetched yet renders as undefined and is fetched before the next pass.
const MAX_PASSES = 5;

/**
 * The task's template fields rendered for this run, by field name. Strings
 * are rendered, also inside plain arrays and objects (keys stay as written);
 * other values are passed through. The operator is not changed.
 */
export async function renderTemplateFields(task: BaseOperator, context: TaskContext): Promise<Record<string, unknown>> {
  const fetched = new Map<string, unknown>();
  for (let pass = 1; ; pass++) {
    const wanted = new Map<string, XComPullArgs>();
    const xcomPull = (...args: unknown[]) => {
      const request = xcomPullArgs(args);
      const key = JSON.stringify(request);
      if (fetched.has(key)) return fetched.get(key);
      wanted.set(key, request);
      return undefined;
    };
    const ti = { ...templateTi(context), xcom_pull: xcomPull, xcomPull };
    const templateContext = { ...context, ti, task_instance: ti, taskInstance: ti };

    let rendered: Record<string, unknown> | undefined;
    let error: unknown;
    try {
      const fields = task as unknown as Record<string, unknown>;
      rendered = Object.fromEntries(task.templateFields.map((field) => [field, renderValue(fields[field], templateContext, task, field)]));
    } catch (err) {
      error = err;
    }
    if (wanted.size === 0) {
      if (error !== undefined) throw error;
      return rendered as Record<string, unknown>;
    }
    if (pass === MAX_PASSES) {
      throw new TemplateRenderError(
        task.dag.dagId,
        task.taskId,
        task.templateFields.join(', '),
        `xcom_pull calls depend on each other more than ${MAX_PASSES} levels deep`,
      );
    }
    await Promise.all([...wanted].map(async ([key, request]) => fetched.set(key, await context.ti.xcomPull(request))));
  }
}

/**
 * One template rendered with a callback's context (notifiers): as renderTemplateFields, but without XCom
 * pulls (they are asynchronous) and with Airflow's snake_case names of `ti`.
 */
export function renderTemplateText(source: string, context: TaskContext): string {
  if (!source.includes('{')) return source;
  const ti = templateTi(context);
  try {
    return new nunjucks.Template(source, env, undefined, true).render({ ...context, ti, task_instance: ti, taskInstance: ti });
  } catch (err) {
    const reason = String((err as Error).message ?? err)
      .replace(/^\(unknown path\)\s*/, '')
      .replace(/\s*\n\s*/g, ' ');
    throw new TemplateRenderError(context.dag.dagId, context.ti.taskId, 'notifier template', reason, { cause: err });
  }
}

function renderValue(value: unknown, context: object, task: BaseOperator, field: string): unknown {
  if (typeof value === 'string') return renderString(value, context, task, field);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, context, task, field));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, context, task, field)]));
  return value;
}

function renderString(source: string, context: object, task: BaseOperator, field: string): string {
  if (!source.includes('{')) return source; // nothing to render; skips the compile
  try {
    return new nunjucks.Template(source, env, undefined, true).render(context);
  } catch (err) {
    // nunjucks prefixes '(unknown path)' since string templates have no file name.
    const reason = String((err as Error).message ?? err)
      .replace(/^\(unknown path\)\s*/, '')
      .replace(/\s*\n\s*/g, ' ');
    throw new TemplateRenderError(task.dag.dagId, task.taskId, field, reason, { cause: err });
  }
}

/** `xcom_pull('a')`, `xcom_pull(['a', 'b'])`, `xcom_pull(task_ids='a', key='k', dag_id='d', map_indexes=[0, 1], default='-')` (nunjucks passes keywords as a last object). */
function xcomPullArgs(args: unknown[]): XComPullArgs {
  const last = args[args.length - 1];
  const keywords = isPlainObject(last) ? last : {};
  const positional = isPlainObject(last) ? args.slice(0, -1) : args;
  const taskIds = (keywords.task_ids ?? keywords.taskIds ?? positional[0]) as string | string[] | undefined;
  const key = (keywords.key ?? positional[1]) as string | undefined;
  const dagId = (keywords.dag_id ?? keywords.dagId) as string | undefined;
  const mapIndexes = (keywords.map_indexes ?? keywords.mapIndexes) as number | number[] | undefined;
  return {
    ...(taskIds != null && { taskIds }),
    ...(key != null && { key }),
    ...(dagId != null && { dagId }),
    ...(mapIndexes != null && { mapIndexes }),
    ...(keywords.default !== undefined && { default: keywords.default }),
  };
}

/**
 * Python's str methods where JavaScript's differ or are missing, so
 * `{{ ds.replace('-', '') }}` replaces every match, as in Jinja.
 */
function installPythonStringMethods(): void {
  const runtime = (nunjucks as unknown as { runtime: { memberLookup: (obj: unknown, name: unknown, ...rest: unknown[]) => unknown } }).runtime;
  const methods: Record<string, (s: string, ...args: string[]) => unknown> = {
    replace: (s, old = '', replacement = '') => s.split(old).join(replacement),
    startswith: (s, prefix = '') => s.startsWith(prefix),
    endswith: (s, suffix = '') => s.endsWith(suffix),
    strip: (s) => s.trim(),
    lstrip: (s) => s.trimStart(),
    rstrip: (s) => s.trimEnd(),
  };
  const original = runtime.memberLookup;
  runtime.memberLookup = function memberLookup(obj, name, ...rest) {
    const method = typeof obj === 'string' && typeof name === 'string' ? methods[name] : undefined;
    return method ? (...args: string[]) => method(obj as string, ...args) : original.call(this, obj, name, ...rest);
  };
}

/** The task instance as templates see it: ours plus Airflow's snake_case names (`{{ ti.task_id }}`). */
function templateTi(context: TaskContext) {
  const { ti } = context;
  return { ...ti, dag_id: ti.dagId, task_id: ti.taskId, run_id: ti.runId, map_index: ti.mapIndex, try_number: ti.tryNumber };
}
