import type { Argv } from 'yargs';
import type { Knex } from 'knex';
import { dagRunIds, findDagRunAt, getDagRun } from '../../db/models/dagRun.ts';
import { parseIsoDate } from '../../core/isoDate.ts';
import { getSerializedDag } from '../../db/models/serializedDag.ts';
import { dagFromDatabaseOrFiles } from '../dagFromDatabaseOrFiles.ts';
import { taskInstancesOfRun } from '../../db/models/taskInstance.ts';
import { taskInstanceExists, taskInstanceFields, taskInstanceState } from '../../db/models/taskInstanceListing.ts';
import { onlyStates } from '../../services/clearScope.ts';
import { clearTaskInstances } from '../../services/clearTaskInstances.ts';
import { taskGroupTree } from '../dagGraphText.ts';
import { outputOption, printRows } from '../output.ts';
import { parseCliDate } from '../parseDate.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { taskRunCommands } from './taskRun.ts';

const TI_COLUMNS = ['dag_id', 'run_id', 'task_id', 'map_index', 'state', 'try_number', 'start_date', 'end_date', 'duration'];

/** Airflow's execution_date_or_run_id: a run id, else the logical date of one of the DAG's runs. */
async function runIdOf(knex: Knex, dagId: string, value: string, timeZone: string): Promise<string> {
  if (await getDagRun(knex, dagId, value)) return value;
  const date = parseIsoDate(value, timeZone);
  const run = date ? await findDagRunAt(knex, dagId, date) : undefined;
  if (!run) throw new Error(`DAG '${dagId}' has no run with run id or logical date '${value}'`);
  return run.run_id;
}

/** `airflow tasks ...` commands that read or clear state; run/test are in taskRun.ts. */
export function taskCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return taskRunCommands(yargs)
    .command(
      'list <dag_id>',
      'List the tasks of a DAG',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .option('output', outputOption)
          .option('tree', { alias: 't', type: 'boolean', default: false, describe: 'Print the task groups as a tree, their tasks under them' }),
      (args) =>
        withRuntime(args, async (runtime) => {
          const dag = await dagFromDatabaseOrFiles(runtime, args.dag_id);
          if (args.tree) return void process.stdout.write(taskGroupTree(dag));
          printRows(
            dag.tasks.map((t) => ({
              task_id: t.taskId,
              task_group: t.taskGroupId ?? null,
              operator: t.operator,
              // A mapped task (expand(), or a task of a mapped group) runs as N instances decided at run time.
              mapped: t.expandInput !== undefined,
              upstream_task_ids: t.upstreamTaskIds,
              trigger_rule: t.triggerRule,
              retries: t.retries,
              pool: t.pool,
            })),
            args.output,
          );
        }),
    )
    .command(
      'state <dag_id> <task_id> <execution_date_or_run_id>',
      'Print the state of a task instance (of one map index of a mapped task with --map-index)',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .positional('task_id', { type: 'string', demandOption: true })
          .positional('execution_date_or_run_id', { type: 'string', demandOption: true, describe: 'A run id, or the logical date of a run' })
          .option('map-index', { type: 'number', default: -1, describe: 'The map index of a mapped task instance (-1: not mapped)' }),
      (args) =>
        withRuntime(args, async ({ db, config }) => {
          const { knex } = await db();
          const runId = await runIdOf(knex, args.dag_id, args.execution_date_or_run_id, config.core.defaultTimezone);
          const key = { dagId: args.dag_id, runId, taskId: args.task_id, mapIndex: args.mapIndex };
          const ti = await taskInstanceState(knex, key);
          if (ti) return void console.log(ti.state ?? 'None');
          const expanded = args.mapIndex === -1 && (await taskInstanceExists(knex, key));
          if (expanded) throw new Error(`${args.dag_id}.${args.task_id} is mapped in run '${runId}': give the instance with --map-index N`);
          throw new Error(`No task instance ${args.dag_id}.${args.task_id} in run '${runId}'${args.mapIndex === -1 ? '' : ` with map index ${args.mapIndex}`}`);
        }),
    )
    .command(
      'states-for-dag-run <dag_id> <run_id>',
      'List the task instances of a dag run with their states',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .positional('run_id', { type: 'string', demandOption: true })
          .option('output', outputOption),
      (args) =>
        withRuntime(args, async ({ db }) => {
          const { knex } = await db();
          if (!(await getDagRun(knex, args.dag_id, args.run_id))) throw new Error(`DAG '${args.dag_id}' has no run '${args.run_id}'`);
          printRows((await taskInstancesOfRun(knex, args.dag_id, args.run_id)).map(taskInstanceFields), args.output, TI_COLUMNS);
        }),
    )
    .command(
      'clear <dag_id>',
      'Clear task instances so they run again',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .option('task-regex', { alias: 't', type: 'string', describe: 'Only tasks whose id matches this regular expression' })
          .option('start-date', { alias: 's', type: 'string', describe: 'Only runs with logical date >= this' })
          .option('end-date', { alias: 'e', type: 'string', describe: 'Only runs with logical date <= this' })
          .option('run-id', { type: 'string', describe: 'Only this run' })
          .option('only-failed', { alias: 'f', type: 'boolean', default: false })
          .option('downstream', { alias: 'd', type: 'boolean', default: false })
          .option('upstream', { alias: 'u', type: 'boolean', default: false })
          .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask; without it, only list what would be cleared' }),
      (args) =>
        withRuntime(args, async ({ db, config }) => {
          const { knex } = await db();
          const dag = await getSerializedDag(knex, args.dag_id);
          let regex: RegExp | null = null;
          if (args.taskRegex) {
            try {
              regex = new RegExp(args.taskRegex);
            } catch (error) {
              throw new Error(`--task-regex: ${(error as Error).message}`, { cause: error });
            }
          }
          const runIds = await dagRunIds(knex, args.dag_id, {
            runId: args.runId,
            logicalDate: {
              gte: args.startDate ? parseCliDate(args.startDate, '--start-date', config.core.defaultTimezone) : undefined,
              lte: args.endDate ? parseCliDate(args.endDate, '--end-date', config.core.defaultTimezone) : undefined,
            },
          });
          const taskIds = dag.tasks.map((t) => t.taskId).filter((id) => !regex || regex.test(id));
          const request = {
            dag,
            runIds,
            taskIds,
            downstream: args.downstream,
            upstream: args.upstream,
            onlyStates: onlyStates({ onlyFailed: args.onlyFailed, onlyRunning: false }),
            now: new Date(),
          };
          const tis = await clearTaskInstances(knex, { ...request, dryRun: !args.yes });
          for (const ti of tis) console.log(`${args.yes ? 'Cleared' : 'Would clear'}: ${ti.dag_id}.${ti.task_id} ${ti.run_id} (${ti.state ?? 'None'})`);
          if (!args.yes && tis.length) console.log(`\n${tis.length} task instance(s) would be cleared; run again with --yes to clear them.`);
          if (tis.length === 0) console.log('Nothing to clear.');
        }),
    );
}
