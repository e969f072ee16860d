import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../../config/schema.ts';
import { memoryLogger } from '../../../core/logger.ts';
import { createExecutor } from '../../../executors/createExecutor.ts';
import { kubernetesClient } from '../../../kubernetes/kubeClient.ts';
import { KubernetesExecutor } from '../../../executors/kubernetes/kubernetesExecutor.ts';
import { buildTaskPod } from '../../../executors/kubernetes/podTemplate.ts';
import { Scheduler } from '../../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../../services/triggerDagRun.ts';
import { readTryLog } from '../../../logging/taskLogReader.ts';
import { startTestApi } from '../../helpers/api.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../../helpers/dagsFolder.ts';
import { parseDags, testConfig } from '../../helpers/runtime.ts';
import { AIRFLOW_BIN, IMAGE, startFakeCluster } from '../../kubernetes/fakeCluster.ts';
import { eventually } from '../../helpers/eventually.ts';

/**
 * The KubernetesExecutor against the fake API server: the executor talks to
 * it through the official client and a kubeconfig, and every "pod" is a real
 * `airflow tasks run` process started from the pod spec (its args and env),
 * recording into the same test database.
 */

const db = await createTestDatabase();
const { home, fake, kubeconfig, flag, waitFor } = await startFakeCluster({ deleteGraceMs: 1_000 });

const dags = tempDagsFolder();

writeDag(
  dags,
  'pods.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'pods', isPausedUponCreation: false });
const first = new BashOperator({ dag, taskId: 'first', bashCommand: 'echo "hello from $HOSTNAME"' });
const second = new BashOperator({ dag, taskId: 'second', bashCommand: 'echo "second sees {{ ti.xcom_pull(task_ids=\\'first\\') }}"' });
first.then(second);
export default dag;
`,
);
writeDag(
  dags,
  'failing.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'failing', isPausedUponCreation: false });
new BashOperator({ dag, taskId: 'exits_1', bashCommand: 'echo about to fail; exit 1' });
new BashOperator({ dag, taskId: 'killed', bashCommand: 'echo killing my runner; kill -9 $PPID; sleep 5' });
new BashOperator({ dag, taskId: 'unschedulable', bashCommand: 'echo never', executorConfig: { podOverride: { spec: { nodeSelector: { gpu: 'a100' } } } } });
new BashOperator({ dag, taskId: 'bad_image', bashCommand: 'echo never', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', image: 'no-such-image:1' }] } } } });
export default dag;
`,
);
writeDag(
  dags,
  'waits.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'waits', isPausedUponCreation: false });
new BashOperator({ dag, taskId: 'hold', bashCommand: 'echo holding; ${waitFor('{{ run_id }}')}; echo released' });
export default dag;
`,
);
writeDag(
  dags,
  'stuck.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'stuck', isPausedUponCreation: false });
new BashOperator({ dag, taskId: 'waits_for_a_node', bashCommand: 'echo never', executorConfig: { podOverride: { spec: { nodeSelector: { pool: 'none-yet' } } } } });
export default dag;
`,
);
writeDag(
  dags,
  'odd_ids.ts',
  `import { DAG, FunctionOperator } from 'airflow-ts';
const dag = new DAG({ dagId: 'Odd.DAG_${'x'.repeat(120)}', isPausedUponCreation: false });
const a = new FunctionOperator({ dag, taskId: 'Step.One__UPPER', fn: () => 1 });
const b = new FunctionOperator({ dag, taskId: '_${'y'.repeat(100)}_', fn: () => 2 });
a.then(b);
export default dag;
`,
);

/** The pods' environment: the test database and this AIRFLOW_HOME, and nothing inherited from the test process. */
function kubernetesEnv(extra: Record<string, string> = {}, podEnv: Record<string, string> = {}): Record<string, string> {
  return {
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__EXECUTOR: 'KubernetesExecutor',
    AIRFLOW__KUBERNETES__CONFIG_FILE: kubeconfig,
    AIRFLOW__KUBERNETES__NAMESPACE: 'airflow',
    AIRFLOW__KUBERNETES__WORKER_CONTAINER_IMAGE: IMAGE,
    AIRFLOW__KUBERNETES__WORKER_PODS_PENDING_TIMEOUT: '1',
    AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.2',
    AIRFLOW__KUBERNETES__ENV: JSON.stringify({
      AIRFLOW_HOME: home,
      AIRFLOW__DATABASE__URL: db.url,
      AIRFLOW__CORE__DAGS_FOLDER: dags,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
      ...podEnv,
    }),
    ...extra,
  };
}

