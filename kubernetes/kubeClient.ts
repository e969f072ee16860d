import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ResolvedConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';

/** The client library, loaded on first use: it costs ~90 MB of memory that schedulers of other executors should not pay. */
export type KubernetesClientModule = typeof import('@kubernetes/client-node');
export const loadKubernetesClient = (): Promise<KubernetesClientModule> => import('@kubernetes/client-node');

/**
 * The Kubernetes API client for kubernetes.configFile, or, without one, the
 * pod's service account inside a cluster, else ~/.kube/config (or $KUBECONFIG).
 */
export async function kubernetesClient(config: ResolvedConfig): Promise<{ kubeConfig: KubeConfig; api: CoreV1Api; k8s: KubernetesClientModule }> {
  const k8s = await loadKubernetesClient();
  const kubeConfig = new k8s.KubeConfig();
  const file = config.kubernetes.configFile;
  const defaultFile = process.env.KUBECONFIG || path.join(os.homedir(), '.kube', 'config');
  if (!file && !process.env.KUBERNETES_SERVICE_HOST && !existsSync(defaultFile.split(path.delimiter)[0]!)) {
    throw new ConfigError('kubernetes.configFile', file, `the path of a kubeconfig: not running inside a cluster, and there is no ${defaultFile}`);
  }
  try {
    if (file) kubeConfig.loadFromFile(file);
    else if (process.env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new ConfigError('kubernetes.configFile', file, `a readable kubeconfig (${(error as Error).message})`);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new ConfigError(
      'kubernetes.configFile',
      file,
      'a kubeconfig whose current context names a cluster (none found; set kubernetes.configFile or run inside a cluster)',
    );
  }
  return { kubeConfig, api: kubeConfig.makeApiClient(k8s.CoreV1Api), k8s };
}

/** The HTTP status of a failed API call, if it was one. */
export function apiStatus(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

/** A readable reason from a failed API call: the Status message the server sent, else the error's. */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not JSON
    }
  }
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  // Network failures: fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return error instanceof Error ? `${error.message}${cause}` : String(error);
}
