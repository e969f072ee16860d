import { readFileSync } from 'node:fs';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import type { ResolvedConfig } from '../../config/schema.ts';
import { ConfigError } from '../../core/errors.ts';
import type { TaskWorkload } from '../../db/taskWorkload.ts';
import { taskRunArgs } from '../base.ts';
import { podAnnotations, podLabels, podName } from '../../kubernetes/podIdentity.ts';

/**
 * A task pod is built in layers, later ones winning (like Airflow's pod
 * reconciliation): the pod template file (or a minimal pod), the
 * `kubernetes.*` config, the task's `executorConfig.podOverride`, and last
 * what the executor owns: name, labels, restart policy and the `tasks run`
 * arguments of the task container.
 *
 * The task container is the one named "base" (Airflow's convention), else the
 * first. Its command is left to the image's entrypoint (`node
 * /app/bin/airflow.js` in deploy/Dockerfile); its args become `tasks run …`.
 */

const TASK_CONTAINER = 'base';

export function loadPodTemplate(file: string): V1Pod {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('kubernetes.podTemplateFile', file, `a readable YAML pod manifest (${(error as Error).message})`);
  }
  const pod = parsed as V1Pod | null;
  if (!pod || typeof pod !== 'object' || pod.kind !== 'Pod' || !Array.isArray(pod.spec?.containers) || pod.spec.containers.length === 0) {
    throw new ConfigError('kubernetes.podTemplateFile', file, 'a YAML manifest of kind Pod with at least one container in spec.containers');
  }
  return pod;
}

/** Builds the pod for one try of a task instance. Throws a ConfigError when no image is known. */
export function buildTaskPod(workload: TaskWorkload, config: ResolvedConfig, template: V1Pod | null, schedulerJobId: number | null): V1Pod {
  const k = config.kubernetes;
  let pod: V1Pod = structuredClone(template ?? { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [{ name: TASK_CONTAINER }] } });
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  const spec = (pod.spec ??= { containers: [] });
  const task = taskContainer(pod);

  if (k.workerContainerImage) task.image = k.workerContainerImage;
  if (k.imagePullPolicy) task.imagePullPolicy = k.imagePullPolicy;
  if (k.serviceAccountName) spec.serviceAccountName = k.serviceAccountName;
  task.env = mergeByName(
    task.env ?? [],
    Object.entries(k.env).map(([name, value]) => ({ name, value })),
  );
  if (k.resources.requests) task.resources = { ...task.resources, requests: { ...task.resources?.requests, ...k.resources.requests } };
  if (k.resources.limits) task.resources = { ...task.resources, limits: { ...task.resources?.limits, ...k.resources.limits } };
  if (Object.keys(k.nodeSelector).length > 0) spec.nodeSelector = { ...spec.nodeSelector, ...k.nodeSelector };
  if (k.tolerations.length > 0) spec.tolerations = [...(spec.tolerations ?? []), ...(k.tolerations as NonNullable<typeof spec.tolerations>)];
  for (const [claim, name, mountPath, readOnly] of [
    [k.dagsVolumeClaim, 'dags', config.core.dagsFolder, true],
    [k.logsVolumeClaim, 'logs', config.logging.baseLogFolder, false],
  ] as const) {
    if (!claim) continue;
    spec.volumes = mergeByName(spec.volumes ?? [], [{ name, persistentVolumeClaim: { claimName: claim, readOnly } }]);
    task.volumeMounts = mergeByName(task.volumeMounts ?? [], [{ name, mountPath, readOnly }]);
  }

  const override = podOverrideOf(workload);
  if (override) pod = mergeDeep(pod, override) as V1Pod;

  const final = taskContainer(pod);
  if (!final.image) {
    throw new ConfigError(
      'kubernetes.workerContainerImage',
      k.workerContainerImage,
      `an image for task pods (the pod template names none for container "${final.name}")`,
    );
  }
  final.args = taskRunArgs(workload);
  final.env = mergeByName(final.env ?? [], [{ name: 'AIRFLOW_IS_K8S_EXECUTOR_POD', value: 'True' }]);
  pod.metadata = {
    ...pod.metadata,
    name: podName(workload),
    namespace: k.namespace,
    labels: { ...pod.metadata?.labels, ...podLabels(workload, schedulerJobId) },
    annotations: { ...pod.metadata?.annotations, ...podAnnotations(workload) },
  };
  delete pod.metadata.generateName;
  pod.spec!.restartPolicy = 'Never';
  return pod;
}

/** The task's `executorConfig.podOverride` (or Airflow's `pod_override`), if any. */
function podOverrideOf(workload: TaskWorkload): Record<string, unknown> | null {
  const value = workload.executorConfig?.podOverride ?? workload.executorConfig?.pod_override;
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function taskContainer(pod: V1Pod): V1Container {
  const containers = (pod.spec!.containers ??= []);
  let found = containers.find((c) => c.name === TASK_CONTAINER) ?? containers[0];
  if (!found) containers.push((found = { name: TASK_CONTAINER }));
  return found;
}

function mergeByName<T extends { name: string }>(base: T[], extra: T[]): T[] {
  const merged = [...base];
  for (const item of extra) {
    const at = merged.findIndex((m) => m.name === item.name);
    if (at >= 0) merged[at] = item;
    else merged.push(item);
  }
  return merged;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNamed = (v: unknown): v is { name: string } => isObject(v) && typeof v.name === 'string';

/**
 * Objects merge key by key; lists of named things (containers, env,
 * volumes, volumeMounts) merge by name; any other value in the override
 * replaces the base's.
 */
function mergeDeep(base: unknown, override: unknown): unknown {
  if (isObject(base) && isObject(override)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) merged[key] = key in base ? mergeDeep(base[key], value) : value;
    return merged;
  }
  if (Array.isArray(base) && Array.isArray(override) && base.every(isNamed) && override.every(isNamed)) {
    const merged: unknown[] = [...base];
    for (const item of override) {
      const at = merged.findIndex((m) => (m as { name: string }).name === item.name);
      if (at >= 0) merged[at] = mergeDeep(merged[at], item);
      else merged.push(item);
    }
    return merged;
  }
  return override === undefined ? base : override;
}