/** A proxy in front of the fake that answers the first `failures` pod creations with a 500, as a struggling API server does. */
async function flakyApiServer(failures: number): Promise<{ kubeconfig: string; failed: () => number }> {
  let failed = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && /\/pods$/.test(req.url ?? '') && failed < failures) {
      failed += 1;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'etcdserver: request timed out',
          reason: 'InternalError',
          code: 500,
        }),
      );
      return;
    }
    const upstream = http.request(new URL(req.url!, fake.url), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.on('connection', (socket) => socket.unref());
  const { port } = server.address() as { port: number };
  const file = path.join(home, `flaky-${port}.yaml`);
  writeFileSync(file, readFileSync(kubeconfig, 'utf8').replaceAll(fake.url, `http://127.0.0.1:${port}`));
  return { kubeconfig: file, failed: () => failed };
}

const running: Scheduler[] = [];
afterEach(async () => {
  for (const scheduler of running.splice(0)) await scheduler.stop(5_000);
});

async function startScheduler(config: ResolvedConfig): Promise<Scheduler> {
  const logger = memoryLogger();
  const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
  await scheduler.start();
  running.push(scheduler);
  return scheduler;
}

async function runState(dagId: string, runId: string): Promise<string | undefined> {
  const row = await db.knex('dag_run').where({ dag_id: dagId, run_id: runId }).first('state');
  return row?.state === 'success' || row?.state === 'failed' ? row.state : undefined;
}

async function taskStates(dagId: string, runId: string): Promise<Record<string, string>> {
  const rows: { task_id: string; state: string }[] = await db.knex('task_instance').where({ dag_id: dagId, run_id: runId });
  return Object.fromEntries(rows.map((r) => [r.task_id, r.state]));
}

const livePodOf = (runId: string) => fake.pods('airflow').find((p) => p.metadata.annotations?.run_id === runId);
const podsOf = (dagId: string, runId: string) => fake.created.filter((p) => p.annotations.dag_id === dagId && p.annotations.run_id === runId);

const config = await testConfig(dags, db.url, kubernetesEnv());
await parseDags(config, db.knex);

