/**
 * The kubelet of the fake's single node: binds a pod that fits (scheduler.ts),
 * "pulls" its image (looks it up in the configured images), and runs its first
 * container as a local process in its own process group, reporting each step
 * as a status change (so as a MODIFIED event).
 *
 * Simplifications: only the first container runs (any others stay waiting in
 * ContainerCreating); restartPolicy is treated as Never (no restarts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { ContainerConfigError, containerEnvironment, expandVars } from './environment.ts';
import { PodLog } from './podLog.ts';
import { unschedulable } from './scheduler.ts';
import type { PodStore } from './store.ts';
import { POD_IP, timestamp, type ContainerJson, type ContainerStatusJson, type FakeImage, type PodCondition, type PodJson } from './types.ts';

export interface KubeletOptions {
  images: Record<string, FakeImage>;
  nodeName: string;
  nodeLabels: Record<string, string>;
  nodeCpu: string;
  secrets: Record<string, Record<string, string>>;
  deleteGraceMs: number;
}

interface Container {
  pod: PodRef;
  child: ChildProcess;
  log: PodLog;
  startedAt?: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  deleting: boolean;
  killTimer?: NodeJS.Timeout;
  closed: Promise<void>;
}

interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

function condition(type: string, status: PodCondition['status'], reason?: string, message?: string): PodCondition {
  return { type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastProbeTime: null, lastTransitionTime: timestamp() };
}

/** Replaces conditions of the same type, keeping their transition time when the status did not change. */
function setConditions(pod: PodJson, ...conditions: PodCondition[]): void {
  const existing = pod.status.conditions ?? [];
  for (const c of conditions) {
    const old = existing.find((e) => e.type === c.type);
    if (old && old.status === c.status) c.lastTransitionTime = old.lastTransitionTime;
  }
  const types = new Set(conditions.map((c) => c.type));
  pod.status.conditions = [...existing.filter((e) => !types.has(e.type)), ...conditions];
}

