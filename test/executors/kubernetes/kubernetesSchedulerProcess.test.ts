import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setPaused } from '../../../db/models/dag.ts';
import { triggerDagRun } from '../../../services/triggerDagRun.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../../helpers/dagsFolder.ts';
import { AIRFLOW_BIN, IMAGE, startFakeCluster } from '../../kubernetes/fakeCluster.ts';
import { eventually } from '../../helpers/eventually.ts';

/**
 * Real `airflow scheduler` processes with `executor: KubernetesExecutor`,
 * pointed at the fake API server by a kubeconfig: the example DAGs through
 * pods, and a scheduler killed with SIGKILL whose successor adopts its pods.
 */

const db = await createTestDatabase();
const { home, fake, kubeconfig, flag, waitFor } = await startFakeCluster();
const dags = tempDagsFolder();
writeDag(
  dags,
  'adopt.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'adopt', isPausedUponCreation: false });
const hold = new BashOperator({ dag, taskId: 'hold', bashCommand: '${waitFor('hold')}; echo released' });
new BashOperator({ dag, taskId: 'quick', bashCommand: '${waitFor('quick')}; echo quick' });
const after = new BashOperator({ dag, taskId: 'after', bashCommand: 'echo after' });
hold.then(after);
export default dag;
`,
);

function schedulerEnv(loadExamples: boolean): NodeJS.ProcessEnv {
  const pods = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: dags, AIRFLOW__CORE__LOAD_EXAMPLES: String(loadExamples) };
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...pods,
    AIRFLOW__CORE__EXECUTOR: 'KubernetesExecutor',
    AIRFLOW__KUBERNETES__CONFIG_FILE: kubeconfig,
    AIRFLOW__KUBERNETES__NAMESPACE: 'airflow',
    AIRFLOW__KUBERNETES__WORKER_CONTAINER_IMAGE: IMAGE,
    AIRFLOW__KUBERNETES__ENV: JSON.stringify(pods),
    AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.2',
    AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL: '0.5',
    AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.1',
  };
}

const processes: ChildProcess[] = [];
afterEach(async () => {
  for (const child of processes.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
});

function startScheduler(loadExamples = false): ChildProcess {
  const child = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], { cwd: home, env: schedulerEnv(loadExamples), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  child.once('exit', (code, signal) => {
    if (code && code !== 0) console.error(`scheduler exited with ${code ?? signal}: ${stderr}`);
  });
  processes.push(child);
  return child;
}

async function finishedState(dagId: string, runId: string): Promise<string | undefined> {
  const row = await db.knex('dag_run').where({ dag_id: dagId, run_id: runId }).first('state');
  return row?.state === 'success' || row?.state === 'failed' ? row.state : undefined;
}

const livePod = (taskId: string) => fake.pods('airflow').find((p) => p.metadata.annotations?.dag_id === 'adopt' && p.metadata.annotations?.task_id === taskId);

describe('airflow scheduler with the KubernetesExecutor', () => {
  it('runs the example DAGs to success, each task that runs in a pod of its own', async () => {
    startScheduler(true);
    const exampleIds = ['example_etl', 'example_ml_pipeline', 'example_params', 'example_task_groups', 'example_taskflow'];
    await eventually('the examples to be parsed', async () => (await db.knex('serialized_dag').whereIn('dag_id', exampleIds)).length === exampleIds.length);
    const runs = [];
    for (const dagId of exampleIds) {
      await setPaused(db.knex, dagId, false);
      runs.push(await triggerDagRun(db.knex, { dagId, now: new Date() }));
    }
    for (const run of runs) expect(await eventually(`${run.dag_id} to finish`, () => finishedState(run.dag_id, run.run_id)), run.dag_id).toBe('success');
    for (const run of runs) {
      const ran: { task_id: string; try_number: number }[] = await db
        .knex('task_instance')
        .where({ dag_id: run.dag_id, run_id: run.run_id, state: 'success' })
        .whereNotNull('pid');
      const pods = fake.created.filter((p) => p.annotations.dag_id === run.dag_id && p.annotations.run_id === run.run_id);
      expect(ran.length, run.dag_id).toBeGreaterThan(0);
      expect(pods.map((p) => p.annotations.task_id).sort(), run.dag_id).toEqual(ran.map((t) => t.task_id).sort());
      expect(new Set(pods.map((p) => p.name)).size).toBe(pods.length);
    }
  }, 300_000);

  it('adopts the pods of a scheduler killed with SIGKILL instead of launching them again, and cleans up the ones whose task finished meanwhile', async () => {
    const first = startScheduler();
    await eventually('the DAG to be parsed', async () => (await db.knex('serialized_dag').where('dag_id', 'adopt').first()) ?? undefined);
    const run = await triggerDagRun(db.knex, { dagId: 'adopt', now: new Date() });
    await eventually('both pods to run', () => livePod('hold')?.status?.phase === 'Running' && livePod('quick')?.status?.phase === 'Running');
    const firstJob = livePod('hold')!.metadata.labels!['airflow-worker'];

    first.kill('SIGKILL');
    writeFileSync(flag('quick'), ''); // finishes while no scheduler is up: nobody deletes its pod yet
    await eventually('the quick pod to succeed', () => livePod('quick')?.status?.phase === 'Succeeded');

    startScheduler();
    const adopted = await eventually('the running pod to be adopted', () => {
      const worker = livePod('hold')?.metadata.labels?.['airflow-worker'];
      return worker && worker !== firstJob ? worker : undefined;
    });
    const secondJob = await db.knex('job').where({ job_type: 'SchedulerJob', state: 'running' }).orderBy('id', 'desc').first('id');
    expect(adopted).toBe(String(secondJob.id));
    await eventually('the finished pod of the dead scheduler to be deleted', () => livePod('quick') === undefined);

    writeFileSync(flag('hold'), '');
    expect(await eventually('the run to finish', () => finishedState('adopt', run.run_id))).toBe('success');
    const created = fake.created.filter((p) => p.annotations.dag_id === 'adopt' && p.annotations.run_id === run.run_id);
    expect(created.map((p) => p.annotations.task_id).sort()).toEqual(['after', 'hold', 'quick']); // not a single duplicate
    await eventually('the adopted pod to be deleted once it succeeded', () => livePod('hold') === undefined);
  }, 300_000);

  it('stops with the reason, leaving no live job and no watcher behind, when the Kubernetes API cannot be reached', async () => {
    const unreachable = path.join(home, 'unreachable.yaml');
    writeFileSync(
      unreachable,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const result = spawnSync(process.execPath, [AIRFLOW_BIN, 'scheduler'], {
      cwd: home,
      env: { ...schedulerEnv(false), AIRFLOW__KUBERNETES__CONFIG_FILE: unreachable },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.signal).toBeNull(); // it exited by itself
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("cannot list pods in namespace 'airflow' through the Kubernetes API at http://127.0.0.1:9");
    const job = await db.knex('job').where({ job_type: 'SchedulerJob' }).orderBy('id', 'desc').first('state');
    expect(job.state).toBe('failed');
  });
});
