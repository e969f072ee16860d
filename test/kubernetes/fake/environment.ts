/** A container's environment, resolved the way the kubelet does it. */
import { POD_IP, type ContainerJson, type FakeImage, type PodJson } from './types.ts';

/** A reference the kubelet cannot resolve: the container waits in CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/**
 * The container's environment: PATH and HOME only from the test process
 * (a pod must not see the test's variables), then the image's, HOSTNAME, and
 * the container's envFrom and env, in that order.
 */
export function containerEnvironment(
  pod: PodJson,
  spec: ContainerJson,
  image: FakeImage,
  secrets: Record<string, Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME']) if (process.env[name] !== undefined) env[name] = process.env[name];
  Object.assign(env, image.env, { HOSTNAME: pod.metadata.name });
  const { namespace } = pod.metadata;
  // $(VAR) references see only the container's own variables, as in Kubernetes.
  const own: Record<string, string> = {};
  const set = (name: string, value: string) => {
    own[name] = value;
    env[name] = value;
  };
  for (const source of spec.envFrom ?? []) {
    if (source.secretRef) {
      const secret = secrets[`${namespace}/${source.secretRef.name}`];
      if (!secret) {
        if (source.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${source.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(secret)) set(`${source.prefix ?? ''}${k}`, v);
    } else if (source.configMapRef && !source.configMapRef.optional) {
      throw new ContainerConfigError(`configmap "${source.configMapRef.name}" not found`);
    }
  }
  for (const entry of spec.env ?? []) {
    const from = entry.valueFrom;
    if (!from) {
      set(entry.name, expandVars(entry.value ?? '', own));
    } else if (from.secretKeyRef) {
      const { name, key, optional } = from.secretKeyRef;
      const secret = secrets[`${namespace}/${name}`];
      if (!secret) {
        if (optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      if (!Object.hasOwn(secret, key)) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in Secret ${namespace}/${name}`);
      }
      set(entry.name, secret[key]!);
    } else if (from.configMapKeyRef) {
      if (from.configMapKeyRef.optional) continue;
      throw new ContainerConfigError(`configmap "${from.configMapKeyRef.name}" not found`);
    } else if (from.fieldRef) {
      set(entry.name, fieldValue(pod, from.fieldRef.fieldPath));
    } else {
      throw new ContainerConfigError(`unsupported valueFrom for env ${entry.name}`);
    }
  }
  return env;
}

function fieldValue(pod: PodJson, path: string): string {
  const mapEntry = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (mapEntry) return pod.metadata[mapEntry[1] as 'labels' | 'annotations']?.[mapEntry[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return String(pod.spec.serviceAccountName ?? '');
    case 'status.podIP':
    case 'status.hostIP':
      return POD_IP;
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
  }
}

/** Kubernetes' $(VAR) expansion: known names are replaced, `$$` escapes, anything else stays. */
export function expandVars(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.hasOwn(vars, name) ? vars[name]! : match;
  });
}
