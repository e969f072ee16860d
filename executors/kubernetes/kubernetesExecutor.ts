import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { ResolvedConfig } from '../../config/schema.ts';
import type { Logger } from '../../core/logger.ts';
import { TaskLog, taskLogPath } from '../../logging/fileTaskHandler.ts';
import type { TaskWorkload } from '../../db/taskWorkload.ts';
import type { AdoptionContext, Executor, ExecutorEvent } from '../base.ts';
import { EventQueue } from '../eventQueue.ts';
import { apiMessage, apiStatus, kubernetesClient, type KubernetesClientModule } from '../../kubernetes/kubeClient.ts';
import { podOutcome } from './podPhase.ts';
import { keyOf, LABEL_EXECUTOR, LABEL_SCHEDULER, podKeyOf } from '../../kubernetes/podIdentity.ts';
import { buildTaskPod, loadPodTemplate } from './podTemplate.ts';
import { PodWatcher } from './podWatcher.ts';

const CREATE_ATTEMPTS = 5;

/** Pod-creation failures that may pass by themselves: no answer, throttling, server errors, a full quota. */
function isTransient(error: unknown): boolean {
  const status = apiStatus(error);
  if (status === null) return true;
  return status === 429 || status >= 500 || (status === 403 && /exceeded quota/i.test(apiMessage(error)));
}

/** A try this executor launched or adopted and has not seen finish. */
interface Tracked {
  workload: TaskWorkload;
  podName: string;
  /** When the pod was created (ms), for the pending timeout. */
  createdAt: number;
  /** The create call returned (a pod missing from a list is then really gone). */
  created: boolean;
  /** Not seen running yet. */
  pending: boolean;
  unschedulable: string | null;
}

/**
 * Airflow's KubernetesExecutor: one pod per task try, running `airflow tasks
 * run …` from the project's image. Pods carry the scheduler's job id in the
 * `airflow-worker` label; the executor watches its own pods and turns their
 * phases into executor events. Pods outlive the scheduler: a scheduler that
 * stops leaves them running, and the next one adopts them (relabels them as
 * its own) instead of launching the tries again.
 */
export class KubernetesExecutor implements Executor {
  readonly name = 'KubernetesExecutor';
  private readonly tracked = new Map<string, Tracked>();
  private readonly events = new EventQueue();
  private readonly creating = new Set<Promise<void>>();
  private api: CoreV1Api | null = null;
  private k8s: KubernetesClientModule | null = null;
  private watcher: PodWatcher | null = null;
  private template: V1Pod | null = null;
  private jobId: number | null = null;
  private stopping = false;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private get namespace(): string {
    return this.config.kubernetes.namespace;
  }

  async start(context: { jobId: number | null }): Promise<void> {
    this.jobId = context.jobId;
    this.template = this.config.kubernetes.podTemplateFile ? loadPodTemplate(this.config.kubernetes.podTemplateFile) : null;
    const { kubeConfig, api, k8s } = await kubernetesClient(this.config);
    this.api = api;
    this.k8s = k8s;
    this.watcher = new PodWatcher({
      kubeConfig,
      api,
      namespace: this.namespace,
      labelSelector: `${LABEL_EXECUTOR}=True,${LABEL_SCHEDULER}=${this.jobId ?? 'none'}`,
      onPod: (pod, deleted) => this.onPod(pod, deleted),
      onList: (pods) => this.onList(pods),
      logger: this.logger,
    });
    try {
      await this.watcher.start();
    } catch (error) {
      throw new Error(
        `cannot list pods in namespace '${this.namespace}' through the Kubernetes API at ${kubeConfig.getCurrentCluster()?.server}: ${apiMessage(error)}`,
        { cause: error },
      );
    }
  }

  slotsAvailable(): number {
    return this.stopping ? 0 : Math.max(0, this.config.core.parallelism - this.tracked.size);
  }

  queue(workload: TaskWorkload): void {
    const key = keyOf(workload);
    if (this.tracked.has(key)) return;
    let pod: V1Pod;
    try {
      pod = buildTaskPod(workload, this.config, this.template, this.jobId);
    } catch (error) {
      this.report(workload, 'failed', `cannot build its pod: ${(error as Error).message}`, true);
      return;
    }
    const tracked: Tracked = { workload, podName: pod.metadata!.name!, createdAt: this.now(), created: false, pending: true, unschedulable: null };
    this.tracked.set(key, tracked);
    const creating = this.createPod(tracked, pod).finally(() => this.creating.delete(creating));
    this.creating.add(creating);
  }

  drainEvents(): ExecutorEvent[] {
    return this.events.drain();
  }

  onEvent(listener: () => void): void {
    this.events.onEvent(listener);
  }

