import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { loadKubernetesClient } from '../../kubernetes/kubeClient.ts';
import type { Logger } from '../../core/logger.ts';

export interface PodWatcherOptions {
  kubeConfig: KubeConfig;
  api: CoreV1Api;
  namespace: string;
  labelSelector: string;
  /** A pod was added or changed (`deleted` false) or is gone (`deleted` true). */
  onPod(pod: V1Pod, deleted: boolean): void;
  /** A full list replaced the watch (at start, and after 410 Gone): every pod that exists now. */
  onList(pods: V1Pod[]): void;
  logger: Logger;
}

/**
 * Follows the pods matching a label selector: list once, then watch from the
 * list's resourceVersion. A watch ends often (the API server's timeout, the
 * client's 30 s idle timeout, a dropped connection); it is resumed from the
 * last resourceVersion seen, so no change is missed or replayed. When the
 * server no longer has that version (410 Gone / Expired), the pods are listed
 * again. Connection errors back off up to 10 s.
 */
export class PodWatcher {
  private resourceVersion = '';
  private relist = true;
  private stopped = false;
  private controller: AbortController | null = null;
  private retryDelayMs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: PodWatcherOptions) {}

  /** Resolves after the first list has been delivered. */
  async start(): Promise<void> {
    await this.list();
    void this.watch();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.controller?.abort();
  }

  private async list(): Promise<void> {
    const { api, namespace, labelSelector } = this.options;
    const list = await api.listNamespacedPod({ namespace, labelSelector });
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.relist = false;
    this.options.onList(list.items);
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const { kubeConfig, namespace, labelSelector } = this.options;
    try {
      if (this.relist) await this.list();
      const { Watch } = await loadKubernetesClient();
      this.controller = await new Watch(kubeConfig).watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        { labelSelector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
        (type: string, object: V1Pod & { code?: number; message?: string }) => this.onEvent(type, object),
        (error: unknown) => this.ended(error),
      );
    } catch (error) {
      this.ended(error);
    }
  }

  private onEvent(type: string, object: V1Pod & { code?: number; message?: string }): void {
    if (type === 'ERROR') {
      // 410: our resourceVersion is too old for the server's history; the stream ends and we list afresh.
      if (object.code === 410) this.relist = true;
      else this.options.logger.warn(`pod watch error: ${object.message ?? JSON.stringify(object)}`);
      return;
    }
    this.retryDelayMs = 0;
    const version = object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.options.onPod(object, type === 'DELETED');
  }

  private ended(error: unknown): void {
    if (this.stopped) return;
    const status = (error as { statusCode?: number; code?: number } | null)?.statusCode ?? (error as { code?: number } | null)?.code;
    if (status === 410) this.relist = true;
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    if (error && !timedOut) {
      this.retryDelayMs = Math.min(10_000, Math.max(250, this.retryDelayMs * 2));
      this.options.logger.warn(`pod watch ended (${error instanceof Error ? error.message : String(error)}); resuming in ${this.retryDelayMs} ms`);
    }
    this.timer = setTimeout(() => void this.watch(), error && !timedOut ? this.retryDelayMs : 0);
  }
}
