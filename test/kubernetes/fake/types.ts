/**
 * The pod as it travels on the wire (JSON): timestamps are RFC 3339 strings,
 * unlike the client's V1Pod model which turns them into Date objects. Only the
 * fields the fake reads or writes are named; everything else passes through.
 */
export interface PodJson {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: PodMetadata;
  spec: PodSpec;
  status: PodStatus;
}

export interface PodMetadata {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  [field: string]: unknown;
}

export interface PodSpec {
  containers: ContainerJson[];
  nodeSelector?: Record<string, string>;
  nodeName?: string;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
  restartPolicy?: string;
  [field: string]: unknown;
}

export interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface ContainerJson {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVarJson[];
  envFrom?: { prefix?: string; secretRef?: { name: string; optional?: boolean }; configMapRef?: { name: string; optional?: boolean } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [field: string]: unknown;
}

export interface EnvVarJson {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export interface PodStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatusJson[];
  startTime?: string;
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  [field: string]: unknown;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastProbeTime: string | null;
  lastTransitionTime: string;
}

export interface ContainerStatusJson {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerStateJson;
}

export type ContainerStateJson =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; signal?: number; reason: string; message?: string; startedAt?: string; finishedAt: string } };

/** How to run an image locally: its entrypoint, and optionally a working directory and environment. */
export interface FakeImage {
  entrypoint: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** Every pod and the node share the loopback address. */
export const POD_IP = '127.0.0.1';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Kubernetes timestamps are RFC 3339 with whole seconds. */
export function timestamp(at: Date = new Date()): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