  /** Fails tries whose pod stayed Pending past kubernetes.workerPodsPendingTimeout (unschedulable, a node that never came). */
  async heartbeat(): Promise<void> {
    const timeoutMs = this.config.kubernetes.workerPodsPendingTimeout * 1000;
    for (const tracked of [...this.tracked.values()]) {
      if (!tracked.created || !tracked.pending || this.now() - tracked.createdAt < timeoutMs) continue;
      const why = tracked.unschedulable ?? `pod ${tracked.podName} was still Pending`;
      this.finish(tracked, 'failed', `${why} after ${this.config.kubernetes.workerPodsPendingTimeout} s (kubernetes.workerPodsPendingTimeout)`, true);
      await this.deletePod(tracked.podName);
    }
  }

  /**
   * Takes over the pods of schedulers that are gone: a pod whose try is
   * among `workloads` (still queued or running) is relabelled as ours and
   * followed from its current phase; a pod they left whose try is no longer
   * queued or running is deleted (a failed one is kept when
   * kubernetes.deleteWorkerPodsOnFailure is off).
   */
  async adopt(workloads: TaskWorkload[], context: AdoptionContext): Promise<TaskWorkload[]> {
    const api = this.requireApi();
    const orphans = new Map(workloads.map((w) => [keyOf(w), w]));
    const adopted = new Set<string>();
    const { items } = await api.listNamespacedPod({ namespace: this.namespace, labelSelector: `${LABEL_EXECUTOR}=True` });
    for (const workload of workloads) if (this.tracked.has(keyOf(workload))) adopted.add(keyOf(workload));
    for (const pod of items) {
      const owner = Number(pod.metadata?.labels?.[LABEL_SCHEDULER]);
      if (owner === this.jobId || context.liveJobIds.includes(owner)) continue;
      const podKey = podKeyOf(pod);
      const workload = podKey ? orphans.get(keyOf(podKey)) : undefined;
      const name = pod.metadata!.name!;
      if (workload && !pod.metadata?.deletionTimestamp && !this.tracked.has(keyOf(workload))) {
        const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : this.now();
        this.tracked.set(keyOf(workload), { workload, podName: name, createdAt: created, created: true, pending: true, unschedulable: null });
        adopted.add(keyOf(workload));
        try {
          // Conditional on the listed version: if another scheduler relabelled it first, ours fails with 409.
          await this.relabelAsOurs(name, pod.metadata?.resourceVersion);
          this.logger.info(`adopted pod ${name} of scheduler job ${owner}`);
        } catch (error) {
          this.tracked.delete(keyOf(workload));
          adopted.delete(keyOf(workload));
          this.logger.warn(`could not adopt pod ${name}: ${apiMessage(error)}`);
        }
      } else if (!workload && !(podKey && context.isActive(podKey.tiId, podKey.tryNumber))) {
        // (A try still queued or running, e.g. one another scheduler is adopting right now, keeps its pod.)
        const outcome = podOutcome(pod);
        if (outcome.kind === 'failed' && !outcome.neverStarted && !this.config.kubernetes.deleteWorkerPodsOnFailure) continue;
        this.logger.info(`deleting pod ${name}, left by scheduler job ${owner}: its try is no longer queued or running`);
        await this.deletePod(name);
      }
    }
    return workloads.filter((w) => !adopted.has(keyOf(w)));
  }