export class FakeKubelet {
  /** Running (or exiting) containers by pod uid. */
  private readonly containers = new Map<string, Container>();
  /** Logs by pod uid, kept until the pod is removed. */
  private readonly logs = new Map<string, PodLog>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly store: PodStore,
    private readonly options: KubeletOptions,
  ) {}

  /** Starts the life cycle of a newly created pod (asynchronously, so each step is its own event). */
  admit(pod: PodJson): void {
    const ref = { namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
    this.later(0, () => this.schedule(ref));
  }

  logOf(pod: PodJson): PodLog | undefined {
    return this.logs.get(pod.metadata.uid);
  }

  /**
   * Deletes a pod: a running one gets a deletionTimestamp, SIGTERM and, after
   * the grace period, SIGKILL, and is removed once its process is gone; any
   * other pod is removed at once. Returns the pod as the DELETE answer shows it.
   */
  delete(pod: PodJson, gracePeriodSeconds: number | undefined): PodJson {
    const uid = pod.metadata.uid;
    const container = this.containers.get(uid);
    const graceMs = Math.min(this.options.deleteGraceMs, gracePeriodSeconds === undefined ? Infinity : gracePeriodSeconds * 1000);
    if (!container) {
      this.logs.delete(uid);
      return this.store.remove(pod.metadata.namespace, pod.metadata.name) ?? pod;
    }
    if (container.deleting) {
      // A second delete may only shorten the grace period.
      if (graceMs < this.options.deleteGraceMs) this.scheduleKill(container, graceMs);
      return pod;
    }
    container.deleting = true;
    const marked = this.store.update(pod.metadata.namespace, pod.metadata.name, uid, (p) => {
      p.metadata.deletionTimestamp = timestamp(new Date(Date.now() + graceMs));
      p.metadata.deletionGracePeriodSeconds = Math.ceil(graceMs / 1000);
    });
    this.signal(container, 'SIGTERM');
    this.scheduleKill(container, graceMs);
    return marked ?? pod;
  }

  /** SIGKILLs every pod process group and waits (briefly) for them to be gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closing = [...this.containers.values()].map((c) => {
      clearTimeout(c.killTimer);
      this.signal(c, 'SIGKILL');
      return c.closed;
    });
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  private later(ms: number, action: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) action();
    }, ms);
    this.timers.add(timer);
  }

  private update(ref: PodRef, change: (pod: PodJson) => void): PodJson | undefined {
    return this.store.update(ref.namespace, ref.name, ref.uid, change);
  }

  private schedule(ref: PodRef): void {
    const pod = this.store.get(ref.namespace, ref.name);
    if (!pod || pod.metadata.uid !== ref.uid) return;
    const why = unschedulable(pod, { labels: this.options.nodeLabels, cpu: this.options.nodeCpu });
    if (why) {
      // Pending for good: nothing on the fake node ever frees up.
      this.update(ref, (p) => setConditions(p, condition('PodScheduled', 'False', 'Unschedulable', why)));
      return;
    }
    this.update(ref, (p) => {
      p.spec.nodeName = this.options.nodeName;
      p.status.hostIP = POD_IP;
      p.status.startTime = timestamp();
      setConditions(
        p,
        condition('Initialized', 'True'),
        condition('Ready', 'False', 'ContainersNotReady', `containers with unready status: [${p.spec.containers.map((c) => c.name).join(' ')}]`),
        condition('ContainersReady', 'False', 'ContainersNotReady', `containers with unready status: [${p.spec.containers.map((c) => c.name).join(' ')}]`),
        condition('PodScheduled', 'True'),
      );
      p.status.containerStatuses = p.spec.containers.map((c) => waiting(c, 'ContainerCreating'));
    });
    this.later(0, () => this.start(ref));
  }

  private setWaiting(ref: PodRef, reason: string, message: string): void {
    this.update(ref, (p) => {
      p.status.containerStatuses![0] = waiting(p.spec.containers[0]!, reason, message);
    });
  }

  private start(ref: PodRef): void {
    const pod = this.store.get(ref.namespace, ref.name);
    if (!pod || pod.metadata.uid !== ref.uid || pod.metadata.deletionTimestamp) return;
    const spec = pod.spec.containers[0]!;
    const image = this.options.images[spec.image];
    if (!image) {
      this.setWaiting(
        ref,
        'ErrImagePull',
        `failed to pull and unpack image "${spec.image}": failed to resolve reference "${spec.image}": ${spec.image}: not found`,
      );
      this.later(300, () => this.setWaiting(ref, 'ImagePullBackOff', `Back-off pulling image "${spec.image}"`));
      return;
    }
    let env: Record<string, string>;
    try {
      env = containerEnvironment(pod, spec, image, this.options.secrets);
    } catch (error) {
      if (!(error instanceof ContainerConfigError)) throw error;
      this.setWaiting(ref, 'CreateContainerConfigError', error.message);
      return;
    }
    const expand = (arg: string) => expandVars(arg, env);
    const argv = [...(spec.command ?? image.entrypoint).map(expand), ...(spec.args ?? []).map(expand)];
    const cwd = image.cwd ?? spec.workingDir ?? process.cwd();
    const child = spawn(argv[0] ?? '', argv.slice(1), {
      cwd,
      env,
      detached: true, // its own process group, so the whole "container" can be signalled
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = new PodLog();
    this.logs.set(ref.uid, log);
    let closed!: () => void;
    const container: Container = { pod: ref, child, log, deleting: false, closed: new Promise((r) => (closed = r)) };
    this.containers.set(ref.uid, container);
    child.stdout!.on('data', (chunk: Buffer) => log.append(chunk));
    child.stderr!.on('data', (chunk: Buffer) => log.append(chunk));

    child.on('spawn', () => {
      container.startedAt = timestamp();
      this.update(ref, (p) => {
        p.status.phase = 'Running';
        p.status.podIP = POD_IP;
        p.status.podIPs = [{ ip: POD_IP }];
        setConditions(p, condition('Ready', 'True'), condition('ContainersReady', 'True'));
        p.status.containerStatuses![0] = {
          ...p.status.containerStatuses![0]!,
          containerID: `fake://${child.pid}`,
          imageID: `fake://${spec.image}`,
          ready: true,
          started: true,
          state: { running: { startedAt: container.startedAt! } },
        };
      });
    });
    child.on('error', (error) => {
      if (container.startedAt) return; // a failed kill; the exit still comes
      // Node blames the program when it is the working directory that is missing.
      const message = existsSync(cwd) ? error.message : `chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: no such file or directory`;
      this.finish(container, { exitCode: 128, reason: 'StartError', message });
      closed();
    });
    child.on('exit', (code, signal) => {
      container.exit = { code, signal };
      // PID 1 is gone, so the container's other processes go too, as in a real runtime.
      this.signal(container, 'SIGKILL');
      // Pipes held open by a process that escaped the group must not keep the pod running.
      const unstick = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 2_000);
      child.once('close', () => clearTimeout(unstick));
    });
    child.on('close', () => {
      if (!container.exit) return; // spawn failure, handled by 'error'
      const { code, signal } = container.exit;
      const exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      this.finish(container, { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' });
      closed();
    });
  }

  /** The container's end: terminated status, and removal if the pod was being deleted. */
  private finish(container: Container, end: { exitCode: number; reason: string; message?: string }): void {
    const { pod: ref } = container;
    clearTimeout(container.killTimer);
    this.containers.delete(ref.uid);
    container.log.end();
    if (this.stopped) return;
    this.update(ref, (p) => {
      p.status.phase = end.exitCode === 0 ? 'Succeeded' : 'Failed';
      setConditions(p, condition('Ready', 'False', 'PodCompleted'), condition('ContainersReady', 'False', 'PodCompleted'));
      p.status.containerStatuses![0] = {
        ...p.status.containerStatuses![0]!,
        ready: false,
        started: false,
        state: {
          terminated: {
            exitCode: end.exitCode,
            reason: end.reason,
            ...(end.message ? { message: end.message } : {}),
            ...(container.startedAt ? { startedAt: container.startedAt } : {}),
            finishedAt: timestamp(),
          },
        },
      };
    });
    if (container.deleting) {
      this.logs.delete(ref.uid);
      const pod = this.store.get(ref.namespace, ref.name);
      if (pod?.metadata.uid === ref.uid) this.store.remove(ref.namespace, ref.name);
    }
  }

  private scheduleKill(container: Container, graceMs: number): void {
    clearTimeout(container.killTimer);
    container.killTimer = setTimeout(() => this.signal(container, 'SIGKILL'), graceMs);
  }

  private signal(container: Container, signal: NodeJS.Signals): void {
    const pid = container.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

function waiting(container: ContainerJson, reason: string, message?: string): ContainerStatusJson {
  return {
    name: container.name,
    image: container.image,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting: { reason, ...(message ? { message } : {}) } },
  };
}
