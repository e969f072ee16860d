import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../config/resolveConfig.ts';
import { ConfigError } from '../../../core/errors.ts';
import type { TaskWorkload } from '../../../db/taskWorkload.ts';
import { buildTaskPod, loadPodTemplate } from '../../../executors/kubernetes/podTemplate.ts';

const workload: TaskWorkload = {
  tiId: 3,
  dagId: 'etl',
  taskId: 'load',
  runId: 'manual__x',
  mapIndex: -1,
  tryNumber: 2,
  queue: 'default',
  priorityWeight: 1,
  executorConfig: null,
};

function tempFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pod-template-')), name);
  writeFileSync(file, text);
  return file;
}

async function config(env: Record<string, string>) {
  return resolveConfig({ cwd: os.tmpdir(), env: { AIRFLOW_HOME: '/opt/airflow', AIRFLOW__CORE__DAGS_FOLDER: '/opt/airflow/dags', ...env } });
}

const TEMPLATE = `
apiVersion: v1
kind: Pod
metadata:
  labels: { team: data }
spec:
  serviceAccountName: from-template
  containers:
    - name: base
      image: registry.example/airflow-ts:1
      env:
        - name: AIRFLOW__DATABASE__URL
          valueFrom: { secretKeyRef: { name: airflow-db, key: url } }
        - name: KEEP
          value: template
    - name: sidecar
      image: busybox
`;

describe('task pods', () => {
  it("layer the template, the kubernetes config, the task's podOverride and the executor's own fields", async () => {
    const cfg = await config({
      AIRFLOW__KUBERNETES__POD_TEMPLATE_FILE: tempFile('pod.yaml', TEMPLATE),
      AIRFLOW__KUBERNETES__NAMESPACE: 'airflow',
      AIRFLOW__KUBERNETES__IMAGE_PULL_POLICY: 'IfNotPresent',
      AIRFLOW__KUBERNETES__ENV: '{"KEEP":"config","EXTRA":"1"}',
      AIRFLOW__KUBERNETES__RESOURCES: '{"requests":{"cpu":"250m"}}',
      AIRFLOW__KUBERNETES__NODE_SELECTOR: '{"pool":"tasks"}',
      AIRFLOW__KUBERNETES__TOLERATIONS: '[{"key":"dedicated","operator":"Equal","value":"airflow","effect":"NoSchedule"}]',
      AIRFLOW__KUBERNETES__DAGS_VOLUME_CLAIM: 'dags-pvc',
      AIRFLOW__KUBERNETES__LOGS_VOLUME_CLAIM: 'logs-pvc',
    });
    const template = loadPodTemplate(cfg.kubernetes.podTemplateFile);
    const pod = buildTaskPod(
      {
        ...workload,
        executorConfig: {
          podOverride: { spec: { containers: [{ name: 'base', resources: { limits: { memory: '2Gi' } }, env: [{ name: 'EXTRA', value: 'override' }] }] } },
        },
      },
      cfg,
      template,
      42,
    );
    expect(pod.metadata).toMatchObject({ name: expect.stringMatching(/^etl-load-[0-9a-f]{10}-2$/), namespace: 'airflow' });
    expect(pod.metadata!.labels).toMatchObject({ team: 'data', 'airflow-worker': '42', kubernetes_executor: 'True', dag_id: 'etl', try_number: '2' });
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.spec!.serviceAccountName).toBe('from-template');
    expect(pod.spec!.nodeSelector).toEqual({ pool: 'tasks' });
    expect(pod.spec!.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'airflow', effect: 'NoSchedule' }]);
    const [base, sidecar] = pod.spec!.containers;
    expect(sidecar).toEqual({ name: 'sidecar', image: 'busybox' });
    expect(base!.image).toBe('registry.example/airflow-ts:1');
    expect(base!.imagePullPolicy).toBe('IfNotPresent');
    expect(base!.args).toEqual(['tasks', 'run', 'etl', 'load', 'manual__x', '--map-index', '-1']);
    expect(base!.command).toBeUndefined();
    expect(base!.resources).toEqual({ requests: { cpu: '250m' }, limits: { memory: '2Gi' } });
    const env = Object.fromEntries(base!.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toEqual({
      AIRFLOW__DATABASE__URL: { secretKeyRef: { name: 'airflow-db', key: 'url' } },
      KEEP: 'config',
      EXTRA: 'override',
      AIRFLOW_IS_K8S_EXECUTOR_POD: 'True',
    });
    expect(pod.spec!.volumes).toEqual([
      { name: 'dags', persistentVolumeClaim: { claimName: 'dags-pvc', readOnly: true } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'logs-pvc', readOnly: false } },
    ]);
    expect(base!.volumeMounts).toEqual([
      { name: 'dags', mountPath: '/opt/airflow/dags', readOnly: true },
      { name: 'logs', mountPath: '/opt/airflow/logs', readOnly: false },
    ]);
  });

  it("without a template use the configured image, and a task may pick another (Airflow's pod_override spelling too)", async () => {
    const cfg = await config({ AIRFLOW__KUBERNETES__WORKER_CONTAINER_IMAGE: 'airflow-ts:2' });
    expect(buildTaskPod(workload, cfg, null, 1).spec!.containers[0]!.image).toBe('airflow-ts:2');
    const custom = buildTaskPod(
      { ...workload, executorConfig: { pod_override: { spec: { containers: [{ name: 'base', image: 'gpu-image:1' }] } } } },
      cfg,
      null,
      1,
    );
    expect(custom.spec!.containers[0]!.image).toBe('gpu-image:1');
  });

  it('refuse to build a pod with no image, naming the key to set', async () => {
    const cfg = await config({});
    expect(() => buildTaskPod(workload, cfg, null, 1)).toThrow(ConfigError);
    expect(() => buildTaskPod(workload, cfg, null, 1)).toThrow(/kubernetes\.workerContainerImage/);
  });

  it('reject a template file that is not a pod manifest, naming the file', () => {
    const notPod = tempFile('deployment.yaml', 'kind: Deployment\nspec: {}\n');
    expect(() => loadPodTemplate(notPod)).toThrow(new RegExp(`kubernetes.podTemplateFile="${notPod}".*kind Pod`));
    const broken = tempFile('broken.yaml', 'kind: Pod\nspec: [unclosed\n');
    expect(() => loadPodTemplate(broken)).toThrow(/readable YAML pod manifest/);
  });

  it('report config values of the wrong shape with the key and what is expected', async () => {
    await expect(config({ AIRFLOW__KUBERNETES__ENV: '{"A":1}' })).rejects.toThrow(/kubernetes\.env.*name: value strings/);
    await expect(config({ AIRFLOW__KUBERNETES__TOLERATIONS: 'not json' })).rejects.toThrow(/kubernetes\.tolerations.*list of toleration objects/);
    await expect(config({ AIRFLOW__KUBERNETES__IMAGE_PULL_POLICY: 'Sometimes' })).rejects.toThrow(/kubernetes\.imagePullPolicy/);
  });
});
