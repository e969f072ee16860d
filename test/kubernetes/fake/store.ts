/**
 * The pods and their change history. Every change gets the next global
 * resourceVersion and is kept (up to a limit) so that a watch can resume from
 * an older version, as from the API server's watch cache.
 *
 * Stored objects are never mutated in place: each change stores a new copy,
 * so history entries stay true snapshots.
 */
import { clone, type PodJson, type WatchEventType } from './types.ts';

export interface StoredEvent {
  type: WatchEventType;
  object: PodJson;
  /** The object before this change (MODIFIED and DELETED), for selector transitions. */
  previous?: PodJson;
  resourceVersion: number;
}

export type Resume = { events: StoredEvent[] } | { expired: true; oldest: number };

const key = (namespace: string, name: string) => `${namespace}/${name}`;

export class PodStore {
  private readonly pods = new Map<string, PodJson>();
  private readonly history: StoredEvent[] = [];
  private readonly listeners = new Set<(event: StoredEvent) => void>();
  private version = 1;
  /** Every event after this version is still in `history`. */
  private floor = 1;

  constructor(private readonly historyLimit: number) {}

  get resourceVersion(): number {
    return this.version;
  }

  get(namespace: string, name: string): PodJson | undefined {
    return this.pods.get(key(namespace, name));
  }

  /** Pods sorted by namespace/name, like an etcd range read. */
  list(predicate: (pod: PodJson) => boolean = () => true): PodJson[] {
    return [...this.pods.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, pod]) => pod)
      .filter(predicate);
  }

  create(pod: PodJson): PodJson {
    const stored = this.stamp(clone(pod));
    this.pods.set(key(stored.metadata.namespace, stored.metadata.name), stored);
    this.emit({ type: 'ADDED', object: stored, resourceVersion: this.version });
    return stored;
  }

  /** Stores `next` in place of the current object; a MODIFIED event. */
  replace(next: PodJson): PodJson {
    const k = key(next.metadata.namespace, next.metadata.name);
    const previous = this.pods.get(k);
    if (!previous) throw new Error(`no pod ${k}`);
    const stored = this.stamp(clone(next));
    this.pods.set(k, stored);
    this.emit({ type: 'MODIFIED', object: stored, previous, resourceVersion: this.version });
    return stored;
  }

  /** Applies `change` to a copy of the pod with this uid, if it still exists. */
  update(namespace: string, name: string, uid: string, change: (pod: PodJson) => void): PodJson | undefined {
    const current = this.get(namespace, name);
    if (!current || current.metadata.uid !== uid) return undefined;
    const next = clone(current);
    change(next);
    return this.replace(next);
  }

  /** Removes the pod; the DELETED event carries its final state at a new version. */
  remove(namespace: string, name: string): PodJson | undefined {
    const k = key(namespace, name);
    const previous = this.pods.get(k);
    if (!previous) return undefined;
    this.pods.delete(k);
    const object = this.stamp(clone(previous));
    this.emit({ type: 'DELETED', object, previous, resourceVersion: this.version });
    return object;
  }

  /** The kept events after `version`, or `expired` when some of them were dropped. */
  since(version: number): Resume {
    if (version < this.floor) return { expired: true, oldest: this.floor };
    return { events: this.history.filter((e) => e.resourceVersion > version) };
  }

  forgetHistory(): void {
    this.history.length = 0;
    this.floor = this.version;
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private stamp(pod: PodJson): PodJson {
    this.version += 1;
    pod.metadata.resourceVersion = String(this.version);
    return pod;
  }

  private emit(event: StoredEvent): void {
    this.history.push(event);
    while (this.history.length > this.historyLimit) this.floor = this.history.shift()!.resourceVersion;
    for (const listener of [...this.listeners]) listener(event);
  }
}
