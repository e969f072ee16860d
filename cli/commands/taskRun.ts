import type { Argv } from 'yargs';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { refuseSignalsToParent } from '../../core/parentGuard.ts';
import { maskOnRead, secretsMasker } from '../../core/secretsMasker.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import { buildTaskContext } from '../../core/taskContext.ts';
import { loadVariablesAndConnections } from '../../db/metastoreBackend.ts';
import { findDagRunAt } from '../../db/models/dagRun.ts';
import { dagFromDatabaseOrFiles } from '../dagFromDatabaseOrFiles.ts';
import { xcomsOfTasks } from '../../db/models/xcom.ts';
import { executeTask } from '../../runner/executeTask.ts';
import { loadTask } from '../../runner/loadTask.ts';
import { maskProcessOutput } from '../../runner/maskProcessOutput.ts';
import { runTaskInstance } from '../../runner/runTaskInstance.ts';
import { parseCliDate } from '../parseDate.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

/** `airflow tasks run` (what executors launch) and `airflow tasks test` (try a task without recording anything). */
export function taskRunCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs
    .command(
      'run <dag_id> <task_id> <run_id>',
      'Run one try of a queued task instance and record its outcome (executors call this)',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .positional('task_id', { type: 'string', demandOption: true })
          .positional('run_id', { type: 'string', demandOption: true })
          .option('map-index', { type: 'number', default: -1 }),
      async (args) => {
        maskProcessOutput(); // a task process: what its code prints must not show the secrets it read
        refuseSignalsToParent(); // its parent is the scheduler (or a worker): task code must not stop it (ADR 0012)
        const outcome = await withRuntime(args, async (runtime) =>
          runTaskInstance({
            knex: (await runtime.db()).knex,
            config: runtime.config,
            logger: runtime.logger,
            dagId: args.dag_id,
            taskId: args.task_id,
            runId: args.run_id,
            mapIndex: args.mapIndex,
          }),
        );
        // Exit now: task code that ignored its abort signal (e.g. after a timeout) must not keep the process alive.
        process.exit(outcome === 'failed' || outcome === 'up_for_retry' ? 1 : 0);
      },
    )
    .command(
      'test <dag_id> <task_id> [logical_date]',
      'Run a task in this process without recording state, printing its log; XComs of an existing run at that date are readable',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .positional('task_id', { type: 'string', demandOption: true })
          .positional('logical_date', { type: 'string', describe: 'Default: now' })
          .option('map-index', { type: 'number', default: -1, describe: "A mapped task's map index: runs it on that element" }),
      (args) =>
        withRuntime(args, async (runtime) => {
          const { db, config, logger } = runtime;
          maskProcessOutput(); // the task's own prints, as in a real run
          const { knex } = await db();
          const serialized: SerializedDag = await dagFromDatabaseOrFiles(runtime, args.dag_id);
          const { dag, task } = await loadTask(serialized.fileloc, args.dag_id, args.task_id);
          const logicalDate = args.logical_date ? parseCliDate(args.logical_date, 'logical_date', config.core.defaultTimezone) : new Date();
          const run = await findDagRunAt(knex, args.dag_id, logicalDate);
          const pushed = new Map<string, unknown>();
          const abort = new AbortController();
          const context = buildTaskContext({
            dag,
            task,
            dagRun: {
              runId: run?.run_id ?? `manual__${logicalDate.toISOString()}`,
              runType: 'manual',
              conf: run?.conf ?? {},
              logicalDate,
              dataIntervalStart: run?.data_interval_start ?? logicalDate,
              dataIntervalEnd: run?.data_interval_end ?? logicalDate,
            },
            tryNumber: 1,
            mapIndex: args.mapIndex,
            xcom: {
              pull: async ({ taskIds, key, mapIndexes }) => (run ? xcomsOfTasks(knex, run.id, taskIds, key, mapIndexes) : []),
              push: async (key, value) => void pushed.set(key, value),
            },
            ...(await loadVariablesAndConnections(knex, fernetFor(config, logger), maskOnRead(secretsMasker))),
            testMode: true,
            log: (line) => console.log(secretsMasker.mask(line)),
            signal: abort.signal,
          });
          const result = await executeTask(task, context, abort);
          for (const [key, value] of pushed) console.log(`XCom ${key}: ${JSON.stringify(secretsMasker.redact(value))}`);
          console.log(
            `Task ${args.dag_id}.${args.task_id} succeeded; returned ${JSON.stringify(secretsMasker.redact(result)) ?? 'nothing'} (nothing was recorded)`,
          );
        }),
    );
}
