import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { resolveConfig } from '../../config/resolveConfig.ts';
import type { ResolvedConfig } from '../../config/schema.ts';
import { memoryLogger } from '../../core/logger.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { createDagFileProcessor } from '../../scheduler/dagProcessing/createDagFileProcessor.ts';
import { runBackfillJob } from '../../scheduler/backfillJob.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';

/** A config for tests: a temp AIRFLOW_HOME and dags folder, the test database, fast heartbeats. */
export async function testConfig(dagsFolder: string, databaseUrl: string, env: Record<string, string> = {}): Promise<ResolvedConfig> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
  chmodSync(home, 0o755);
  return resolveConfig({
    cwd: home,
    env: {
      AIRFLOW_HOME: home,
      AIRFLOW__CORE__DAGS_FOLDER: dagsFolder,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
      AIRFLOW__DATABASE__URL: databaseUrl,
      AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC: '0.2',
      AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.05',
      ...env,
    },
  });
}

/** Parses the dags folder into the database (what the DAG processor does). */
export async function parseDags(config: ResolvedConfig, knex: Knex): Promise<void> {
  const processor = createDagFileProcessor(config, knex, memoryLogger());
  try {
    const outcomes = await processor.processAll();
    const errors = outcomes.filter((o) => o.kind === 'import_error');
    if (errors.length) throw new Error(`import errors: ${errors.map((e) => e.message).join('\n')}`);
  } finally {
    await processor.stop();
  }
}

/** Triggers a run and drives it to the end in this process (like `airflow dags test`). */
export async function runDagInProcess(config: ResolvedConfig, knex: Knex, dagId: string, conf: Record<string, unknown> = {}) {
  const run = await triggerDagRun(knex, { dagId, conf, now: new Date() });
  const logger = memoryLogger();
  const [finished] = await runBackfillJob({
    knex,
    config,
    executor: new InProcessExecutor({ knex, config, logger }),
    logger,
    dagId,
    runIds: [run.run_id],
    ignorePause: true,
    pollMs: 20,
  });
  const tis = await knex('task_instance').where({ dag_id: dagId, run_id: run.run_id }).orderBy('task_id');
  return { run: finished!, states: Object.fromEntries(tis.map((t: { task_id: string; state: string }) => [t.task_id, t.state])), tis };
}
