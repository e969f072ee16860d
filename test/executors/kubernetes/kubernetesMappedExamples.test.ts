import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { setPaused } from '../../../db/models/dag.ts';
import { triggerDagRun } from '../../../services/triggerDagRun.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { tempDagsFolder } from '../../helpers/dagsFolder.ts';
import { eventually } from '../../helpers/eventually.ts';
import { AIRFLOW_BIN, IMAGE, startFakeCluster } from '../../kubernetes/fakeCluster.ts';

/**
 * The mapping and task-group example DAGs under a real `airflow scheduler` with the KubernetesExecutor, against
 * the fake API server: both runs succeed and every task instance that ran, mapped ones included, had exactly one
 * pod of its own, named uniquely, carrying its map index in the `tasks run` args and (mapped ones) a map_index label.
 */

const EXAMPLES = ['example_dynamic_mapping', 'example_task_groups', 'example_mapped_task_groups', 'example_mapped_operators'];
const db = await createTestDatabase();
const { home, fake, kubeconfig } = await startFakeCluster();
const dags = tempDagsFolder();
for (const dagId of EXAMPLES) copyFileSync(fileURLToPath(new URL(`../../../dags/${dagId}.ts`, import.meta.url)), path.join(dags, `${dagId}.ts`));

let scheduler: ChildProcess | null = null;
afterAll(async () => {
  if (scheduler && scheduler.exitCode === null && scheduler.signalCode === null) {
    const exited = new Promise((resolve) => scheduler!.once('exit', resolve));
    scheduler.kill('SIGTERM');
    await exited;
  }
});

function startScheduler(): ChildProcess {
  const pods = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: dags, AIRFLOW__CORE__LOAD_EXAMPLES: 'false' };
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...pods,
    AIRFLOW__CORE__EXECUTOR: 'KubernetesExecutor',
    AIRFLOW__KUBERNETES__CONFIG_FILE: kubeconfig,
    AIRFLOW__KUBERNETES__NAMESPACE: 'airflow',
    AIRFLOW__KUBERNETES__WORKER_CONTAINER_IMAGE: IMAGE,
    AIRFLOW__KUBERNETES__ENV: JSON.stringify(pods),
    AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.2',
    AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.1',
  };
  const child = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], { cwd: home, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  child.once('exit', (code, signal) => {
    if (code) console.error(`scheduler exited with ${code ?? signal}: ${stderr}`);
  });
  return child;
}

async function finishedState(dagId: string, runId: string): Promise<string | undefined> {
  const row = await db.knex('dag_run').where({ dag_id: dagId, run_id: runId }).first('state');
  return row?.state === 'success' || row?.state === 'failed' ? row.state : undefined;
}

describe('mapped tasks under the KubernetesExecutor (fake API server, real scheduler and pods)', () => {
  it('runs the mapping, task-group and mapped-operator examples to success with exactly one pod per task instance, map index in its args and labels', async () => {
    scheduler = startScheduler();
    await eventually('the examples to be parsed', async () => (await db.knex('serialized_dag').whereIn('dag_id', EXAMPLES)).length === EXAMPLES.length);
    const runs = [];
    for (const dagId of EXAMPLES) {
      await setPaused(db.knex, dagId, false);
      runs.push(await triggerDagRun(db.knex, { dagId, now: new Date() }));
    }
    for (const run of runs)
      expect(await eventually(`${run.dag_id} to finish`, () => finishedState(run.dag_id, run.run_id), 240_000), run.dag_id).toBe('success');

    for (const run of runs) {
      const ran: { task_id: string; map_index: number }[] = await db
        .knex('task_instance')
        .where({ dag_id: run.dag_id, run_id: run.run_id, state: 'success' })
        .whereNotNull('pid')
        .select('task_id', 'map_index');
      const pods = fake.created.filter((p) => p.annotations.dag_id === run.dag_id && p.annotations.run_id === run.run_id);
      const key = (taskId: string, mapIndex: number | string) => `${taskId}[${mapIndex}]`;
      expect(pods.map((p) => key(p.annotations.task_id!, p.annotations.map_index!)).sort(), run.dag_id).toEqual(
        ran.map((t) => key(t.task_id, t.map_index)).sort(),
      );
      expect(new Set(pods.map((p) => p.name)).size, run.dag_id).toBe(pods.length);
      for (const pod of pods) {
        const mapIndex = pod.annotations.map_index!;
        expect(pod.args.slice(-2), pod.name).toEqual(['--map-index', mapIndex]);
        expect(pod.labels.map_index, pod.name).toBe(Number(mapIndex) >= 0 ? mapIndex : undefined);
      }
    }
    // The mapping example fans out twice at run time; each instance ran in its own pod.
    const mapped = runs[0]!;
    const instances = (taskId: string) =>
      fake.created.filter((p) => p.annotations.run_id === mapped.run_id && p.annotations.task_id === taskId).map((p) => Number(p.annotations.map_index));
    const count = async (taskId: string) => Number((await db.knex('task_instance').where({ run_id: mapped.run_id, task_id: taskId }).count({ n: '*' }))[0]!.n);
    for (const taskId of ['chunk', 'embed']) {
      const n = await count(taskId);
      expect(n, taskId).toBeGreaterThan(1);
      expect(
        instances(taskId).sort((a, b) => a - b),
        taskId,
      ).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  }, 300_000);
});