describe('the KubernetesExecutor (against a fake API server)', () => {
  it('runs every task of a DAG run in a pod of its own, passing XComs, and deletes the pods that succeeded', async () => {
    await startScheduler(config);
    const run = await triggerDagRun(db.knex, { dagId: 'pods', now: new Date() });
    expect(await eventually('the run to finish', () => runState('pods', run.run_id))).toBe('success');
    expect(await taskStates('pods', run.run_id)).toEqual({ first: 'success', second: 'success' });
    const pods = podsOf('pods', run.run_id);
    expect(pods.map((p) => p.annotations.task_id).sort()).toEqual(['first', 'second']);
    expect(pods.every((p) => p.labels.kubernetes_executor === 'True' && p.labels.try_number === '1')).toBe(true);
    const xcom = await db.knex('xcom').where({ dag_id: 'pods', run_id: run.run_id, task_id: 'second' }).first('value');
    expect(xcom.value).toMatch(/^second sees hello from pods-first-[0-9a-f]{10}-1$/); // the first task ran with its pod's hostname
    await eventually('the finished pods to be deleted', () => fake.pods('airflow').every((p) => p.metadata.annotations?.run_id !== run.run_id));
    const log = await readTryLog(config, memoryLogger(), { dagId: 'pods', taskId: 'second', runId: run.run_id, mapIndex: -1, tryNumber: 1 }, 0);
    expect(log?.content).toContain('second sees hello from pods-first-');
  });

  it('tries creating a pod again when the API server answers 500, and never ends up with two pods for a try', async () => {
    const flaky = await flakyApiServer(2);
    await startScheduler(await testConfig(dags, db.url, kubernetesEnv({ AIRFLOW__KUBERNETES__CONFIG_FILE: flaky.kubeconfig })));
    const run = await triggerDagRun(db.knex, { dagId: 'pods', now: new Date(), runId: 'flaky_api' });
    expect(await eventually('the run to finish', () => runState('pods', run.run_id))).toBe('success');
    expect(flaky.failed()).toBe(2);
    expect(
      podsOf('pods', run.run_id)
        .map((p) => p.annotations.task_id)
        .sort(),
    ).toEqual(['first', 'second']);
  });

  it('sanitises pod names and labels for odd DAG and task ids (the API server rejects invalid ones)', async () => {
    await startScheduler(config);
    const dagId = `Odd.DAG_${'x'.repeat(120)}`;
    const run = await triggerDagRun(db.knex, { dagId, now: new Date() });
    expect(await eventually('the run to finish', () => runState(dagId, run.run_id))).toBe('success');
    const pods = podsOf(dagId, run.run_id);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(pod.name.length).toBeLessThanOrEqual(63);
      for (const value of Object.values(pod.labels)) expect(value.length).toBeLessThanOrEqual(63);
    }
    expect(pods.map((p) => p.annotations.task_id).sort()).toEqual(['Step.One__UPPER', `_${'y'.repeat(100)}_`]);
  });

  it('fails the tries of pods that fail, die, cannot be scheduled or cannot pull their image, with the reason in the task log', async () => {
    await startScheduler(config);
    const run = await triggerDagRun(db.knex, { dagId: 'failing', now: new Date() });
    expect(await eventually('the run to finish', () => runState('failing', run.run_id))).toBe('failed');
    expect(await taskStates('failing', run.run_id)).toEqual({ exits_1: 'failed', killed: 'failed', unschedulable: 'failed', bad_image: 'failed' });
    const logOf = async (taskId: string) =>
      (await readTryLog(config, memoryLogger(), { dagId: 'failing', taskId, runId: run.run_id, mapIndex: -1, tryNumber: 1 }, 0))!.content;
    expect(await logOf('exits_1')).toContain('about to fail');
    expect(await logOf('killed')).toMatch(/pod failing-killed-[0-9a-f]{10}-1 failed: container base exited with code 137/);
    expect(await logOf('unschedulable')).toMatch(/is unschedulable: 0\/1 nodes are available.*after 1 s \(kubernetes\.workerPodsPendingTimeout\)/);
    expect(await logOf('bad_image')).toMatch(/cannot start: (ErrImagePull|ImagePullBackOff).*no-such-image:1/);
    // Failed pods are kept for inspection (deleteWorkerPodsOnFailure is off); pods that never started are deleted.
    await eventually('pods that could not start to be deleted', () => {
      const left = fake
        .pods('airflow')
        .filter((p) => p.metadata.annotations?.run_id === run.run_id)
        .map((p) => p.metadata.annotations?.task_id);
      return left.sort().join() === 'exits_1,killed';
    });
  });

  it('keeps following its pods when the API server drops the watch, and re-lists when its resourceVersion has expired', async () => {
    await startScheduler(config);
    for (const expire of [false, true]) {
      const run = await triggerDagRun(db.knex, { dagId: 'waits', now: new Date(), runId: `watch_${expire ? 'expired' : 'dropped'}` });
      await eventually('the pod to run', () =>
        fake.pods('airflow').some((p) => p.metadata.annotations?.run_id === run.run_id && p.status?.phase === 'Running'),
      );
      const watchesBefore = fake.requests.filter((r) => r.query.watch === 'true').length;
      if (expire) fake.forgetHistory();
      fake.dropWatches();
      await eventually('the executor to watch again', () => fake.requests.filter((r) => r.query.watch === 'true').length > watchesBefore);
      writeFileSync(flag(run.run_id), '');
      expect(await eventually('the run to finish', () => runState('waits', run.run_id))).toBe('success');
      // Only the executor deletes pods, and only once its (resumed) watch saw this one succeed.
      await eventually('the pod to be deleted', () => !fake.pods('airflow').some((p) => p.metadata.annotations?.run_id === run.run_id));
    }
    const lists = fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/airflow/pods' && r.query.watch !== 'true');
    expect(lists.length).toBeGreaterThanOrEqual(2); // the start-up list and the re-list after 410
  });

  it('a successor adopts a queued try with a Pending pod once, and later orphan checks leave it alone', async () => {
    const patient = await testConfig(
      dags,
      db.url,
      kubernetesEnv({ AIRFLOW__KUBERNETES__WORKER_PODS_PENDING_TIMEOUT: '600', AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL: '0.2' }),
    );
    const first = await startScheduler(patient);
    const run = await triggerDagRun(db.knex, { dagId: 'stuck', now: new Date() });
    const pod = await eventually('the pod to wait for a node', () =>
      fake.pods('airflow').find((p) => p.metadata.annotations?.run_id === run.run_id && p.status?.conditions?.some((c) => c.reason === 'Unschedulable')),
    );
    await first.stop(5_000); // its pods stay; its job is no longer alive
    const second = await startScheduler(patient);
    await eventually('the pod to be adopted', () => livePodOf(run.run_id)?.metadata.labels?.['airflow-worker'] === String(second.id));
    const checks = () => fake.requests.filter((r) => r.method === 'GET' && r.query.labelSelector === 'kubernetes_executor=True').length;
    const before = checks();
    await eventually('three more orphan checks', () => checks() >= before + 3);
    const ti = await db.knex('task_instance').where({ dag_id: 'stuck', run_id: run.run_id }).first();
    expect(ti).toMatchObject({ state: 'queued', queued_by_job_id: second.id, try_number: 1 });
    expect(fake.created.filter((p) => p.annotations.run_id === run.run_id).map((p) => p.name)).toEqual([pod.metadata.name]);
  });

  it('cleans up pods of gone schedulers only when their try is no longer queued or running', async () => {
    const { api } = await kubernetesClient(config);
    const workload = {
      tiId: 987_654,
      dagId: 'ghost',
      taskId: 'left_behind',
      runId: 'manual__ghost',
      mapIndex: -1,
      tryNumber: 1,
      queue: 'default',
      priorityWeight: 1,
      executorConfig: { podOverride: { spec: { nodeSelector: { pool: 'none-yet' } } } },
    };
    const pod = buildTaskPod(workload, config, null, 424_242); // launched by a scheduler job that is gone
    await api.createNamespacedPod({ namespace: 'airflow', body: pod });
    const executor = new KubernetesExecutor(config, memoryLogger());
    await executor.start({ jobId: 1_000_001 });
    try {
      expect(await executor.adopt([], { liveJobIds: [], isActive: () => true })).toEqual([]);
      expect(fake.pods('airflow').some((p) => p.metadata.name === pod.metadata!.name)).toBe(true); // its try is active elsewhere: kept
      await executor.adopt([], { liveJobIds: [424_242], isActive: () => false });
      expect(fake.pods('airflow').some((p) => p.metadata.name === pod.metadata!.name)).toBe(true); // its scheduler is alive: kept
      await executor.adopt([], { liveJobIds: [], isActive: () => false });
      await eventually('the stale pod to be deleted', () => !fake.pods('airflow').some((p) => p.metadata.name === pod.metadata!.name));
    } finally {
      await executor.end();
    }
  });

  it('serves the log of a running try from its pod through the REST API when the log folder is not shared', async () => {
    const separateLogs = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-pod-logs-'));
    chmodSync(separateLogs, 0o755);
    const own = await testConfig(dags, db.url, kubernetesEnv({}, { AIRFLOW__LOGGING__BASE_LOG_FOLDER: separateLogs }));
    await startScheduler(own);
    const run = await triggerDagRun(db.knex, { dagId: 'waits', now: new Date(), runId: 'pod_log' });
    const api = await startTestApi(db.knex, own);
    const logPath = `/dags/waits/dagRuns/${encodeURIComponent(run.run_id)}/taskInstances/hold/logs/1`;
    const first = await eventually('the pod log to show the task running', async () => {
      const response = await api.call('GET', logPath, { as: 'Viewer' });
      return response.status === 200 && String(response.json.content).includes('holding') ? response.json : undefined;
    });
    expect(first.content).toMatch(/Starting attempt 1 of 1 of waits\.hold/);
    expect(existsSync(path.join(own.logging.baseLogFolder, 'dag_id=waits', 'run_id=pod_log'))).toBe(false); // not from a local file
    const rest = await api.call('GET', `${logPath}?token=${first.continuation_token}`, { as: 'Viewer' });
    expect(rest.status).toBe(200);
    expect(rest.json.content).not.toContain('Starting attempt'); // the continuation token picks up where the last read ended
    writeFileSync(flag(run.run_id), '');
    expect(await eventually('the run to finish', () => runState('waits', run.run_id))).toBe('success');
    expect(readFileSync(path.join(separateLogs, 'dag_id=waits', 'run_id=pod_log', 'task_id=hold', 'attempt=1.log'), 'utf8')).toContain('released');
  });

  it('a task pod without a database URL stops with the fix instead of starting an embedded Postgres of its own', () => {
    const podHome = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-pod-home-'));
    const result = spawnSync(process.execPath, [AIRFLOW_BIN, 'tasks', 'run', 'pods', 'first', 'manual__x'], {
      cwd: podHome,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AIRFLOW_HOME: podHome, AIRFLOW_IS_K8S_EXECUTOR_POD: 'True' },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Invalid config database.url=""');
    expect(result.stderr).toContain('a task pod cannot use an embedded Postgres (set AIRFLOW__DATABASE__URL in kubernetes.env or the pod template)');
    expect(existsSync(path.join(podHome, 'postgres'))).toBe(false);
  });
});