  /** Stops launching and watching. Pods keep running: the next scheduler adopts them. */
  async end(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.creating]);
    this.watcher?.stop();
  }

  async terminate(): Promise<void> {
    await this.end();
  }

  /**
   * Creates the try's pod. An API server that is busy or briefly down (429,
   * 5xx, no answer) or a namespace quota that is full for now gets a few more
   * attempts over ~7 s before the try fails; the slot stays taken meanwhile.
   */
  private async createPod(tracked: Tracked, pod: V1Pod): Promise<void> {
    const api = this.requireApi();
    for (let attempt = 1; ; attempt++) {
      try {
        await api.createNamespacedPod({ namespace: this.namespace, body: pod });
        tracked.created = true;
        tracked.createdAt = this.now(); // the pending timeout counts from here, not from the first attempt
        return;
      } catch (error) {
        if (apiStatus(error) === 409) {
          // The pod name is fixed per try, so the try already has a pod (perhaps from an attempt whose
          // answer was lost): follow it rather than start a second one.
          await this.followExisting(tracked);
          return;
        }
        if (attempt < CREATE_ATTEMPTS && isTransient(error) && !this.stopping) {
          const delayMs = 500 * 2 ** (attempt - 1);
          this.logger.warn(`creating pod ${tracked.podName} failed (${apiMessage(error)}); trying again in ${delayMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          continue;
        }
        this.finish(tracked, 'failed', `could not create pod ${tracked.podName}: ${apiMessage(error)}`, true);
        return;
      }
    }
  }

  private async followExisting(tracked: Tracked): Promise<void> {
    const api = this.requireApi();
    try {
      const pod = await api.readNamespacedPod({ name: tracked.podName, namespace: this.namespace });
      tracked.created = true;
      if (pod.metadata?.labels?.[LABEL_SCHEDULER] !== String(this.jobId)) {
        await this.relabelAsOurs(tracked.podName);
      } else {
        this.onPod(pod, false);
      }
    } catch (error) {
      this.finish(tracked, 'failed', `pod ${tracked.podName} exists but cannot be followed: ${apiMessage(error)}`, true);
    }
  }

  private onPod(pod: V1Pod, deleted: boolean): void {
    const podKey = podKeyOf(pod);
    const tracked = podKey ? this.tracked.get(keyOf(podKey)) : undefined;
    if (!tracked) return;
    if (deleted && pod.metadata?.labels?.[LABEL_SCHEDULER] !== String(this.jobId)) {
      // Relabelled by another scheduler (it adopted the pod): no longer ours to follow, not gone.
      this.tracked.delete(keyOf(podKey!));
      return;
    }
    const outcome = podOutcome(pod);
    if (deleted && (outcome.kind === 'pending' || outcome.kind === 'running')) {
      this.finish(tracked, 'failed', `pod ${tracked.podName} was deleted before it finished`, true);
      return;
    }
    switch (outcome.kind) {
      case 'pending':
        tracked.unschedulable = outcome.unschedulable;
        return;
      case 'running':
        tracked.unschedulable = null;
        tracked.pending = false;
        return;
      case 'succeeded':
        this.finish(tracked, 'success', outcome.info, false);
        if (!deleted && this.config.kubernetes.deleteWorkerPods) void this.deletePod(tracked.podName);
        return;
      case 'failed':
        // The runner writes its own log; a pod that never started (or was killed) has only this line to explain itself.
        this.finish(tracked, 'failed', outcome.info, true);
        if (!deleted && (outcome.neverStarted || (this.config.kubernetes.deleteWorkerPods && this.config.kubernetes.deleteWorkerPodsOnFailure)))
          void this.deletePod(tracked.podName);
        return;
    }
  }

  /** After a (re-)list: tries whose pod no longer exists (deleted while we were not watching) have failed. */
  private onList(pods: V1Pod[]): void {
    const present = new Set<string>();
    for (const pod of pods) {
      const podKey = podKeyOf(pod);
      if (podKey) present.add(keyOf(podKey));
      this.onPod(pod, false);
    }
    for (const [key, tracked] of this.tracked) {
      if (tracked.created && !present.has(key)) this.finish(tracked, 'failed', `pod ${tracked.podName} disappeared before it finished`, true);
    }
  }

  private finish(tracked: Tracked, outcome: 'success' | 'failed', info: string, writeToTaskLog: boolean): void {
    const key = keyOf(tracked.workload);
    if (this.tracked.get(key) !== tracked) return;
    this.tracked.delete(key);
    this.report(tracked.workload, outcome, info, writeToTaskLog);
  }

  private report(workload: TaskWorkload, outcome: 'success' | 'failed', info: string, writeToTaskLog: boolean): void {
    if (outcome === 'failed') this.logger.warn(`${workload.dagId}.${workload.taskId} (${workload.runId}, try ${workload.tryNumber}): ${info}`);
    if (writeToTaskLog) this.appendToTaskLog(workload, info);
    this.events.push({ tiId: workload.tiId, outcome, info, tryNumber: workload.tryNumber }, true);
  }

  /** Adds the executor's finding to the try's log, where the person looking at a failed task reads first. */
  private appendToTaskLog(workload: TaskWorkload, info: string): void {
    try {
      const log = new TaskLog(taskLogPath(this.config.logging.baseLogFolder, workload));
      log.write('ERROR', 'kubernetes_executor', info);
      log.close();
    } catch (error) {
      this.logger.warn(`could not write to the task log of ${workload.dagId}.${workload.taskId}: ${(error as Error).message}`);
    }
  }

  private async deletePod(name: string): Promise<void> {
    try {
      await this.requireApi().deleteNamespacedPod({ name, namespace: this.namespace });
    } catch (error) {
      if (apiStatus(error) !== 404) this.logger.warn(`could not delete pod ${name}: ${apiMessage(error)}`);
    }
  }

  /**
   * Puts our job id on a pod, so our watch sees it (as ADDED, in whatever phase it is now). A merge
   * patch: the client sends JSON patch by default, which a plain object is not.
   */
  private async relabelAsOurs(name: string, resourceVersion?: string): Promise<void> {
    const k8s = this.k8s!;
    const metadata = { labels: { [LABEL_SCHEDULER]: String(this.jobId) }, ...(resourceVersion ? { resourceVersion } : {}) };
    await this.requireApi().patchNamespacedPod(
      { name, namespace: this.namespace, body: { metadata } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  private requireApi(): CoreV1Api {
    if (!this.api) throw new Error('the KubernetesExecutor has not been started');
    return this.api;
  }
}
