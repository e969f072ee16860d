import type { CoreV1Api } from '@kubernetes/client-node';
import type { ResolvedConfig } from '../config/schema.ts';
import { apiStatus, kubernetesClient } from '../kubernetes/kubeClient.ts';
import { podSelector, podTaskInstance } from '../kubernetes/podIdentity.ts';

export interface TryKey {
  dagId: string;
  taskId: string;
  runId: string;
  mapIndex: number;
  tryNumber: number;
}

const clients = new WeakMap<ResolvedConfig, CoreV1Api>();

/**
 * The log of the pod that ran (or runs) one try: what the task printed, which
 * in a task pod includes every line of the task log. Null when there is no
 * such pod (never launched, or deleted after it finished).
 */
export async function readPodLog(config: ResolvedConfig, ti: TryKey): Promise<string | null> {
  let api = clients.get(config);
  if (!api) clients.set(config, (api = (await kubernetesClient(config)).api));
  const namespace = config.kubernetes.namespace;
  const { items } = await api.listNamespacedPod({ namespace, labelSelector: podSelector(ti) });
  // Labels may be hashed; the annotations hold the exact ids.
  const pod = items.find((p) => {
    const exact = podTaskInstance(p);
    return exact?.dagId === ti.dagId && exact.taskId === ti.taskId && exact.runId === ti.runId && exact.mapIndex === ti.mapIndex;
  });
  if (!pod?.metadata?.name) return null;
  const container = pod.spec?.containers.find((c) => c.name === 'base') ?? pod.spec?.containers[0];
  try {
    return await api.readNamespacedPodLog({ name: pod.metadata.name, namespace, container: container?.name });
  } catch (error) {
    // 400: the container has not started yet (still pulling, unschedulable); 404: deleted meanwhile.
    if (apiStatus(error) === 400 || apiStatus(error) === 404) return null;
    throw error;
  }
}
